"""HTTP views: read the request, call the store, answer JSON. No SQL here.

Who may call a view is declared in ``handoff.routes``; by the time a view runs, the
caller's agent row or conversation id is in the request (``AGENT``, ``CONVERSATION``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy import text
from sqlalchemy.engine import Row

from handoff import misses, schemas, usecases
from handoff.auth import verified_ref
from handoff.db import Store
from handoff.db.accounts import Accounts, agent_dict
from handoff.db.unit import iso
from handoff.errors import ApiError, BadRequest, UnsupportedMediaType
from handoff.reports import prometheus, report
from handoff.state import (
    ACCOUNTS,
    AGENT,
    CONVERSATION,
    ENGINE,
    LIMITS,
    RESPONSES,
    SETTINGS,
    STORE,
)

JSON = "application/json"


async def body(
    request: web.Request, schema: schemas.Schema, limit: int | None = None
) -> dict[str, Any]:
    """The JSON body, checked against its schema; no body at all counts as ``{}``.

    A body must say it is ``application/json``: a form, plain text or no Content-Type is a
    415 before it is read, one over ``client_max_size`` (or the route's own ``limit``) a
    413 (aiohttp's, in the envelope), bad JSON a 400.
    """
    if request.body_exists and request.content_type != JSON:
        raise UnsupportedMediaType()
    if limit is not None and limit > request.client_max_size:
        request = request.clone(client_max_size=limit)
    raw = await read(request)
    if not raw.strip():
        return schemas.validate(schema, {})
    try:
        data = schemas.loads(raw)
    except schemas.TooDeep as error:
        raise BadRequest("invalid_json", f"The body is {error}.") from None
    except ValueError:
        raise BadRequest("invalid_json", "The body is not valid JSON.") from None
    return schemas.validate(schema, data)


async def read(request: web.Request) -> bytes:
    """The raw body; one the client garbled on the way (a broken chunk, a bad gzip) is a 400."""
    try:
        return await request.read()
    except HttpProcessingError:
        raise BadRequest("unreadable_body", "The body could not be read.") from None


def text_query(request: web.Request, name: str, max_length: int) -> str:
    value = request.query.get(name, "")
    if len(value) > max_length:
        raise BadRequest("invalid_query", f"{name} must be at most {max_length} characters.")
    return value


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("invalid_query", f"{name} must be a whole number.") from None
    if not low <= value <= high:
        raise BadRequest("invalid_query", f"{name} must be between {low} and {high}.")
    return value


async def limit(request: web.Request, bucket: str, key: str) -> None:
    if not await request.app[LIMITS].allow(bucket, key):
        raise ApiError(429, "too_many_requests", "Too many requests; wait a moment and retry.")


def store(request: web.Request) -> Store:
    return request.app[STORE]


def accounts(request: web.Request) -> Accounts:
    return request.app[ACCOUNTS]


def handoff_id(request: web.Request) -> int:
    return int(request.match_info["handoff_id"])


def agent(request: web.Request) -> Row:
    return request[AGENT]


# --- public ------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """Up, and the database answers."""
    try:
        async with request.app[ENGINE].connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        raise ApiError(503, "database_unavailable", "The database does not answer.") from error
    return web.json_response({"status": "ok"})


async def open_session(request: web.Request) -> web.Response:
    """A customer starts a conversation and gets its private token. A ``customer_ref``
    links it to the customer's earlier chats only when the site signed it."""
    await limit(request, "sessions", request.remote or "")
    data = await body(request, schemas.SESSION)
    secret = request.app[SETTINGS].identity_secret
    ref = verified_ref(secret, data.get("customer_ref"), data.get("customer_ref_signature"))
    conversation_id, token = await store(request).open_session(ref)
    answer = {"conversation_id": conversation_id, "token": token, "customer_verified": bool(ref)}
    return web.json_response(answer, status=201)


async def login(request: web.Request) -> web.Response:
    await limit(
        request, "logins", request.remote or ""
    )  # per address: guessing across names counts too
    data = await body(request, schemas.LOGIN)
    token, expires, row = await accounts(request).login(data["name"], data["password"])
    return web.json_response({"token": token, "expires_at": iso(expires), "agent": agent_dict(row)})


async def metrics(request: web.Request) -> web.Response:
    figures = await report(store(request))
    sizes = {"queued": 0, "offline": 0}
    for entry in await store(request).queue():
        sizes[entry["state"]] += 1
    text = prometheus(figures, sizes, request.app[RESPONSES])
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


# --- the action server -------------------------------------------------------------


async def create_handoff(request: web.Request) -> web.Response:
    """Queue an escalation; a retry with the same key returns the same handoff."""
    data = await body(request, schemas.HANDOFF)
    header_key = request.headers.get("Idempotency-Key")
    if header_key and header_key != data["idempotency_key"]:
        raise BadRequest("key_mismatch", "Idempotency-Key differs from the body's key.")
    answer, created = await usecases.create_handoff(request.app, data)
    return web.json_response(answer, status=201 if created else 200)


# --- customers ---------------------------------------------------------------------


async def conversation(request: web.Request) -> web.Response:
    """The customer's own view: who answers now, their place in line, every message."""
    conversation_id = request[CONVERSATION]
    latest = await store(request).latest_handoff(conversation_id)
    handoff = None
    if latest is not None:
        estimate = await store(request).estimate(latest.id)
        handoff = {"id": latest.id, "state": latest.state, **estimate.as_dict()}
    return web.json_response(
        {
            "conversation_id": conversation_id,
            "handoff": handoff,
            "messages": await store(request).messages(conversation_id),
        }
    )


async def customer_messages(request: web.Request) -> web.Response:
    after = int_query(request, "after", 0, 0, 2**31 - 1)
    found = await store(request).messages(request[CONVERSATION], after)
    return web.json_response({"messages": found})


async def customer_say(request: web.Request) -> web.Response:
    """Store a customer's message (once per client id) and return its sequence number."""
    await limit(request, "customer_messages", request[CONVERSATION])
    data = await body(request, schemas.CUSTOMER_MESSAGE)
    message = await usecases.customer_message(
        request.app, request[CONVERSATION], data["text"], data.get("client_id")
    )
    return web.json_response(message, status=200 if message["duplicate"] else 201)


async def leave_email(request: web.Request) -> web.Response:
    data = await body(request, schemas.OFFLINE)
    ticket = await store(request).go_offline(request[CONVERSATION], data["email"])
    return web.json_response({"handoff_id": ticket, "state": "offline"})


async def leave(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    closed = await usecases.leave(request.app, request[CONVERSATION])
    return web.json_response({"handoff_id": closed, "state": "abandoned" if closed else None})


async def rate(request: web.Request) -> web.Response:
    data = await body(request, schemas.CSAT)
    await accounts(request).rate(request[CONVERSATION], data["rating"], data.get("comment"))
    return web.json_response({"rating": data["rating"]}, status=201)


# --- agents ------------------------------------------------------------------------


async def rate_answer(request: web.Request) -> web.Response:
    """The customer's 👍/👎 under an FAQ or article answer."""
    data = await body(request, schemas.FEEDBACK)
    await misses.note_rating(request.app, request[CONVERSATION], data["seq"], data["helpful"])
    return web.json_response({"seq": data["seq"], "helpful": data["helpful"]})


async def logout(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    await accounts(request).logout(request.headers["Authorization"].split(" ", 1)[1].strip())
    return web.json_response({"logged_out": True})


async def me(request: web.Request) -> web.Response:
    return web.json_response(agent_dict(agent(request)))


async def set_availability(request: web.Request) -> web.Response:
    data = await body(request, schemas.AVAILABILITY)
    await usecases.set_availability(request.app, agent(request).id, data["available"])
    return web.json_response({**agent_dict(agent(request)), "available": data["available"]})


async def agent_list(request: web.Request) -> web.Response:
    return web.json_response({"agents": await accounts(request).agent_list()})


async def queue(request: web.Request) -> web.Response:
    return web.json_response({"queue": await store(request).queue()})


async def claim(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    return web.json_response(await usecases.claim(request.app, handoff_id(request), agent(request)))


async def claim_next(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    return web.json_response(await usecases.claim(request.app, None, agent(request)))


async def detail(request: web.Request) -> web.Response:
    return web.json_response(await store(request).detail(handoff_id(request)))


async def history(request: web.Request) -> web.Response:
    return web.json_response({"conversations": await store(request).history(handoff_id(request))})


async def audit(request: web.Request) -> web.Response:
    await store(request).handoff(handoff_id(request))
    return web.json_response({"events": await store(request).audit_trail(handoff_id(request))})


async def agent_say(request: web.Request) -> web.Response:
    data = await body(request, schemas.AGENT_MESSAGE)
    message = await store(request).agent_message(
        handoff_id(request), agent(request).id, data["text"]
    )
    return web.json_response(message, status=201)


async def add_note(request: web.Request) -> web.Response:
    data = await body(request, schemas.NOTE)
    note = await store(request).add_note(handoff_id(request), agent(request).id, data["text"])
    return web.json_response({"id": note}, status=201)


def closed(request: web.Request, state: str) -> web.Response:
    return web.json_response({"handoff_id": handoff_id(request), "state": state})


async def resolve(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    await usecases.resolve(request.app, handoff_id(request), agent(request))
    return closed(request, "resolved")


async def abandon(request: web.Request) -> web.Response:
    await body(request, schemas.EMPTY)
    await usecases.abandon(request.app, handoff_id(request), agent(request))
    return closed(request, "abandoned")


async def return_to_bot(request: web.Request) -> web.Response:
    """Hand the chat back to the bot, with a note of what the agent did."""
    data = await body(request, schemas.RETURN)
    await usecases.return_to_bot(
        request.app, handoff_id(request), agent(request), data.get("summary")
    )
    return closed(request, "returned")


async def reassign(request: web.Request) -> web.Response:
    data = await body(request, schemas.REASSIGN)
    state = await usecases.reassign(
        request.app, handoff_id(request), agent(request), data.get("agent_id")
    )
    return closed(request, state)


async def canned(request: web.Request) -> web.Response:
    return web.json_response({"canned_responses": await accounts(request).canned()})


async def add_canned(request: web.Request) -> web.Response:
    data = await body(request, schemas.CANNED)
    new_id = await accounts(request).add_canned(data["shortcut"], data["text"])
    return web.json_response({"id": new_id, **data}, status=201)


async def reports(request: web.Request) -> web.Response:
    days = int_query(request, "days", 30, 1, 365)
    return web.json_response(await report(store(request), days))
