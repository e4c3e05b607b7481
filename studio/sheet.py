"""FAQs from a spreadsheet and back: one row per FAQ, a dry run first, then all at once.

The columns: ``key`` (optional: derived from the first question when empty), ``questions``
(one per line in the cell), ``answer``, ``article`` (optional: a slug or a help-centre
link). CSV, or the same as .xlsx. The dry run says row by row what would be created,
updated, left unchanged or skipped, and why; apply writes every good row or, if writing
fails, nothing. Questions that differ only in case, spacing or punctuation are one
question. An update sets the answer (and the article, when the cell has one) and adds the
new questions; it never removes one. Export writes the current FAQs in the same format,
so exporting and importing again changes nothing.

    python -m studio.sheet import FILE [--apply] [--root DIR]
    python -m studio.sheet export FILE [--root DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from contracts.understanding import ARTICLE_LINK_PREFIX
from studio.faqs import (
    ANSWER_GUIDE,
    ANSWER_LIMIT,
    FAQ,
    HELD_OUT_SETS,
    KEY_PATTERN,
    RESPONSES_FILE,
    TEXT_LIMIT,
    Faq,
    Faqs,
    Plan,
    taken_by,
)
from studio.files import ContentError, locked
from studio.text import normalise, one_line, plain_phrase

COLUMNS = ("key", "questions", "answer", "article")
REQUIRED = ("questions", "answer")
MAX_ROWS = 2000
MAX_COLUMNS = 26
MAX_BYTES = 2_000_000
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "the",
        "to",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
Action = Literal["create", "update", "unchanged", "skip"]


@dataclass
class Row:
    """One row of the sheet and what importing it does."""

    row: int  # as the spreadsheet numbers it: the header is row 1
    key: str
    action: Action = "skip"
    reasons: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    answer: str = ""
    article: str | None = None
    added: int = 0  # new questions

    def skip(self, reason: str) -> None:
        self.action = "skip"
        self.reasons.append(reason)


@dataclass
class Report:
    """The dry run (or the applied import): the sheet's problems and every row's fate."""

    rows: list[Row]
    problems: list[str]
    version: str  # of the FAQ content the plan was made on
    applied: bool = False
    files: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = {action: 0 for action in ("create", "update", "unchanged", "skip")}
        for row in self.rows:
            found[row.action] += 1
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": [asdict(r) for r in self.rows],
            "problems": self.problems,
            "counts": self.counts(),
            "version": self.version,
            "applied": self.applied,
            "files": self.files,
        }


# ---------------------------------------------------------------------- reading


def read_sheet(data: bytes, filename: str) -> list[list[str]]:
    """The sheet's cells, header first: CSV (UTF-8, Excel's BOM allowed) or .xlsx."""
    if len(data) > MAX_BYTES:
        raise ContentError("sheet_too_large", f"the sheet is over {MAX_BYTES // 1_000_000} MB")
    if filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContentError("not_utf8", "save the CSV as UTF-8 (Excel: CSV UTF-8)") from None
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as error:
        raise ContentError("bad_csv", f"the CSV does not read: {error}") from None


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            # Rows and columns beyond what a sheet may have are never read: a small file can
            # unpack into a huge one.
            found = sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2, max_col=MAX_COLUMNS)
            return [_trimmed(["" if v is None else str(v) for v in row]) for row in found]
        finally:
            book.close()
    except Exception as error:  # openpyxl raises several kinds for a file it cannot read
        raise ContentError("bad_xlsx", f"the .xlsx file does not read: {error}") from None


def _trimmed(row: list[str]) -> list[str]:
    """A row without the empty cells a spreadsheet pads it with on the right."""
    while row and not row[-1].strip():
        row.pop()
    return row


def _questions(cell: str) -> list[str]:
    return [one_line(line) for line in cell.splitlines() if line.strip()]


def derive_key(question: str, taken: set[str]) -> str:
    """A key from a question's content words: "Do you rent tents?" → rent_tents."""
    words = re.findall(r"[a-z0-9]+", normalise(question))
    content = [w for w in words if w not in _STOP] or words or ["faq"]
    base = "_".join(content[:4])[:36].strip("_")
    if not base or not base[0].isalpha():
        base = f"faq_{base}".strip("_")
    base = base if len(base) >= 3 else f"{base}_faq"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def _slug(cell: str) -> str | None:
    value = cell.strip()
    return value.removeprefix(ARTICLE_LINK_PREFIX).strip("/") or None


# ---------------------------------------------------------------------- planning


