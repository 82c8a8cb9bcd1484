"""The one wiring point of services: the stores a process opens once, the channels to its peers,
and the handle each service hands to a server.

Every service package exposes ``async def open_service(settings, stores, peers) -> ServiceHandle``.
``grl serve <name>`` opens one, ``grl up`` opens all five in one process on the same stores;
either way peers are reached over gRPC at ``settings.address(name)``, so one machine and many
machines run the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc.aio

from generals_rl.services.common.channels import channel
from generals_rl.services.common.server import Service
from generals_rl.settings import Settings
from generals_rl.storage import BlobStore, Cache, SqlDatabase, open_blobs, open_cache, open_sql, upgrade


@dataclass
class Stores:
    """The storage seams of one process, opened from the settings' URIs."""

    database: SqlDatabase
    cache: Cache
    blobs: BlobStore

    @staticmethod
    def open(settings: Settings, migrate: bool = True) -> Stores:
        """Open every seam; with ``migrate`` bring the SQL schema to the newest revision first
        and make sure the blob buckets exist."""
        if settings.sql_uri.startswith("sqlite:///"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        if migrate:
            upgrade(settings.sql_uri)
        blobs = open_blobs(settings.blob_uri)
        blobs.ensure_buckets()
        return Stores(database=open_sql(settings.sql_uri), cache=open_cache(settings.cache_uri), blobs=blobs)

    def close(self) -> None:
        self.database.close()


class Peers:
    """Channels to other services, opened on first use at ``settings.address(name)``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, service: str) -> grpc.aio.Channel:
        if service not in self._channels:
            self._channels[service] = channel(self.settings.address(service), wait_for_ready=True)
        return self._channels[service]

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        await asyncio.gather(*(ch.close() for ch in channels))


async def _nothing() -> None:
    return None


@dataclass
class ServiceHandle:
    """What a service gives its server: the gRPC services to add, background work to start once
    the server listens (tick loops, pairing loops), and how to stop it all."""

    name: str
    services: Sequence[Service]
    start: Callable[[], Awaitable[None]] = field(default=_nothing)
    close: Callable[[], Awaitable[None]] = field(default=_nothing)
