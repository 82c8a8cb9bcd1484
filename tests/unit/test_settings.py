"""Settings: defaults on one machine, GRL_* variables, flags over variables, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from generals_rl.settings import Settings


def test_defaults_run_everything_on_one_machine(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.sql_uri == f"sqlite:///{tmp_path / 'grl.db'}"
    assert settings.blob_uri == f"file://{tmp_path / 'blobs'}"
    assert settings.cache_uri == "memory://"
    assert (
        settings.port("game") == 50051
        and settings.port("replay") == 50055
        and settings.port("gateway") == 8080
    )
    assert settings.address("elo") == "127.0.0.1:50054"
    assert settings.metrics_port is None


def test_environment_then_flags(tmp_path: Path) -> None:
    env = {
        "GRL_DATA_DIR": str(tmp_path),
        "GRL_SQL_URI": "postgresql://grl@db:5432/grl",
        "GRL_CACHE_URI": "redis://cache:6379/0",
        "GRL_GAME_PORT": "6001",
        "GRL_ELO_ADDR": "elo.internal:50054",
        "GRL_METRICS_PORT": "9100",
        "GRL_LOG_FORMAT": "json",
    }
    settings = Settings.from_env(env, cache_uri="memory://", ports={"elo": 7000}, blob_uri=None)
    assert settings.sql_uri == "postgresql://grl@db:5432/grl"
    assert settings.cache_uri == "memory://"  # the flag wins
    assert settings.blob_uri == f"file://{tmp_path / 'blobs'}"  # None flags are ignored
    assert settings.port("game") == 6001 and settings.port("elo") == 7000
    assert settings.address("game") == "127.0.0.1:6001" and settings.address("elo") == "elo.internal:50054"
    assert settings.metrics_port == 9100 and settings.log_format == "json"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GRL_GAME_PORT": "fifty"}, "GRL_GAME_PORT must be a whole number"),
        ({"GRL_GAME_PORT": "70000"}, "the game port must lie in 0..65535"),
        ({"GRL_ELO_ADDR": "nowhere"}, "the elo address must look like host:port"),
        ({"GRL_LOG_FORMAT": "xml"}, "log format must be 'console' or 'json'"),
    ],
)
def test_bad_settings_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)
