"""The handoff service's door into Rasa: the REST channel, open only with the install's token.

Rasa's own REST channel answers anyone who can reach it, around the handoff service, its
redaction and its rate limits. This one (``POST /webhooks/handoff/webhook``) takes the
same body, metadata included, and refuses a request without ``Authorization: Bearer
<token>``; credentials.yml gives it the token from ``RASA_TOKEN``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse


class HandoffInput(RestInput):
    """Rasa's REST channel behind a bearer token."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> HandoffInput:
        return cls(str((credentials or {}).get("token") or ""))

    def allows(self, request: Request) -> bool:
        """Whether the request carries the token (no token configured: nobody is let in)."""
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def only_with_token(request: Request) -> HTTPResponse | None:
            if self.allows(request):
                return None
            error = {"code": "unauthorized", "message": "Send the install's Rasa token."}
            return response.json({"error": error}, status=401)

        return webhook
