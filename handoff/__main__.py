"""``python -m handoff``: serve, migrate the database, or add an agent.

python -m handoff                        # serve (migrates first)
python -m handoff migrate                # bring the database schema up to date
python -m handoff add-agent NAME [--capacity 3] [--role agent|editor|lead]
                                         # password from HANDOFF_AGENT_PASSWORD or a prompt
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys

from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from handoff.app import create_app
from handoff.db import Store
from handoff.db.accounts import ROLES, Accounts
from handoff.db.engine import make_engine, migrate
from handoff.errors import ApiError
from handoff.settings import Settings


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def migrate_only(settings: Settings) -> None:
    engine = make_engine(settings.database_url, settings.database_schema)
    await migrate(engine)
    await engine.dispose()
    print(f"Database {safe_url(settings.database_url)} is up to date.")


async def add_agent(settings: Settings, name: str, capacity: int, password: str, role: str) -> None:
    engine = make_engine(settings.database_url, settings.database_schema)
    await migrate(engine)
    try:
        accounts = Accounts(Store(engine, settings))
        agent_id = await accounts.add_agent(name, password, capacity, role)
        if role == "editor":
            print(f"Editor {name!r} added (id {agent_id}); they sign in at /studio.")
        else:
            print(f"{role.title()} {name!r} added (id {agent_id}, up to {capacity} chats at once).")
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handoff",
        description="Serve the handoff service, migrate its database, or add an agent.",
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the API (the default)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    agent = commands.add_parser("add-agent", help="add an agent who can log in")
    agent.add_argument("name")
    agent.add_argument("--capacity", type=int, default=3, help="chats at once (default 3)")
    agent.add_argument(
        "--role",
        choices=ROLES,
        default="agent",
        help="agent: takes chats; editor: the studio; lead: both (default agent)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
        if args.command == "migrate":
            asyncio.run(migrate_only(settings))
        elif args.command == "add-agent":
            password = os.environ.get("HANDOFF_AGENT_PASSWORD") or getpass.getpass("Password: ")
            if len(password) < 8:
                print("The password needs at least 8 characters.", file=sys.stderr)
                return 2
            asyncio.run(add_agent(settings, args.name, args.capacity, password, args.role))
        else:
            web.run_app(create_app(settings), host=settings.host, port=settings.port)
    except ValueError as error:  # a bad setting
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except (OSError, DBAPIError) as error:
        print(
            f"The database {safe_url(settings.database_url)} cannot be used: {error}",
            file=sys.stderr,
        )
        return 1
    except ApiError as error:
        print(error.message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
