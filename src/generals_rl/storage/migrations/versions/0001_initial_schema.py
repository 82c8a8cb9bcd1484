"""The initial schema: players, games and their seats, match results, ratings and their history, model
versions, aliases and events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 06:32:02.278141
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("version", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("parent", sa.Integer(), nullable=True),
        sa.Column("architecture", sa.String(length=128), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("training_step", sa.BigInteger(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("weights_location", sa.String(length=1024), nullable=True),
        sa.Column("checksum", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'retired')", name=op.f("ck_model_versions_status")
        ),
        sa.ForeignKeyConstraint(
            ["parent"], ["model_versions.version"], name=op.f("fk_model_versions_parent_model_versions")
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_model_versions")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_status"), ["status"], unique=False)

    op.create_table(
        "model_aliases",
        sa.Column("alias", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version"], ["model_versions.version"], name=op.f("fk_model_aliases_version_model_versions")
        ),
        sa.PrimaryKeyConstraint("alias", name=op.f("pk_model_aliases")),
    )
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("alias", sa.String(length=64), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "kind IN ('created', 'status', 'alias_set', 'alias_deleted')", name=op.f("ck_model_events_kind")
        ),
        sa.ForeignKeyConstraint(
            ["previous_version"],
            ["model_versions.version"],
            name=op.f("fk_model_events_previous_version_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version"], ["model_versions.version"], name=op.f("fk_model_events_version_model_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_events")),
    )
    with op.batch_alter_table("model_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_events_alias"), ["alias"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_events_version"), ["version"], unique=False)

    op.create_table(
        "players",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('human', 'bot', 'model')", name=op.f("ck_players_kind")),
        sa.ForeignKeyConstraint(
            ["model_version"],
            ["model_versions.version"],
            name=op.f("fk_players_model_version_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_players")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_players_kind_name")),
    )
    op.create_table(
        "games",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("map", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("speed", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticks", sa.Integer(), nullable=False),
        sa.Column("winner_id", sa.String(length=64), nullable=True),
        sa.Column("replay_location", sa.String(length=1024), nullable=True),
        sa.CheckConstraint("mode IN ('1v1', 'ffa')", name=op.f("ck_games_mode")),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'finished', 'aborted')", name=op.f("ck_games_status")
        ),
        sa.ForeignKeyConstraint(["winner_id"], ["players.id"], name=op.f("fk_games_winner_id_players")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_games")),
    )
    with op.batch_alter_table("games", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_games_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_games_status"), ["status", "created_at"], unique=False)

    op.create_table(
        "ratings",
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("elo", sa.Double(), nullable=False),
        sa.Column("mu", sa.Double(), nullable=True),
        sa.Column("sigma", sa.Double(), nullable=True),
        sa.Column("volatility", sa.Double(), nullable=True),
        sa.Column("games", sa.Integer(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("losses", sa.Integer(), nullable=False),
        sa.Column("draws", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["player_id"], ["players.id"], name=op.f("fk_ratings_player_id_players")),
        sa.PrimaryKeyConstraint("player_id", name=op.f("pk_ratings")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_elo"), ["elo"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_mu"), ["mu"], unique=False)

    op.create_table(
        "game_seats",
        sa.Column("game_id", sa.String(length=64), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["game_id"], ["games.id"], name=op.f("fk_game_seats_game_id_games"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["player_id"], ["players.id"], name=op.f("fk_game_seats_player_id_players")),
        sa.PrimaryKeyConstraint("game_id", "seat", name=op.f("pk_game_seats")),
        sa.UniqueConstraint("game_id", "player_id", name=op.f("uq_game_seats_game_id_player_id")),
    )
    with op.batch_alter_table("game_seats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_game_seats_player_id"), ["player_id"], unique=False)

    op.create_table(
        "match_results",
        sa.Column("game_id", sa.String(length=64), nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("placement", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('win', 'loss', 'draw')", name=op.f("ck_match_results_outcome")),
        sa.ForeignKeyConstraint(
            ["game_id"], ["games.id"], name=op.f("fk_match_results_game_id_games"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_match_results_player_id_players")
        ),
        sa.PrimaryKeyConstraint("game_id", "player_id", name=op.f("pk_match_results")),
        sa.UniqueConstraint("game_id", "seat", name=op.f("uq_match_results_game_id_seat")),
    )
    with op.batch_alter_table("match_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_results_player_id"), ["player_id"], unique=False)

    op.create_table(
        "rating_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("player_id", sa.String(length=64), nullable=False),
        sa.Column("game_id", sa.String(length=64), nullable=False),
        sa.Column("elo_before", sa.Double(), nullable=True),
        sa.Column("elo_after", sa.Double(), nullable=False),
        sa.Column("mu_before", sa.Double(), nullable=True),
        sa.Column("mu_after", sa.Double(), nullable=True),
        sa.Column("sigma_before", sa.Double(), nullable=True),
        sa.Column("sigma_after", sa.Double(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["game_id"], ["games.id"], name=op.f("fk_rating_history_game_id_games")),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_rating_history_player_id_players")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_history")),
        sa.UniqueConstraint("player_id", "game_id", name=op.f("uq_rating_history_player_id_game_id")),
    )
    with op.batch_alter_table("rating_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_history_game_id"), ["game_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rating_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_history_game_id"))

    op.drop_table("rating_history")
    with op.batch_alter_table("match_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_results_player_id"))

    op.drop_table("match_results")
    with op.batch_alter_table("game_seats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_game_seats_player_id"))

    op.drop_table("game_seats")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_mu"))
        batch_op.drop_index(batch_op.f("ix_ratings_elo"))

    op.drop_table("ratings")
    with op.batch_alter_table("games", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_games_status"))
        batch_op.drop_index(batch_op.f("ix_games_created_at"))

    op.drop_table("games")
    op.drop_table("players")
    with op.batch_alter_table("model_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_events_version"))
        batch_op.drop_index(batch_op.f("ix_model_events_alias"))

    op.drop_table("model_events")
    op.drop_table("model_aliases")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_versions_status"))

    op.drop_table("model_versions")
