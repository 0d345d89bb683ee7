"""item versions: doubts (the verdicts staff must decide)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item_versions") as batch:
        batch.add_column(sa.Column("doubts", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("item_versions") as batch:
        batch.drop_column("doubts")
