"""service: retries, reminders, state

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_state",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "reminders_sent",
        sa.Column("subcommittee_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subcommittee_id"],
            ["subcommittees.id"],
        ),
        sa.PrimaryKeyConstraint("subcommittee_id", "key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("subcommittee_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("release_approved", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_foreign_key(
            "fk_outbox_subcommittee", "subcommittees", ["subcommittee_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_subcommittee", type_="foreignkey")
        batch_op.drop_column("release_approved")
        batch_op.drop_column("subcommittee_id")
        batch_op.drop_column("next_attempt_at")

    op.drop_table("reminders_sent")
    op.drop_table("service_state")
