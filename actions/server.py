"""``python -m actions.server``: the action server, for Rasa's calls only.

Rasa SDK's own server listens on every interface, allows any origin and runs any action
for anyone who posts. This one is the same app, bound to loopback unless told otherwise,
without CORS, and it refuses ``/webhook`` and ``/actions`` without ``Authorization:
Bearer <ACTIONS_TOKEN>``, which Rasa's action endpoint sends (endpoints.yml).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import socket
import sys

from rasa_sdk import endpoint
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.settings import Settings, settings

logger = logging.getLogger(__name__)
OPEN_PATHS = ("/health",)  # says only "ok": the supervisor and tests poll it


def create_app(config: Settings) -> Sanic:
    """Rasa SDK's app with a token check in front and no error detail in the answers."""
    if not config.actions_token:
        logger.warning("ACTIONS_TOKEN is not set: every action call will be refused")
    app = endpoint.create_app("actions", cors_origins=None)

    @app.on_request
    async def only_rasa(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or _allowed(request, config.actions_token):
            return None
        return _error(401, "unauthorized", "Send the install's action server token.")

    @app.exception(Exception)
    async def unexpected(request: Request, exception: Exception) -> HTTPResponse:
        # Rasa SDK's handler would echo the request body (the whole tracker) back.
        logger.error("action call failed", exc_info=exception)
        return _error(500, "internal_error", "The action failed; see the action server's log.")

    return app


def _allowed(request: Request, token: str) -> bool:
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status)


def warm_up() -> None:
    """Build the help-article index before serving: it loads the sentence encoder (seconds),
    which the first customer's question would otherwise wait for. Rasa's calls queue on
    the bound socket meanwhile, and ``/health`` answers once this is done."""
    import time

    from actions.knowledge import get_index

    started = time.monotonic()
    try:
        index = get_index()
    except Exception:  # searched again, and reported, on the first question that needs it
        logger.exception("the help-article index could not be built")
        return
    logger.info(
        "help-article index: %d passages in %.1f s", len(index.passages), time.monotonic() - started
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: loopback)")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:  # bound here: Sanic would log a taken port and exit 0, as if asked to stop
        listening = socket.create_server((args.host, args.port))
    except OSError as error:
        print(
            f"The action server cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        return 1
    warm_up()
    app = create_app(settings())
    logger.info("action server on http://%s:%d", args.host, args.port)
    app.run(sock=listening, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
