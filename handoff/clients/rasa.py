"""Rasa, as the handoff service sees it: every call to the bot goes through here.

- :func:`replies`: the bot's answer to one customer message and what it understood of it
  (the handoff channel, ``bot/channels.py``: Rasa's REST channel behind the install's
  token);
- :func:`latest_intent`: what Rasa made of the last message (its HTTP API's tracker);
- :func:`resume`: hand a conversation back to the bot (its HTTP API's tracker events).

Both send ``rasa_token``; the text is redacted before it gets here (``handoff.redact``).

With several Rasa servers (``HANDOFF_RASA_URL`` lists them, comma-separated), each
conversation goes to one of them, chosen by rendezvous hashing of its id (the highest
``sha256(url, conversation)`` wins: adding or losing a server moves only the
conversations that were on it), and to the next in that order when it cannot be
reached. Two open-source Rasa servers answering the same sender at once would race on its
tracker (RasaHQ/rasa#9213), so a conversation is never spread over them; the tracker
store they share carries its context to the next one. A server that refused a connection
is skipped for ``DOWN_S``. Publishing loads the model into every one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from contracts.pii import EMAIL_DIGESTS
from contracts.understanding import TURN_PATH
from handoff.errors import ApiError
from handoff.settings import Settings

logger = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=5)
# A first answer may wait for the action server and the model: give it longer.
REPLY_TIMEOUT = aiohttp.ClientTimeout(total=30)
DOWN_S = 5.0
# A server that could not be reached: the next one answers. Not a timeout: a server that
# is slow may be answering, and asking another would answer the customer twice.
UNREACHABLE = (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError)
T = TypeVar("T")
_down: dict[str, float] = {}  # server → until when it is skipped


def servers(settings: Settings) -> list[str]:
    return [u.strip().rstrip("/") for u in settings.rasa_url.split(",") if u.strip()]


def ranked(settings: Settings, conversation_id: str) -> list[str]:
    """The servers in the order this conversation tries them (rendezvous hashing)."""

    def weight(server: str) -> bytes:
        return hashlib.sha256(f"{server}\0{conversation_id}".encode()).digest()

    order = sorted(servers(settings), key=weight, reverse=True)
    now = time.monotonic()
    return [u for u in order if _down.get(u, 0) <= now] + [
        u for u in order if _down.get(u, 0) > now
    ]


async def _first_reachable(
    settings: Settings, conversation_id: str, call: Callable[[str], Awaitable[T]]
) -> T:
    """``call(server)`` on the conversation's server, or the next when it is unreachable."""
    order = ranked(settings, conversation_id)
    for server in order:
        try:
            return await call(server)
        except UNREACHABLE as error:
            _down[server] = time.monotonic() + DOWN_S
            if server == order[-1]:
                raise
            logger.warning(
                "Rasa at %s unreachable (%s): %s goes to the next", server, error, conversation_id
            )
    raise RuntimeError("no Rasa server is configured (HANDOFF_RASA_URL)")


def _url(settings: Settings, path: str, server: str | None = None) -> str:
    return f"{server or servers(settings)[0]}{path}"


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
    body = {
        "sender": conversation_id,
        "message": text,
        "metadata": {EMAIL_DIGESTS: email_digests or []},
    }
    headers = {"Authorization": f"Bearer {settings.rasa_token}"}

    async def ask(server: str) -> Any:
        url = _url(settings, TURN_PATH, server)
        async with http.post(url, json=body, headers=headers, timeout=REPLY_TIMEOUT) as response:
            if response.status != 200:
                raise ValueError(f"Rasa answered {response.status}")
            return await response.json()

    answer = await _first_reachable(settings, conversation_id, ask)
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
    params = {"include_events": "NONE", "token": settings.rasa_token}

    async def read(server: str) -> Any:
        url = _url(settings, f"/conversations/{conversation_id}/tracker", server)
        async with http.get(url, params=params, timeout=TIMEOUT) as response:
            return await response.json() if response.status == 200 else {}

    try:
        tracker = await _first_reachable(settings, conversation_id, read)
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
    params = {"token": settings.rasa_token} if settings.rasa_token else {}

    async def append(server: str) -> None:
        url = _url(settings, f"/conversations/{conversation_id}/tracker/events", server)
        async with http.post(url, json=events, params=params, timeout=TIMEOUT) as response:
            if response.status >= 300:
                detail = (await response.text())[:300]
                raise RuntimeError(f"Rasa answered {response.status}: {detail}")

    try:
        await _first_reachable(settings, conversation_id, append)
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
    """Make every Rasa server serve ``model_file`` (``PUT /model``), one after another;
    conversations carry on, their trackers stay where they are."""
    params = {"token": settings.rasa_token}
    timeout = aiohttp.ClientTimeout(total=120)  # loading a model takes seconds
    try:
        for server in servers(settings):
            async with http.put(
                _url(settings, "/model", server),
                json={"model_file": model_file},
                params=params,
                timeout=timeout,
            ) as response:
                if response.status != 204:
                    detail = (await response.text())[:300]
                    raise RuntimeError(f"Rasa at {server} answered {response.status}: {detail}")
    except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError) as error:
        logger.warning("Rasa did not load %s: %s", model_file, error)
        raise ApiError(
            502, "model_not_loaded", f"The assistant did not take the new model: {error}"
        ) from error
