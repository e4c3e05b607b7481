"""A customer talking to the running assistant over the handoff channel (``bot/channels.py``:
Rasa's REST channel behind the install's token), as the handoff service does."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

from tools.serve import Stack


class Customer:
    """One chat session on the handoff channel."""

    def __init__(self, stack: Stack) -> None:
        self.rasa_url, self.token = stack.rasa_url, stack.keys.rasa_token
        self.url = f"{stack.rasa_url}/webhooks/handoff/webhook"
        self.sender = f"test-{uuid.uuid4().hex[:8]}"

    def say(self, message: str, metadata: dict[str, Any] | None = None) -> list[str]:
        """Send a message; return the texts of the replies (Rasa splits at blank lines)."""
        body = json.dumps({"sender": self.sender, "message": message, "metadata": metadata or {}})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        request = urllib.request.Request(self.url, body.encode(), headers)  # noqa: S310 - an http URL on loopback, built here
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - an http URL on loopback, built here
            assert response.status == 200
            return [m.get("text", "") for m in json.loads(response.read())]

    def tracker(self) -> dict[str, Any]:
        """The conversation as Rasa stored it."""
        url = f"{self.rasa_url}/conversations/{self.sender}/tracker?token={self.token}"
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - an http URL on loopback, built here
            return json.loads(response.read())
