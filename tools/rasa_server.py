"""``python -m tools.rasa_server ARGS``: ``rasa run --enable-api ARGS`` with the install's token.

Rasa takes its API token only as ``--auth-token`` on the command line, where ``ps`` shows
it to every user of the machine; this reads it from ``RASA_TOKEN`` and hands it to Rasa
inside the process instead.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    token = os.environ.get("RASA_TOKEN", "")
    if not token:
        raise SystemExit("RASA_TOKEN is not set: Rasa's API would be open to anyone.")
    from rasa.__main__ import main as rasa_main  # Rasa is slow to import: only when run

    sys.argv = ["rasa", "run", "--enable-api", "--auth-token", token, *argv]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
