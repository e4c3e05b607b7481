"""No raw personal data at rest: a customer types a card number, an IBAN, a phone number
and an email into the widget, asks for a person and leaves another email for the reply;
then every file under the system's ``var/`` (every database, WAL and log) is searched.

The typed values must appear nowhere: the handoff service redacts them before it stores
the message or relays it to Rasa, so neither the tracker, the outbox, the escalation
record nor a log can hold them. The offline-reply email is the one exception, kept in
the customers table: that it is found there shows the search can find what is stored.
Each run makes its own values, so another test's data cannot answer for this one.
"""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from handoff.redact import iban_valid, luhn_valid
from tests.helpers.stack import call, everyone_away
from tests.helpers.widget_page import BOT_MS, UI_MS, WidgetPage
from tools.serve import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def card_number(rng: random.Random) -> str:
    """A fresh 16-digit Visa-style number that passes the Luhn check."""
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    return body + check


def iban(rng: random.Random) -> str:
    """A fresh British IBAN with valid check digits (ISO 13616)."""
    bban = "WEST" + "".join(rng.choice("0123456789") for _ in range(14))
    check = next(f"{n:02d}" for n in range(2, 99) if iban_valid(f"GB{n:02d}{bban}"))
    return f"GB{check}{bban}"


def spaced(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def hits(var_dir: Path, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """For each needle, the files under ``var_dir`` whose bytes contain it."""
    found: dict[str, list[str]] = {name: [] for name in needles}
    for path in sorted(p for p in var_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        for name, needle in needles.items():
            if needle in content:
                found[name].append(str(path.relative_to(var_dir)))
    return found


def test_typed_personal_data_is_nowhere_under_var(page: Page, stack: Stack) -> None:
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - test data or jitter, not a secret
    card, account, tag = card_number(rng), iban(rng), uuid.uuid4().hex[:10]
    phone = f"828-555-{rng.randrange(1000, 10000)}"
    email, offline = f"pat.{tag}@example.com", f"reply.{tag}@example.org"
    everyone_away(stack)  # so the handoff ends in the offline-email form

    chat = WidgetPage(page, stack.handoff_url)
    chat.open()
    chat.say(
        f"I was charged twice on card {spaced(card)}. Refund it to {spaced(account)} "
        f"or call me on {phone}, my email is {email}"
    )
    expect(chat.said("customer", "[card]")).to_have_count(1, timeout=UI_MS)
    expect(page.locator(".lw-messages .lw-msg-bot").first).to_be_visible(timeout=BOT_MS)
    chat.say("can I talk to a real person please")
    form = page.get_by_label("Email address", exact=True)
    expect(form).to_be_visible(timeout=BOT_MS)
    form.fill(offline)
    form.press("Enter")
    expect(page.locator(".lw-notice", has_text="We'll reply by email")).to_be_visible(timeout=UI_MS)
    session = chat.session()
    status, stored = call(
        stack, "GET", f"/conversations/{session['conversationId']}", session["token"]
    )
    assert status == 200 and "[iban]" in stored["messages"][0]["text"], stored

    digits = re.sub(r"\D", "", phone)
    found = hits(
        stack.var_dir,
        {
            "card": card.encode(),
            "card, spaced": spaced(card).encode(),
            "IBAN": account.encode(),
            "IBAN, spaced": spaced(account).encode(),
            "phone": phone.encode(),
            "phone, digits": digits.encode(),
            "email": email.encode(),
            "offline email": offline.encode(),
        },
    )
    offline_files = found.pop("offline email")
    assert found == {name: [] for name in found}, f"raw personal data at rest: {found}"
    assert offline_files and all(f.startswith("handoff.db") for f in offline_files), offline_files
    call(stack, "POST", f"/conversations/{session['conversationId']}/leave", session["token"])
