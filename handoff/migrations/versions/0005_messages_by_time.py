"""Messages by speaker and time: the studio's FAQ usage reads the bot's last 30 days

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 03:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_speaker_created", "messages", ["speaker", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_speaker_created", table_name="messages")
