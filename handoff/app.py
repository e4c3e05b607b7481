"""The app factory: wires settings, the database engine, middleware and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from handoff.errors import ApiError, error_middleware
from handoff.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", AsyncEngine)


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(database)
    app.router.add_get("/healthz", healthz)
    return app


async def database(app: web.Application) -> AsyncIterator[None]:
    """The engine lives as long as the app."""
    engine = create_async_engine(app[SETTINGS].database_url, future=True)
    app[ENGINE] = engine
    yield
    await engine.dispose()


async def healthz(request: web.Request) -> web.Response:
    """Up, and the database answers."""
    try:
        async with request.app[ENGINE].connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        raise ApiError(503, "database_unavailable", "The database does not answer.") from error
    return web.json_response({"status": "ok"})
