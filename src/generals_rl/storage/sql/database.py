"""``SqlDatabase``: the ``Database`` seam on SQLite or PostgreSQL, and ``upgrade`` to run the migrations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from generals_rl.storage.errors import UnavailableError
from generals_rl.storage.sql.engine import create_sql_engine, is_memory, parse_sql_uri
from generals_rl.storage.sql.games import SqlGameStore
from generals_rl.storage.sql.models import SqlModelStore
from generals_rl.storage.sql.players import SqlPlayerStore
from generals_rl.storage.sql.ratings import SqlRatingStore

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def display_uri(uri: str) -> str:
    """The URI as given, with any password hidden."""
    return make_url(uri).render_as_string(hide_password=True)


class SqlDatabase:
    """One engine, four stores. The schema must be at the migrations' head (``upgrade``)."""

    def __init__(self, uri: str, engine: Engine | None = None) -> None:
        self._engine = engine or create_sql_engine(uri)
        self._uri = display_uri(uri)
        sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._players = SqlPlayerStore(sessions, self._uri)
        self._games = SqlGameStore(sessions, self._uri)
        self._ratings = SqlRatingStore(sessions, self._uri)
        self._models = SqlModelStore(sessions, self._uri)

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def players(self) -> SqlPlayerStore:
        return self._players

    @property
    def games(self) -> SqlGameStore:
        return self._games

    @property
    def ratings(self) -> SqlRatingStore:
        return self._ratings

    @property
    def models(self) -> SqlModelStore:
        return self._models

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> SqlDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` did: the revision before (``None``: an empty database) and after."""

    uri: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _config(engine: Engine) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The database's migration revision, ``None`` when it has none."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest migration shipped with the package."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def upgrade(target: str | SqlDatabase, revision: str = "head") -> Upgrade:
    """Migrate a database (a URI, or an open ``SqlDatabase``: an in-memory SQLite lives only in its engine)
    to ``revision``. SQLite files get their folder created."""
    from alembic import command

    if isinstance(target, SqlDatabase):
        engine, owned, uri = target.engine, False, target.uri
    else:
        url = parse_sql_uri(target)
        uri = display_uri(target)
        if url.get_backend_name() == "sqlite" and not is_memory(url) and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine, owned = create_sql_engine(target), True
    try:
        before = current_revision(engine)
        command.upgrade(_config(engine), revision)  # type: ignore[arg-type]
        after = current_revision(engine)
    except OperationalError as error:
        raise UnavailableError(f"cannot migrate {uri}: {error.orig}") from None
    finally:
        if owned:
            engine.dispose()
    return Upgrade(uri, before, after)
