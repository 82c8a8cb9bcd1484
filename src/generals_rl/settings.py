"""Settings of every service and command: one frozen dataclass, parsed once at the edge.

Precedence: explicit values (command-line flags) over ``GRL_*`` environment variables over the
embedded defaults, which run everything on one machine: a SQLite file and a blob folder under the
data directory, an in-memory cache, the seed's ports on loopback.

| variable | meaning | default |
|---|---|---|
| ``GRL_DATA_DIR`` | folder of the embedded SQLite file and blob folder | ``./grl-data`` |
| ``GRL_SQL_URI`` | ``sqlite:///…`` or ``postgresql://…`` | ``sqlite:///<data dir>/grl.db`` |
| ``GRL_CACHE_URI`` | ``memory://`` or ``redis://…`` | ``memory://`` |
| ``GRL_BLOB_URI`` | ``file:///…`` or ``s3://…`` | ``file://<data dir>/blobs`` |
| ``GRL_HOST`` | interface the servers listen on | ``127.0.0.1`` |
| ``GRL_<SERVICE>_PORT`` | port of GAME, MATCHMAKER, MODEL, ELO, REPLAY, GATEWAY | 50051-50055, 8080 |
| ``GRL_<SERVICE>_ADDR`` | where peers reach a service (``host:port``) | ``127.0.0.1:<port>`` |
| ``GRL_METRICS_PORT`` | Prometheus ``/metrics`` port (0: a free one; ``off``: none) | off |
| ``GRL_LOG_FORMAT`` | ``console`` or ``json`` | ``console`` |
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SERVICES = ("game", "matchmaker", "model", "elo", "replay", "gateway")
DEFAULT_PORTS = {
    "game": 50051,
    "matchmaker": 50052,
    "model": 50053,
    "elo": 50054,
    "replay": 50055,
    "gateway": 8080,
}

LogFormat = Literal["console", "json"]


@dataclass(frozen=True)
class Settings:
    """Where storage lives, where each service listens and where its peers are."""

    data_dir: Path = Path("grl-data")
    sql_uri: str = ""
    cache_uri: str = "memory://"
    blob_uri: str = ""
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = dataclasses.field(default_factory=lambda: dict(DEFAULT_PORTS))
    addresses: Mapping[str, str] = dataclasses.field(default_factory=dict)
    metrics_port: int | None = None
    log_format: LogFormat = "console"

    def __post_init__(self) -> None:
        data_dir = Path(self.data_dir).resolve()
        object.__setattr__(self, "data_dir", data_dir)
        if not self.sql_uri:
            object.__setattr__(self, "sql_uri", f"sqlite:///{data_dir / 'grl.db'}")
        if not self.blob_uri:
            object.__setattr__(self, "blob_uri", f"file://{data_dir / 'blobs'}")
        ports = {**DEFAULT_PORTS, **self.ports}
        for name, port in ports.items():
            if name not in DEFAULT_PORTS:
                raise ValueError(f"unknown service {name!r}: choose one of {', '.join(SERVICES)}")
            if not 0 <= port <= 65535:
                raise ValueError(f"the {name} port must lie in 0..65535, got {port}")
        object.__setattr__(self, "ports", ports)
        addresses = {name: f"127.0.0.1:{ports[name]}" for name in SERVICES}
        for name, address in self.addresses.items():
            if name not in DEFAULT_PORTS:
                raise ValueError(f"unknown service {name!r}: choose one of {', '.join(SERVICES)}")
            if ":" not in address:
                raise ValueError(f"the {name} address must look like host:port, got {address!r}")
            addresses[name] = address
        object.__setattr__(self, "addresses", addresses)
        if self.log_format not in ("console", "json"):
            raise ValueError(f"log format must be 'console' or 'json', got {self.log_format!r}")

    def port(self, service: str) -> int:
        return self.ports[service]

    def address(self, service: str) -> str:
        """``host:port`` where peers reach ``service``."""
        return self.addresses[service]

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``GRL_*`` variables of ``env`` (default: the process environment), then
        ``overrides`` (flags; ``None`` values are ignored)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if env.get("GRL_DATA_DIR"):
            values["data_dir"] = Path(env["GRL_DATA_DIR"])
        for key, var in (
            ("sql_uri", "GRL_SQL_URI"),
            ("cache_uri", "GRL_CACHE_URI"),
            ("blob_uri", "GRL_BLOB_URI"),
        ):
            if env.get(var):
                values[key] = env[var]
        if env.get("GRL_HOST"):
            values["host"] = env["GRL_HOST"]
        ports: dict[str, int] = {}
        addresses: dict[str, str] = {}
        for name in SERVICES:
            var = f"GRL_{name.upper()}_PORT"
            if env.get(var):
                ports[name] = _int(env[var], var)
            if env.get(f"GRL_{name.upper()}_ADDR"):
                addresses[name] = env[f"GRL_{name.upper()}_ADDR"]
        values["ports"] = ports
        values["addresses"] = addresses
        metrics = env.get("GRL_METRICS_PORT", "off")
        values["metrics_port"] = None if metrics in ("", "off") else _int(metrics, "GRL_METRICS_PORT")
        if env.get("GRL_LOG_FORMAT"):
            values["log_format"] = env["GRL_LOG_FORMAT"]
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("ports", "addresses"):
                values[key] = {**values.get(key, {}), **value}
            else:
                values[key] = value
        return Settings(**values)


def _int(text: str, var: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{var} must be a whole number, got {text!r}") from None
