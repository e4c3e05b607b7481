"""Write a benchmark's tables to ``results/<name>.md`` with the command that made them."""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path("results")


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats shown with three decimals."""

    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write(name: str, command: str, sections: dict[str, str], folder: Path = RESULTS) -> Path:
    """Print the sections and write them to ``<folder>/<name>.md`` (``results/`` unless told)."""
    body = "\n\n".join(f"## {title}\n\n{text}" for title, text in sections.items())
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    header = (
        f"# {name}\n\nProduced by `{command}` on {stamp} "
        f"({platform.machine()}, Python {platform.python_version()}).\n\n"
    )
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(header + body + "\n")
    print(header + body)
    print(f"\nWritten to {path}")
    return path
