"""Starter canned responses, so a new team has shortcuts on day one

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

canned = sa.table("canned_responses", sa.column("shortcut", sa.String), sa.column("text", sa.Text))
STARTERS = [
    ("hi", "Hi, I'm here now and I've read your conversation with our assistant."),
    ("sorry", "I'm sorry about the trouble, and thank you for your patience."),
    ("check", "Let me check that for you; it will take a minute or two."),
    ("bye", "Is there anything else I can help with today?"),
]


def upgrade() -> None:
    op.bulk_insert(canned, [{"shortcut": s, "text": t} for s, t in STARTERS])


def downgrade() -> None:
    op.execute(canned.delete().where(canned.c.shortcut.in_([s for s, _ in STARTERS])))
