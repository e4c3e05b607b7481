"""The engine and the migrations that shape its database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str, schema: str = "") -> AsyncEngine:
    """An async engine; SQLite files get their folder, a busy timeout and WAL."""
    if url.startswith("sqlite"):
        path, pool = url.split(":///", 1)[-1], {}
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # SQLAlchemy 1.4 opens a new connection (and aiosqlite a new thread) on every
            # checkout from a file database unless told to pool; 2.0 pools by default.
            pool = {"poolclass": AsyncAdaptedQueuePool, "pool_size": 10, "max_overflow": 20}
        engine = create_async_engine(url, future=True, connect_args={"timeout": 30}, **pool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    return create_async_engine(
        url, future=True, pool_size=10, max_overflow=20, connect_args=connect_args
    )


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers don't wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def migrate(engine: AsyncEngine, revision: str = "head", down: bool = False) -> None:
    """Upgrade (or downgrade) the database to ``revision`` on one of the engine's connections."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)
