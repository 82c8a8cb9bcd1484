"""The Model Service's interface as callers see it (``ModelRegistry``), the helpers every
implementation shares (``PolicyTransfers``: publish a network, fetch one back), and the in-process
implementation (``LocalModelRegistry``).

``client.ModelClient`` is the same interface over gRPC, so a learner or an actor written against
``ModelRegistry`` runs in one process or across machines unchanged:

    version = await registry.publish(network, parent=3, training_step=12_000, metrics={"loss": 0.4})
    fetched = await registry.fetch("latest", if_newer_than=version_i_have)
    if fetched is not None:
        info, network = fetched
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Protocol

import torch
from torch import Tensor

from generals_rl.services.model import weights
from generals_rl.services.model.core import ModelCore
from generals_rl.services.model.domain import (
    Actor,
    AliasInfo,
    Check,
    DownloadPart,
    EventKind,
    EventPage,
    Lineage,
    NotModified,
    PolicyMetadata,
    Selector,
    UploadPart,
    VersionInfo,
    VersionPage,
    VersionState,
    select,
)
from generals_rl.services.model.transfer import download_parts, receive_download, receive_upload, upload_parts
from generals_rl.services.model.validation import ValidationReport
from generals_rl.training.networks import PolicyNetwork

log = logging.getLogger(__name__)

Target = int | str | Selector
"""A version number, an alias name, or a ``Selector``."""


class ModelRegistry(Protocol):
    """Publishes, validates, serves and manages policy versions (``model.proto`` documents each)."""

    async def publish_parts(self, parts: AsyncIterable[UploadPart]) -> VersionInfo: ...

    def download(self, selector: Selector, if_newer_than: int = 0) -> AsyncIterator[DownloadPart]: ...

    async def get_version(self, selector: Selector) -> VersionInfo: ...

    async def list_versions(
        self,
        *,
        state: VersionState | None = None,
        architecture: str = "",
        run_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> VersionPage: ...

    async def lineage(self, version: int, max_depth: int = 0) -> Lineage: ...

    async def list_aliases(self) -> list[AliasInfo]: ...

    async def promote(self, version: int, alias: str, actor: Actor) -> AliasInfo: ...

    async def rollback(self, alias: str, to_version: int, actor: Actor) -> AliasInfo: ...

    async def retire(self, version: int, actor: Actor) -> VersionInfo: ...

    async def list_events(
        self,
        *,
        version: int = 0,
        alias: str = "",
        kind: EventKind | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> EventPage: ...


async def _stream(parts: Iterable[UploadPart]) -> AsyncIterator[UploadPart]:
    for part in parts:
        yield part


def selector_of(target: Target) -> Selector:
    return target if isinstance(target, Selector) else select(target)


class PolicyTransfers:
    """Publishing and fetching whole policies over ``publish_parts`` and ``download``."""

    async def publish_parts(self, parts: AsyncIterable[UploadPart]) -> VersionInfo:
        raise NotImplementedError

    def download(self, selector: Selector, if_newer_than: int = 0) -> AsyncIterator[DownloadPart]:
        raise NotImplementedError

    async def publish_bytes(self, metadata: PolicyMetadata, data: bytes) -> VersionInfo:
        """Upload a safetensors file with its metadata (``size_bytes`` is filled in); the version,
        ACCEPTED or REJECTED, once validated."""
        return await self.publish_parts(_stream(upload_parts(metadata, data)))

    async def publish(
        self,
        network: PolicyNetwork | Mapping[str, Tensor],
        *,
        architecture: str = "",
        config_json: str = "",
        parent_version: int = 0,
        training_step: int = 0,
        metrics: Mapping[str, float] | None = None,
        run_id: str = "",
        publisher: str = "",
        request_id: str = "",
        description: str = "",
    ) -> VersionInfo:
        """Publish a network (its architecture and config come with it) or a state dict (give
        ``architecture`` and ``config_json``)."""
        if isinstance(network, PolicyNetwork):
            architecture = architecture or network.arch_id
            config_json = config_json or network.config_json()
        elif not architecture:
            raise ValueError("publishing a state dict needs its architecture (and config_json)")
        metadata = PolicyMetadata(
            architecture=architecture,
            config_json=config_json or "{}",
            parent_version=parent_version,
            training_step=training_step,
            metrics=dict(metrics or {}),
            run_id=run_id,
            publisher=publisher,
            request_id=request_id,
            description=description,
        )
        return await self.publish_bytes(metadata, weights.encode(network))

    async def fetch_bytes(
        self, target: Target, *, if_newer_than: int = 0
    ) -> tuple[VersionInfo, bytes] | NotModified:
        """A version's metadata and safetensors bytes (size and SHA-256 checked), or ``NotModified``."""
        return await receive_download(self.download(selector_of(target), if_newer_than))

    async def fetch(
        self, target: Target, *, if_newer_than: int = 0, device: torch.device | str = "cpu"
    ) -> tuple[VersionInfo, PolicyNetwork] | None:
        """A version and its network, loaded and in eval mode; ``None`` when not newer than
        ``if_newer_than``."""
        got = await self.fetch_bytes(target, if_newer_than=if_newer_than)
        if isinstance(got, NotModified):
            return None
        info, data = got
        network = weights.load_network(info.metadata.architecture, info.metadata.config_json, data)
        return info, network.to(device)


