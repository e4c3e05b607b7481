"""``python -m handoff``: read the settings and serve."""

from __future__ import annotations

import logging

from aiohttp import web

from handoff.app import create_app
from handoff.settings import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env()
    web.run_app(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
