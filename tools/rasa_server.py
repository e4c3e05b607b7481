"""``python -m tools.rasa_server ARGS``: ``rasa run --enable-api ARGS`` with the install's token.

Rasa takes its API token only as ``--auth-token`` on the command line, where ``ps`` shows
it to every user of the machine; this reads it from ``RASA_TOKEN`` and hands it to Rasa
inside the process instead.

When the studio has published a model, the file named by ``LARKSPUR_LIVE_MODEL`` holds its
path, and a Rasa (re)started here serves that one instead of ``--model``: a restart never
quietly goes back to an older model.

Two of Rasa's hot spots are replaced by cheaper ones with the same results first
(``bot.speedups``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def live_model(argv: list[str], pointer: str) -> list[str]:
    """``argv`` with ``--model`` replaced by the published model the pointer names, if any."""
    published = Path(pointer).read_text().strip() if pointer and Path(pointer).is_file() else ""
    if not published or not Path(published).is_file() or "--model" not in argv:
        return argv
    at = argv.index("--model") + 1
    return [*argv[:at], published, *argv[at + 1 :]]


def rasa_argv(token: str, argv: list[str]) -> list[str]:
    """``rasa run`` with the API on behind ``token``. The token is one "=" joined argument:
    one that starts with "-" (``token_urlsafe`` makes one in 64) would otherwise read to
    argparse as the next option, and Rasa would not start."""
    return ["rasa", "run", "--enable-api", f"--auth-token={token}", *argv]


def main(argv: list[str]) -> None:
    token = os.environ.get("RASA_TOKEN", "")
    if not token:
        raise SystemExit("RASA_TOKEN is not set: Rasa's API would be open to anyone.")
    from rasa.__main__ import main as rasa_main  # Rasa is slow to import: only when run

    from bot import speedups

    speedups.install()
    sys.argv = rasa_argv(token, live_model(argv, os.environ.get("LARKSPUR_LIVE_MODEL", "")))
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
