"""The migration stairway: every revision goes up, down and up again, on SQLite and PostgreSQL.

A downgrade that forgets a table, an index or a row an upgrade added fails here, at the
second upgrade, rather than on a production database being rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.db.engine import alembic_config, make_engine, migrate
from handoff.db.tables import metadata
from handoff.settings import Settings

REVISIONS = list(reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions())))


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty throwaway database; no app, so nothing migrates it first."""
    engine = make_engine(settings.database_url, settings.database_schema)
    yield engine
    await engine.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


def differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda r: r.revision)
async def test_a_revision_goes_up_down_and_up_again(revision: Script, engine: AsyncEngine) -> None:
    """On a fresh database, so every earlier revision is applied first, in order."""
    await migrate(engine, revision.revision)
    await migrate(engine, revision.down_revision or "base", down=True)
    await migrate(engine, revision.revision)


def test_the_revisions_form_one_line() -> None:
    """No branches: each revision follows the one before, so "head" is a single revision."""
    downs = [r.down_revision for r in REVISIONS]
    assert downs == [None] + [r.revision for r in REVISIONS[:-1]]


async def test_head_has_every_table_and_base_none(engine: AsyncEngine) -> None:
    await migrate(engine, "head")
    assert set(metadata.tables) <= await tables(engine)
    await migrate(engine, "base", down=True)
    assert not set(metadata.tables) & await tables(engine)


async def test_the_migrations_build_exactly_the_tables_the_code_uses(engine: AsyncEngine) -> None:
    await migrate(engine, "head")
    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
