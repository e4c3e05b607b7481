"""The e2e tests use the session-wide ``stack`` fixture from tests/conftest.py."""
