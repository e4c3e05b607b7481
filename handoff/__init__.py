"""The handoff service: where escalated conversations wait for a person (issue 4)."""
