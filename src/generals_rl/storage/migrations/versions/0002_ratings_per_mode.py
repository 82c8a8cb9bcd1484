"""Ratings per mode: 1v1 and FFA are separate rating pools, so a rating is keyed by (player, mode).
Ratings stored before this revision count as 1v1 ratings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(length=8), server_default="1v1", nullable=False))
        batch_op.drop_constraint(batch_op.f("pk_ratings"), type_="primary")
        batch_op.create_primary_key(batch_op.f("pk_ratings"), ["player_id", "mode"])
        batch_op.create_check_constraint(batch_op.f("ck_ratings_mode"), "mode IN ('1v1', 'ffa')")


def downgrade() -> None:
    op.execute("DELETE FROM ratings WHERE mode <> '1v1'")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_ratings_mode"), type_="check")
        batch_op.drop_constraint(batch_op.f("pk_ratings"), type_="primary")
        batch_op.create_primary_key(batch_op.f("pk_ratings"), ["player_id"])
        batch_op.drop_column("mode")
