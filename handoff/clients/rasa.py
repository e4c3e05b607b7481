"""Rasa, as the handoff service sees it: every call to the bot goes through here.

- :func:`replies`: the bot's answer to one customer message and what it understood of it
  (the handoff channel, ``bot/channels.py``: Rasa's REST channel behind the install's
  token);
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
from contracts.understanding import TURN_PATH
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
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The bot's replies to one (redacted) message, and what it understood of it
    (``contracts.understanding``); ``email_digests`` stand for the addresses redacted
    from the message, so the bot can check one without seeing it."""
    url = _url(settings, TURN_PATH)
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
    said = answer.get("messages") if isinstance(answer, dict) else None
    if not isinstance(said, list):
        raise ValueError("Rasa's answer holds no list of messages")
    understood = answer.get("understanding")
    return [r for r in said if isinstance(r, dict)], (
        understood if isinstance(understood, dict) else None
    )


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


async def status(http: aiohttp.ClientSession, settings: Settings) -> dict[str, Any]:
    """Rasa's ``/status``: the model it serves (``model_file``, ``model_id``)."""
    url = _url(settings, "/status")
    params = {"token": settings.rasa_token}
    try:
        async with http.get(url, params=params, timeout=TIMEOUT) as response:
            if response.status != 200:
                raise RuntimeError(f"Rasa answered {response.status}")
            answer = await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError, ValueError) as error:
        raise ApiError(
            502, "rasa_unavailable", f"The assistant cannot be reached ({error})."
        ) from error
    return answer if isinstance(answer, dict) else {}


async def load_model(http: aiohttp.ClientSession, settings: Settings, model_file: str) -> None:
    """Make Rasa serve ``model_file`` (``PUT /model``); conversations carry on, their
    trackers stay where they are."""
    url = _url(settings, "/model")
    params = {"token": settings.rasa_token}
    timeout = aiohttp.ClientTimeout(total=120)  # loading a model takes seconds
    try:
        async with http.put(
            url, json={"model_file": model_file}, params=params, timeout=timeout
        ) as response:
            if response.status != 204:
                detail = (await response.text())[:300]
                raise RuntimeError(f"Rasa answered {response.status}: {detail}")
    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
        logger.warning("Rasa did not load %s: %s", model_file, error)
        raise ApiError(
            502, "model_not_loaded", f"The assistant did not take the new model: {error}"
        ) from error
