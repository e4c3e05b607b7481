"""Custom Rasa components and build helpers for the Larkspur support assistant."""
