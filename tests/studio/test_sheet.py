"""FAQ spreadsheets: the dry run's row-by-row report, apply all or nothing, the round trip."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio import files as studio_files
from studio.faqs import Faqs
from studio.files import ContentError
from studio.lint import lint
from studio.sheet import derive_key, export_csv, import_sheet
from tests.helpers.content import RASA, files, rasa_validate

REPO = Path(__file__).resolve().parents[2]
GEAR = [
    "kayak",
    "canoe",
    "paddleboard",
    "snowshoe",
    "ski",
    "climbing rope",
    "bear canister",
    "camp chair",
    "hammock",
    "bike rack",
    "roof box",
    "tent footprint",
    "dry bag",
    "wetsuit",
    "crampon",
    "ice axe",
    "avalanche probe",
    "trail camera",
    "solar panel",
    "camp shower",
]


def _good_rows() -> list[list[str]]:
    """45 new FAQs: a rental, a repair and, for some, a cleaning question per item."""
    rows = []
    for number, item in enumerate(GEAR):
        rows.append(
            [
                "",
                f"Do you rent {item}s?\nCan I hire a {item} for the weekend",
                f"We don't rent {item}s yet.",
                "",
                "",
            ]
        )
        rows.append(
            [
                f"{item.replace(' ', '_')}_repair",
                f"can you repair my {item}",
                f"Send your {item} to our repairs team.",
                "repairs-program",
                "",
            ]
        )
        if number < 5:
            rows.append(
                ["", f"how should I clean a {item}", f"Rinse the {item} in fresh water.", "", ""]
            )
    return rows


def _sheet(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["key", "questions", "answer", "article", "notes"])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _fifty() -> list[list[str]]:
    rows = _good_rows()
    assert len(rows) == 45
    bad = [
        ["", "do you sell tent pegs separately", "", "", ""],  # row 47: no answer
        ["kayak_repair", "will you fix a kayak seat", "Yes.", "", ""],  # 48: its key is row 3's
        ["", "Can I hire a  canoe for the  weekend?", "Not yet.", "", ""],  # 49: row 5's, spaced
        ["", "tell me everything about warranties", "Long. " * 80, "", ""],  # 50: over the guide
        ["", "do you rent yurts", "Not yet.", "", "ask Sam"],  # 51: a value in 'notes'
    ]
    return rows + bad


def test_a_dry_run_reports_every_row_and_writes_nothing(content_root: Path) -> None:
    before = files(content_root)
    report = import_sheet(content_root, _sheet(_fifty()), "faqs.csv", apply=False)
    assert files(content_root) == before
    assert report.counts() == {"create": 45, "update": 0, "unchanged": 0, "skip": 5}
    assert report.problems == [
        "the column 'notes' is not one the studio knows (key, questions, answer, article): "
        "rows with a value in it are skipped"
    ]
    skipped = {r.row: r.reasons for r in report.rows if r.action == "skip"}
    assert skipped == {
        47: ["no answer"],
        48: ["the key 'kayak_repair' is also in row 3"],
        49: ["'Can I hire a canoe for the weekend?' is also in row 5"],
        50: ["the answer is 479 characters, over the guide of 400"],
        51: ["has a value in the unknown column 'notes'"],
    }
    first = report.rows[0]
    assert (first.row, first.key, first.action, first.added) == (2, "rent_kayaks", "create", 2)


def test_apply_writes_the_good_rows_and_a_second_import_changes_nothing(content_root: Path) -> None:
    count = len(Faqs(content_root).all())
    report = import_sheet(content_root, _sheet(_fifty()), "faqs.csv", apply=True)
    assert report.applied and report.files == ["data/faq/responses.yml", "data/nlu/faq.yml"]
    faqs = {faq.key: faq for faq in Faqs(content_root).all()}
    assert len(faqs) == count + 45
    assert [p.text for p in faqs["rent_kayaks"].phrases] == [
        "Do you rent kayaks?",
        "Can I hire a kayak for the weekend",
    ]
    assert faqs["kayak_repair"].article == "repairs-program"
    assert [f.line() for f in lint(content_root) if f.level == "error"] == []
    after = files(content_root)
    again = import_sheet(content_root, _sheet(_fifty()), "faqs.csv", apply=True)
    assert again.counts() == {"create": 0, "update": 0, "unchanged": 45, "skip": 5}
    assert files(content_root) == after


def test_a_failure_while_applying_leaves_the_content_as_it_was(
    content_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files(content_root)
    replace = os.replace
    calls = []

    def second_fails(source: str, target: str) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(studio_files.os, "replace", second_fails)
    with pytest.raises(OSError, match="No space left"):
        import_sheet(content_root, _sheet(_fifty()), "faqs.csv", apply=True)
    monkeypatch.undo()
    assert len(calls) >= 2
    assert files(content_root) == before


def test_export_then_import_changes_nothing(content_root: Path) -> None:
    before = files(content_root)
    exported = export_csv(content_root).encode()
    report = import_sheet(content_root, exported, "faqs.csv", apply=True)
    assert report.counts()["unchanged"] == len([f for f in Faqs(content_root).all() if f.text])
    assert report.counts()["skip"] == report.counts()["create"] == report.counts()["update"] == 0
    assert files(content_root) == before


def test_an_update_sets_the_answer_and_adds_questions(content_root: Path) -> None:
    faq = Faqs(content_root).get("gift_wrap")
    questions = "is gift wrapping recyclable\nIs gift  WRAPPING recyclable?"  # one question
    sheet = _sheet([["gift_wrap", questions, "Yes, for $5.", "", ""]])
    report = import_sheet(content_root, sheet, "faqs.csv", apply=True)
    row = report.rows[0]
    assert row.action == "update" and row.added == 1
    assert row.reasons == ["the answer changes", "1 new question"]
    after = Faqs(content_root).get("gift_wrap")
    assert after.answer == "Yes, for $5." and after.article == faq.article  # empty cell: kept
    assert [p.text for p in after.phrases][: len(faq.phrases)] == [p.text for p in faq.phrases]


def test_an_xlsx_sheet_reads_as_the_csv_does(content_root: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["key", "questions", "answer", "article", "notes"])
    for row in _fifty():
        sheet.append(row)
    path = tmp_path / "faqs.xlsx"
    book.save(path)
    from_xlsx = import_sheet(content_root, path.read_bytes(), "faqs.xlsx", apply=False)
    from_csv = import_sheet(content_root, _sheet(_fifty()), "faqs.csv", apply=False)
    assert from_xlsx.as_dict() == from_csv.as_dict()


def test_apply_after_someone_else_edited_is_refused(content_root: Path) -> None:
    dry = import_sheet(content_root, _sheet(_good_rows()), "faqs.csv", apply=False)
    faqs = Faqs(content_root)
    faq = faqs.get("gift_wrap")
    faqs.save(faq.key, faq.version, "Gift wrap is $5.", faq.article, [p.text for p in faq.phrases])
    before = files(content_root)
    with pytest.raises(ContentError, match="stale_import"):
        import_sheet(
            content_root, _sheet(_good_rows()), "faqs.csv", apply=True, version=dry.version
        )
    assert files(content_root) == before


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("Do you rent tents?", "rent_tents"),
        ("How do I book a 2-day kayak course?", "book_2_day_kayak"),
        ("Hi?", "hi_faq"),
        ("42", "faq_42"),
    ],
)
def test_a_key_is_derived_from_the_first_question(question: str, key: str) -> None:
    assert derive_key(question, set()) == key
    assert derive_key(question, {key}) == f"{key}_2"


def test_the_terminal_import_is_a_dry_run_until_asked(content_root: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "faqs.csv"
    sheet.write_bytes(_sheet(_fifty()))
    before = files(content_root)
    command = [
        sys.executable,
        "-m",
        "studio.sheet",
        "import",
        str(sheet),
        "--root",
        str(content_root),
    ]
    dry = subprocess.run(command, cwd=REPO, capture_output=True, text=True)  # noqa: S603 - fixed argv
    assert dry.returncode == 1  # rows were skipped
    assert "row 47   skip      faq/sell_tent_pegs_separately" in dry.stdout
    assert dry.stdout.splitlines()[-1] == (
        "45 create, 0 update, 0 unchanged, 5 skip; dry run: nothing written (--apply writes)"
    )
    assert files(content_root) == before
    applied = subprocess.run(  # noqa: S603 - fixed argv built here, no shell
        [*command, "--apply"], cwd=REPO, capture_output=True, text=True
    )
    assert "applied: data/faq/responses.yml, data/nlu/faq.yml" in applied.stdout


@pytest.mark.skipif(not RASA.exists(), reason=f"{RASA} is not installed")
def test_what_the_studio_writes_passes_rasa_data_validate_and_the_checks(
    content_root: Path,
) -> None:
    """An import, a rename, a retirement and an edit, then ``make validate``'s two steps."""
    import_sheet(content_root, _sheet(_good_rows()), "faqs.csv", apply=True)
    faqs = Faqs(content_root)
    faqs.rename("rent_kayaks", faqs.get("rent_kayaks").version, "kayak_rental")
    faqs.retire("shipping_po_box", faqs.get("shipping_po_box").version, "faq/shipping_express")
    cost = faqs.get("return_cost")
    phrases = [*(p.text for p in cost.phrases[1:]), "what does sending a return cost"]
    faqs.save("return_cost", cost.version, "Returns cost $5.95.", cost.article, phrases)
    done = rasa_validate(content_root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert [f.line() for f in lint(content_root) if f.level == "error"] == []


def test_a_cell_a_spreadsheet_would_run_is_exported_inert_and_read_back(
    content_root: Path,
) -> None:
    faqs = Faqs(content_root)
    faq = faqs.get("promo_code")
    phrases = [*(p.text for p in faq.phrases), "-20% code not working", "=SUM(A1) discount"]
    faqs.save("promo_code", faq.version, faq.answer, faq.article, phrases)
    exported = export_csv(content_root)
    assert exported.startswith("\ufeffkey,questions,answer,article")
    row = next(
        r for r in csv.reader(io.StringIO(exported.lstrip("\ufeff"))) if r[0] == "promo_code"
    )
    assert row[1].endswith("-20% code not working\n=SUM(A1) discount")  # inside the cell
    before = files(content_root)
    report = import_sheet(content_root, exported.encode(), "faqs.csv", apply=True)
    assert report.counts()["skip"] == 0 and files(content_root) == before
    sheet = _sheet([["", "'=1+1 gift card", "Yes.", "", ""]])
    [row_report] = import_sheet(content_root, sheet, "faqs.csv", apply=False).rows
    assert row_report.questions == ["=1+1 gift card"]
