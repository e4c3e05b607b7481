"""The app factory: wires settings, the database, the Rasa client, middleware and routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from handoff.checks import CHECKS, Checks
from handoff.db import Store
from handoff.db.accounts import Accounts
from handoff.db.editing import Editing
from handoff.db.engine import make_engine, migrate
from handoff.errors import Handler, error_middleware
from handoff.events import shared_events
from handoff.gateway import SOCKETS, Sockets, agent_socket, customer_socket
from handoff.hub import Hub, Relay
from handoff.limits import Limits
from handoff.live import announce_messages
from handoff.pages import add_pages, cors, security_headers
from handoff.proxies import forwarded_middleware
from handoff.routes import add_routes
from handoff.settings import Settings
from handoff.state import (
    ACCOUNTS,
    EDITING,
    ENGINE,
    HTTP,
    HUB,
    LIMITS,
    RELAY,
    RESPONSES,
    SETTINGS,
    STORE,
)
from handoff.studio import INBOX, Inbox
from handoff.usecases import answer_unanswered


def create_app(settings: Settings) -> web.Application:
    # Innermost, the client's address, scheme and host as a trusted proxy forwarded them:
    # its refusals still go through the error envelope.
    forwarded = forwarded_middleware(settings.trusted_proxies)
    app = web.Application(
        middlewares=[count_responses, security_headers, cors, error_middleware, forwarded],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[RESPONSES] = Counter()
    app[HUB], app[RELAY] = Hub(), Relay()
    app[SOCKETS] = Sockets(settings.sockets_per_address)
    app[INBOX] = Inbox()
    app.cleanup_ctx.extend([database, shared_events, rate_limits, http_client, relay, check_runner])
    add_routes(app)
    app.router.add_get("/ws/customer", customer_socket)
    app.router.add_get("/ws/agent", agent_socket)
    add_pages(app)
    return app


async def database(app: web.Application) -> AsyncIterator[None]:
    """The engine lives as long as the app; the schema is brought up to date first."""
    engine = make_engine(app[SETTINGS].database_url, app[SETTINGS].database_schema)
    await migrate(engine)
    app[ENGINE] = engine
    app[STORE] = Store(engine, app[SETTINGS])
    app[STORE].on_message = announce_messages(app[HUB])
    app[ACCOUNTS] = Accounts(app[STORE])
    app[EDITING] = Editing(app[STORE])
    yield
    await engine.dispose()


async def rate_limits(app: web.Application) -> AsyncIterator[None]:
    """The service's rate limits, this instance's own or shared through Redis."""
    settings = app[SETTINGS]
    per_minute = {
        "sessions": settings.sessions_per_minute,
        "logins": settings.logins_per_minute,
        "customer_messages": settings.customer_messages_per_minute,
    }
    shared = settings.redis_url if settings.rate_limits == "redis" else None
    app[LIMITS] = Limits(per_minute, shared)
    yield
    await app[LIMITS].close()


async def http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        yield


async def relay(app: web.Application) -> AsyncIterator[None]:
    """On the way in, answer what a killed service left unanswered; on the way out, let
    the bot finish the replies it is writing (briefly)."""
    await answer_unanswered(app)
    yield
    if app[RELAY].tasks:
        await asyncio.wait(app[RELAY].tasks, timeout=5)


async def check_runner(app: web.Application) -> AsyncIterator[None]:
    """The studio's checks, one at a time, each in a worker process of its own."""
    app[CHECKS] = Checks(app)
    await app[CHECKS].recover()
    runner = asyncio.create_task(app[CHECKS].run_forever())
    yield
    for task in (runner, app[INBOX].refreshing):  # and a regrouping of the inbox under way
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await app[CHECKS].stop_worker()


@web.middleware
async def count_responses(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Responses by status class ("2xx", "4xx" …) for /metrics."""
    response = await handler(request)
    request.app[RESPONSES][f"{response.status // 100}xx"] += 1
    return response
