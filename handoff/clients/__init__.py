"""Clients for the services the handoff service calls: one module per service."""
