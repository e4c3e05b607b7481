"""The rules for a message's text that every part of the studio shares.

Two messages are the same question when they differ only in case, runs of whitespace and
surrounding punctuation (``normalise``); a training example is compared without its
entity annotations (``plain_phrase``), and written as one line (``one_line``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """The "same question" rule: case, runs of whitespace and surrounding punctuation aside."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    start, end = 0, len(folded)
    while start < end and _is_edge(folded[start]):
        start += 1
    while end > start and _is_edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _is_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def plain_phrase(example: str) -> str:
    """A training example without its entity annotations: ``[LS-1](order_number)`` → LS-1."""
    return _ANNOTATION.sub(r"\1", example)


def example_lines(block: Any) -> list[str]:
    """The messages of one ``examples: |`` block, as written."""
    if not isinstance(block, str):
        return []
    lines = (line.strip() for line in block.splitlines())
    return [line[2:].strip() for line in lines if line.startswith("- ")]


def one_line(text: str) -> str:
    """One line, as the examples format needs: runs of whitespace become one space, and a
    character YAML cannot hold (a control character, a lone surrogate) a space too."""
    return " ".join(printable(str(text)).split())


def printable(text: str, keep: str = "") -> str:
    """``text`` with every character YAML cannot print (YAML 1.2's c-printable, less the
    line breaks and tabs not in ``keep``) as a space."""
    return "".join(c if c in keep or _printable(c) else " " for c in text)


def _printable(char: str) -> bool:
    point = ord(char)
    return (
        0x20 <= point <= 0x7E
        or point == 0x85
        or 0xA0 <= point <= 0xD7FF
        or 0xE000 <= point <= 0xFFFD
        or 0x10000 <= point <= 0x10FFFF
    ) and point != 0xFEFF  # a byte-order mark inside a document confuses readers
