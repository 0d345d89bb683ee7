"""staff decisions: accept, reject, mark, extend, exempt — who, when, why, undone

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "subcommittee_id", sa.Integer(), sa.ForeignKey("subcommittees.id"), nullable=False
        ),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("item", sa.String(40)),
        sa.Column("code", sa.String(60)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("filename", sa.Text()),
        sa.Column("moment", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_by", sa.String(200)),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id", name="fk_decision_outbox")),
    )
    op.create_index("ix_staff_decisions_subcommittee_id", "staff_decisions", ["subcommittee_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_decisions_subcommittee_id", "staff_decisions")
    op.drop_table("staff_decisions")
