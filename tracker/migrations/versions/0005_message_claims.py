"""message claims: one stored message per Message-ID (or raw hash), across processes

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_claims",
        sa.Column("key", sa.String(1000), primary_key=True),
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey("messages.id", name="fk_claim_message"),
            nullable=False,
        ),
    )
    # every message already processed (not a duplicate) holds its key
    op.execute(
        "INSERT INTO message_claims (key, message_id) "
        "SELECT COALESCE(message_id, 'sha256:' || raw_sha256), MIN(id) FROM messages "
        "WHERE state != 'duplicate' GROUP BY COALESCE(message_id, 'sha256:' || raw_sha256)"
    )


def downgrade() -> None:
    op.drop_table("message_claims")
