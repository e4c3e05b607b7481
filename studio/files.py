"""Round trips through the content files that keep what an editor did not touch.

A YAML file is loaded with ruamel.yaml in the indent that reproduces it byte for byte, so
dumping it again after an edit changes only the edited lines: comments, order, quoting
and literal ``examples: |`` blocks stay as they were. Two guards refuse a write that would
do more: ``render`` checks that the file, read back, means what the edit meant, and that
no comment line went missing. ``write_all`` replaces several files as one change: if
writing any of them fails, the ones already written are put back.
"""

from __future__ import annotations

import difflib
import fcntl
import io
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

# Sequence indents tried when reading a file: the one that round-trips it unchanged wins.
_INDENTS = ((2, 0), (4, 2))


class ContentError(Exception):
    """A request the content cannot take: ``code`` for programs, ``message`` for people.

    ``detail`` carries what a person needs to resolve it, e.g. the other editor's version
    of an FAQ when an edit was based on an older one.
    """

    def __init__(self, code: str, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail


@dataclass
class YamlFile:
    """One content file loaded for a round trip, with the text it was read from."""

    path: Path
    yaml: YAML
    data: Any
    source: str

    def dump(self) -> str:
        buffer = io.StringIO()
        self.yaml.dump(self.data, buffer)
        return buffer.getvalue()

    def render(self, expected: Callable[[Any], Any] | None = None) -> str:
        """The file as it would be written now.

        Without ``expected`` only added lines are allowed. With it, ``expected`` turns the
        old file's plain data into what the new one must read as, and the write is refused
        unless it does and keeps every comment line.
        """
        rendered = self.dump()
        if expected is None:
            if not only_added(self.source, rendered):
                raise ContentError(
                    "unsafe_write", f"writing {self.path.name} would change its lines"
                )
            return rendered
        if plain(rendered) != expected(plain(self.source)):
            raise ContentError(
                "unsafe_write", f"writing {self.path.name} would change other content"
            )
        if _comments(self.source) - _comments(rendered):
            raise ContentError("unsafe_write", f"writing {self.path.name} would lose a comment")
        return rendered


def plain(source: str) -> Any:
    """What a YAML text means, without its comments and layout."""
    return YAML(typ="safe").load(source)


def _comments(source: str) -> Counter[str]:
    return Counter(line.strip() for line in source.splitlines() if line.strip().startswith("#"))


def round_trip_yaml(sequence: int, offset: int) -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True  # type: ignore[assignment]  # ruamel types it None
    yaml.width = 4096  # type: ignore[assignment]  # never re-wrap a long answer
    yaml.indent(mapping=2, sequence=sequence, offset=offset)
    return yaml


def load(path: Path, default: str = "") -> YamlFile:
    """Load ``path`` (or ``default`` if it is missing) with the indent that keeps it as is."""
    source = path.read_text(encoding="utf-8") if path.exists() else default
    for sequence, offset in _INDENTS:
        yaml = round_trip_yaml(sequence, offset)
        data = yaml.load(source)
        buffer = io.StringIO()
        yaml.dump(data, buffer)
        if buffer.getvalue() == source:
            return YamlFile(path, yaml, data, source)
    raise ContentError("unsupported_layout", f"{path.name} has a layout the studio cannot keep")


def only_added(before: str, after: str) -> bool:
    """True when ``after`` is ``before`` with lines inserted and none changed or removed."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), False)
    return all(tag in ("equal", "insert") for tag, *_ in matcher.get_opcodes())


def rename_key(mapping: CommentedMap, old: str, new: str) -> None:
    """Rename a key in place: same position, same value, same comments."""
    position = list(mapping).index(old)
    value = mapping[old]
    comment = mapping.ca.items.pop(old, None)
    del mapping[old]
    mapping.insert(position, new, value)
    if comment is not None:
        mapping.ca.items[new] = comment


def delete(container: Any, key: Any) -> None:
    """Remove a map's key or a list's index; the comment that followed the removed value
    (a section heading, a blank line) moves after the value before it."""
    keys = list(range(len(container))) if isinstance(container, list) else list(container)
    position = keys.index(key)
    trailing = _trailing_comment(container[key])
    own = container.ca.items.pop(key, None)
    del container[key]
    carried = trailing if trailing is not None else own
    if carried is not None and position > 0:
        _attach_after(container, keys[position - 1], carried)


def _trailing_comment(value: Any) -> Any:
    """The comment tokens ruamel hung on the last item inside ``value``, taken off it."""
    node = value
    while True:
        items = getattr(node, "ca", None)
        if items is None or not len(node):
            return None
        last = len(node) - 1 if isinstance(node, list) else list(node)[-1]
        inner = node[last]
        if getattr(inner, "ca", None) is not None and len(inner):
            node = inner
            continue
        return node.ca.items.pop(last, None)


def _attach_after(mapping: Any, key: Any, comment: Any) -> None:
    """Hang ``comment`` after the value of ``key`` (on its innermost last item), keeping a
    heading that is already there: the removed item's blank line is then not needed."""
    node: Any = mapping
    last: Any = key
    while getattr(node[last], "ca", None) is not None and len(node[last]):
        node = node[last]
        last = len(node) - 1 if isinstance(node, list) else list(node)[-1]
    there = node.ca.items.get(last)
    if there is None or _token(there) is None:
        node.ca.items[last] = comment
        return
    kept, carried = _token(there), _token(comment)
    if carried is not None and "#" in carried.value:
        kept.value = kept.value + carried.value.lstrip("\n") if "#" in kept.value else carried.value


def _token(comment: Any) -> Any:
    """The comment token after a value: ruamel keeps it third in the item's list."""
    if isinstance(comment, list) and len(comment) > 2:
        return comment[2]
    return None


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` in one step: a reader sees the old file or the new one, never half."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_all(root: Path, texts: Mapping[str, str | None]) -> None:
    """Write (or, for None, delete) every file, or none: a failure restores what was there."""
    before = {name: _read(root / name) for name in texts}
    done: list[str] = []
    try:
        for name, text in texts.items():
            _put(root / name, text)
            done.append(name)
    except BaseException:
        for name in reversed(done):
            _put(root / name, before[name])
        raise


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def _put(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write(path, text)


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """One writer at a time per content root, across threads and processes."""
    handle = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock
