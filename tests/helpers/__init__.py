"""Helpers shared by more than one test file; fixtures stay in the ``conftest.py`` files."""