class LocalModelRegistry(PolicyTransfers):
    """``ModelRegistry`` on a ``ModelCore`` in this process: blocking calls run in worker threads;
    validation runs at most ``concurrent_validations`` at a time, and a publication whose caller
    went away still finishes (its version never stays PENDING)."""

    def __init__(self, core: ModelCore) -> None:
        self.core = core
        self._validations = asyncio.Semaphore(core.config.concurrent_validations)
        self._tasks: set[asyncio.Task[VersionInfo]] = set()

    async def start(self) -> None:
        rejected = await asyncio.to_thread(self.core.recover_pending)
        if rejected:
            log.warning("rejected versions left pending", extra={"versions": ",".join(map(str, rejected))})

    async def close(self) -> None:
        """Let publications being validated finish (each is bounded by the validation timeout)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.core.config.validation.timeout_s + 10)

    async def publish_parts(self, parts: AsyncIterable[UploadPart]) -> VersionInfo:
        upload = await receive_upload(parts, self.core.architectures)
        version, new = await asyncio.to_thread(self.core.admit, upload)
        if not new:
            return version
        task = asyncio.create_task(self._validate(version, upload.data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(task)

    async def _validate(self, version: VersionInfo, data: bytes) -> VersionInfo:
        async with self._validations:
            try:
                report = await asyncio.to_thread(self.core.validate, version, data)
            except Exception as error:  # a validator bug must not leave the version PENDING
                log.exception("validation failed unexpectedly", extra={"version": version.version})
                report = ValidationReport((Check("validation", False, f"{type(error).__name__}: {error}"),))
        return await asyncio.to_thread(self.core.conclude, version.version, report, data)

    async def download(self, selector: Selector, if_newer_than: int = 0) -> AsyncIterator[DownloadPart]:
        result = await asyncio.to_thread(self.core.download, selector, if_newer_than)
        if isinstance(result, NotModified):
            yield result
            return
        for part in download_parts(*result):
            yield part

    async def get_version(self, selector: Selector) -> VersionInfo:
        return await asyncio.to_thread(self.core.get_version, selector)

    async def list_versions(
        self,
        *,
        state: VersionState | None = None,
        architecture: str = "",
        run_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> VersionPage:
        return await asyncio.to_thread(
            lambda: self.core.list_versions(
                state=state,
                architecture=architecture,
                run_id=run_id,
                page_size=page_size,
                page_token=page_token,
            )
        )

    async def lineage(self, version: int, max_depth: int = 0) -> Lineage:
        return await asyncio.to_thread(self.core.lineage, version, max_depth)

    async def list_aliases(self) -> list[AliasInfo]:
        return await asyncio.to_thread(self.core.list_aliases)

    async def promote(self, version: int, alias: str, actor: Actor) -> AliasInfo:
        return await asyncio.to_thread(self.core.promote, version, alias, actor)

    async def rollback(self, alias: str, to_version: int, actor: Actor) -> AliasInfo:
        return await asyncio.to_thread(self.core.rollback, alias, to_version, actor)

    async def retire(self, version: int, actor: Actor) -> VersionInfo:
        return await asyncio.to_thread(self.core.retire, version, actor)

    async def list_events(
        self,
        *,
        version: int = 0,
        alias: str = "",
        kind: EventKind | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> EventPage:
        return await asyncio.to_thread(
            lambda: self.core.list_events(
                version=version, alias=alias, kind=kind, page_size=page_size, page_token=page_token
            )
        )
