"""Alembic environment: runs on a connection handed in (the service, the tests) or on the URL.

``handoff.db.engine.migrate`` passes an open connection through ``config.attributes``; the
``alembic`` command line, which has none, opens the async engine itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from handoff.db.tables import metadata

config = context.config


def run_on(connection: Connection) -> None:
    # render_as_batch: SQLite can only change a table by copying it.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_on_url(config.get_main_option("sqlalchemy.url") or ""))