def content_version(root: Path) -> str:
    """A digest of the files an import reads: changed by any edit in between."""
    faqs = Faqs(root)
    digest = hashlib.sha256()
    for name in [RESPONSES_FILE, *faqs.nlu_files(), *HELD_OUT_SETS]:
        path = root / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def plan_import(root: Path, cells: list[list[str]]) -> tuple[Report, Plan]:
    """What importing ``cells`` would do, and the planned edits of its good rows."""
    root = Path(root)
    faqs = Faqs(root)
    report = Report([], [], content_version(root))
    plan = Plan(root)
    if not cells or not any(c.strip() for c in cells[0]):
        report.problems.append("the sheet is empty: its first row must name the columns")
        return report, plan
    header = [c.strip().lower() for c in cells[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report.problems.append(
            f"the sheet has no {' or '.join(repr(c) for c in missing)} column "
            f"(the columns: {', '.join(COLUMNS)})"
        )
        return report, plan
    unknown = {i: name for i, name in enumerate(header) if name not in COLUMNS}
    for name in unknown.values():
        report.problems.append(
            f"the column '{name}' is not one the studio knows ({', '.join(COLUMNS)}): rows "
            "with a value in it are skipped"
        )
    if len(cells) - 1 > MAX_ROWS:
        report.problems.append(f"the sheet has over {MAX_ROWS} rows: split it")
        return report, plan
    _Planner(faqs, plan, header, unknown).rows(cells[1:], report)
    return report, plan


class _Planner:
    """Sorts the rows out one by one, remembering what earlier rows took."""

    def __init__(self, faqs: Faqs, plan: Plan, header: list[str], unknown: dict[int, str]) -> None:
        self.faqs, self.plan, self.header, self.unknown = faqs, plan, header, unknown
        self.existing = {faq.key: faq for faq in faqs.all()}
        self.intents = set(faqs.intents()) | {b.intent for b in faqs.blocks(HELD_OUT_SETS)}
        self.owners = faqs.owners()  # once: a row checks its questions against it
        self.asked = {  # normalised phrase → the FAQ that has it
            normalise(plain_phrase(p.text)): faq.key
            for faq in self.existing.values()
            for p in faq.phrases
        }
        self.articles = set(faqs.article_titles())
        self.keys: dict[str, int] = {}  # key → the row that has it
        self.questions: dict[str, int] = {}  # normalised question → the row that has it

    def rows(self, rows: list[list[str]], report: Report) -> None:
        for number, cells in enumerate(rows, start=2):
            if not any(c.strip() for c in cells):
                continue
            row = self.row(number, cells)
            report.rows.append(row)
            if row.action != "skip":
                self.claim(row)

    def cell(self, cells: list[str], name: str) -> str:
        if name not in self.header:
            return ""
        index = self.header.index(name)
        return _cell(cells[index].strip()) if index < len(cells) else ""

    def row(self, number: int, cells: list[str]) -> Row:
        row = Row(number, self.cell(cells, "key"))
        row.questions = _dedupe(_questions(self.cell(cells, "questions")))
        row.answer = self.cell(cells, "answer")
        row.article = _slug(self.cell(cells, "article"))
        for index, name in self.unknown.items():
            if index < len(cells) and cells[index].strip():
                row.skip(f"has a value in the unknown column '{name}'")
        self.check_answer(row)
        self.check_questions(row)
        self.check_key(row)
        if row.article is not None and row.article not in self.articles:
            row.skip(f"there is no help article '{row.article}'")
        if not row.reasons:
            self.decide(row)
        return row

    def check_answer(self, row: Row) -> None:
        if not row.answer:
            row.skip("no answer")
        elif len(row.answer) > ANSWER_LIMIT:
            row.skip(
                f"the answer is {len(row.answer)} characters, over the limit of {ANSWER_LIMIT}"
            )

    @staticmethod
    def too_long(row: Row) -> str:
        return f"the answer is {len(row.answer)} characters, over the guide of {ANSWER_GUIDE}"

    def check_questions(self, row: Row) -> None:
        if not row.questions:
            row.skip("no questions")
        for question in row.questions:
            same = normalise(plain_phrase(question))
            if not same:
                row.skip("a question is empty")
            elif len(question) > TEXT_LIMIT:
                row.skip(f"a question is over {TEXT_LIMIT} characters")
            elif same in self.questions:
                row.skip(f"'{question}' is also in row {self.questions[same]}")

    def check_key(self, row: Row) -> None:
        if not row.key:
            if row.questions:
                row.key = self.known_key(row.questions) or derive_key(
                    row.questions[0], set(self.keys) | set(self.existing) | self.intents
                )
            return
        if not KEY_PATTERN.match(row.key):
            row.skip(f"'{row.key}' is not a valid key: a-z, 0-9 and _, 3–41 long")
        elif row.key in self.keys:
            row.skip(f"the key '{row.key}' is also in row {self.keys[row.key]}")
        elif row.key in self.intents:
            row.skip(f"'{row.key}' is an intent, not an FAQ")

    def known_key(self, questions: list[str]) -> str | None:
        """The FAQ that already has one of these questions: a row without a key updates it."""
        for question in questions:
            key = self.asked.get(normalise(plain_phrase(question)))
            if key is not None:
                return key if key not in self.keys else None
        return None

    def decide(self, row: Row) -> None:
        current = self.existing.get(row.key)
        base = current or Faq(row.key, "", None, "", (), 0)
        have = [p.text for p in base.phrases]
        known = {normalise(plain_phrase(t)) for t in have}
        added = [q for q in row.questions if normalise(plain_phrase(q)) not in known]
        for question in added:
            owner = self.owners.get(normalise(plain_phrase(question)))
            if owner is not None and taken_by(owner, base.name):
                row.skip(f"'{question}' is already a phrase of {owner[0]} ({owner[1]})")
        if row.reasons:
            return
        article = row.article if row.article is not None or current is None else current.article
        try:
            text = self.faqs.response_text(row.answer, article)
            if current is not None and text == current.text and not added:
                row.action = "unchanged"
                return
            if len(row.answer) > ANSWER_GUIDE and (current is None or text != current.text):
                row.skip(self.too_long(row))  # an answer already that long stays as it is
                return
            self.faqs.plan_save(self.plan, base, row.answer, article, [*have, *added], self.owners)
        except ContentError as error:
            row.skip(error.message)
            return
        row.action, row.added = ("update" if current else "create"), len(added)
        if current is not None and text != current.text:
            row.reasons.append("the answer changes")
        if added:
            row.reasons.append(f"{len(added)} new question{'s' * (len(added) != 1)}")

    def claim(self, row: Row) -> None:
        self.keys[row.key] = row.row
        for question in row.questions:
            self.questions.setdefault(normalise(plain_phrase(question)), row.row)


def _dedupe(questions: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for question in questions:
        same = normalise(plain_phrase(question))
        if same not in seen or not same:
            seen.add(same)
            kept.append(question)
    return kept


def import_sheet(
    root: Path, data: bytes, filename: str, apply: bool, version: str | None = None
) -> Report:
    """The dry run, or with ``apply`` the import itself: every good row, or none.

    ``version`` (from the dry run) makes apply refuse when the FAQs changed since."""
    cells = read_sheet(data, filename)
    with locked(Path(root)):
        report, plan = plan_import(root, cells)
        if not apply:
            return report
        if version is not None and version != report.version:
            raise ContentError(
                "stale_import",
                "The FAQs changed since the dry run: run it again and check the rows.",
            )
        if report.problems and not report.rows:
            raise ContentError("bad_sheet", "; ".join(report.problems))
        report.files = plan.write()
        report.applied = True
        return report


# ---------------------------------------------------------------------- export


def export_csv(root: Path) -> str:
    """Every FAQ with an answer, one row each, questions one per line. With a BOM, so
    Excel reads it as UTF-8, and no cell a spreadsheet would run as a formula."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for faq in Faqs(root).all():
        if faq.text:
            questions = "\n".join(plain_phrase(p.text) for p in faq.phrases)
            row = [faq.key, questions, faq.answer, faq.article or ""]
            writer.writerow([inert(cell) for cell in row])
    return "\ufeff" + buffer.getvalue()


FORMULA = ("=", "+", "-", "@")


def inert(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a quote,
    which the import takes off again (``_cell``)."""
    return "'" + cell if cell.startswith(FORMULA) else cell


def _cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA) else value


# ---------------------------------------------------------------------- the terminal


def _print(report: Report) -> None:
    for problem in report.problems:
        print(f"SHEET   {problem}")
    for row in report.rows:
        why = "; ".join(row.reasons)
        print(f"row {row.row:<4} {row.action:<9} {FAQ}/{row.key:<40} {why}")
    counts = report.counts()
    summary = ", ".join(f"{n} {action}" for action, n in counts.items())
    done = (
        f"applied: {', '.join(report.files) or 'nothing to write'}"
        if report.applied
        else "dry run: nothing written (--apply writes)"
    )
    print(f"{summary}; {done}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("import", "export"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--apply", action="store_true", help="write the good rows")
    parser.add_argument("--root", type=Path, default=Path("."), help="the content root")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            args.file.write_text(export_csv(args.root), encoding="utf-8", newline="")
            print(f"wrote {args.file}")
            return 0
        report = import_sheet(args.root, args.file.read_bytes(), args.file.name, args.apply)
    except ContentError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    _print(report)
    return 1 if report.problems or any(r.action == "skip" for r in report.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
