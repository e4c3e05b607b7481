"""Custom actions of the Larkspur support assistant (run by ``rasa run actions``)."""
