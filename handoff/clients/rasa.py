"""Rasa, as the handoff service sees it: every call to the bot goes through here.

- :func:`replies`: the bot's answer to one customer message (the handoff channel,
  ``bot/channels.py``: Rasa's REST channel behind the install's token);
- :func:`latest_intent`: what Rasa made of the last message (its HTTP API's tracker);
- :func:`resume`: hand a conversation back to the bot (its HTTP API's tracker events).

Both send ``rasa_token``; the text is redacted before it gets here (``handoff.redact``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from contracts.pii import EMAIL_DIGESTS
from handoff.errors import ApiError
from handoff.settings import Settings

logger = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=5)
# A first answer may wait for the action server and the model: give it longer.
REPLY_TIMEOUT = aiohttp.ClientTimeout(total=30)


def _url(settings: Settings, path: str) -> str:
    return f"{settings.rasa_url.rstrip('/')}{path}"


async def replies(
    http: aiohttp.ClientSession,
    settings: Settings,
    conversation_id: str,
    text: str,
    email_digests: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The bot's replies to one (redacted) message; ``email_digests`` stand for the
    addresses redacted from it, so the bot can check one without seeing it."""
    url = _url(settings, "/webhooks/handoff/webhook")
    body = {
        "sender": conversation_id,
        "message": text,
        "metadata": {EMAIL_DIGESTS: email_digests or []},
    }
    headers = {"Authorization": f"Bearer {settings.rasa_token}"}
    async with http.post(url, json=body, headers=headers, timeout=REPLY_TIMEOUT) as response:
        if response.status != 200:
            raise ValueError(f"Rasa answered {response.status}")
        answer = await response.json()
    if not isinstance(answer, list):
        raise ValueError("Rasa's answer is not a list of messages")
    return [r for r in answer if isinstance(r, dict)]


async def latest_intent(
    http: aiohttp.ClientSession, settings: Settings, conversation_id: str
) -> str | None:
    """The intent Rasa read in the conversation's last message; None if it cannot say."""
    url = _url(settings, f"/conversations/{conversation_id}/tracker")
    params = {"include_events": "NONE", "token": settings.rasa_token}
    try:
        async with http.get(url, params=params, timeout=TIMEOUT) as response:
            if response.status != 200:
                return None
            tracker = await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return None
    intent = (tracker.get("latest_message") or {}).get("intent") or {}
    name = intent.get("name")
    return name if isinstance(name, str) else None


async def resume(
    http: aiohttp.ClientSession,
    settings: Settings,
    conversation_id: str,
    summary: str,
    slots: dict[str, Any] | None = None,
) -> None:
    """Append ``ConversationResumed`` and the agent's summary to the conversation's tracker.

    The summary goes into the ``agent_summary`` slot, and ``slots`` (such as the order
    the conversation was about) into theirs, so the bot does not ask the customer again.
    """
    events = [
        {"event": "resume"},
        {"event": "slot", "name": "agent_summary", "value": summary},
        *({"event": "slot", "name": name, "value": value} for name, value in (slots or {}).items()),
        # The bot's last action was the handoff; listening now makes the next customer
        # message a fresh turn instead of the tail of the handoff.
        {"event": "action", "name": "action_listen"},
    ]
    url = _url(settings, f"/conversations/{conversation_id}/tracker/events")
    params = {"token": settings.rasa_token} if settings.rasa_token else {}
    try:
        async with http.post(url, json=events, params=params, timeout=TIMEOUT) as response:
            if response.status >= 300:
                detail = (await response.text())[:300]
                raise RuntimeError(f"Rasa answered {response.status}: {detail}")
    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
        logger.warning("could not resume %s in Rasa: %s", conversation_id, error)
        raise ApiError(
            502,
            "rasa_unavailable",
            "The assistant cannot be reached, so the chat stays with you; try again shortly.",
        ) from error
