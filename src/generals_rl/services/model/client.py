"""``ModelClient``: the ``ModelRegistry`` interface over a ``grpc.aio`` channel to a Model Service.

    async with channel("127.0.0.1:50053") as ch:
        models = ModelClient(ch)
        version = await models.publish(network, parent_version=3, training_step=12_000)
        fetched = await models.fetch("latest", if_newer_than=version.version - 1)

Uploads go in chunks of at most 1 MiB followed by their SHA-256; downloads are checked (size, order,
SHA-256) before anything is returned. A failed call raises the domain error of its status
(``NotFound``, ``FailedPrecondition``, ...) with the server's message, exactly as
``LocalModelRegistry`` would; a download broken on the way is ``Unavailable`` (retry).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from typing import TypeVar

import grpc
import grpc.aio

from generals_rl.services.common.errors import from_rpc_error
from generals_rl.services.model import convert
from generals_rl.services.model.api import PolicyTransfers
from generals_rl.services.model.domain import (
    Actor,
    AliasInfo,
    DownloadPart,
    EventKind,
    EventPage,
    Lineage,
    Selector,
    UploadPart,
    VersionInfo,
    VersionPage,
    VersionState,
)
from generals_rl.v1 import model_pb2, model_pb2_grpc

SERVICE = model_pb2.DESCRIPTOR.services_by_name["ModelService"]
T = TypeVar("T")


async def _call(call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.RpcError as error:
        raise from_rpc_error(error) from error


async def _requests(parts: AsyncIterable[UploadPart]) -> AsyncIterator[model_pb2.PublishPolicyRequest]:
    async for part in parts:
        yield convert.upload_part_to(part)


class ModelClient(PolicyTransfers):
    """The Model Service's operations, remotely. ``timeout_s`` bounds every call but publications,
    which wait for validation up to ``publish_timeout_s``."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        timeout_s: float | None = 60.0,
        publish_timeout_s: float | None = 600.0,
    ) -> None:
        self.stub = model_pb2_grpc.ModelServiceStub(channel)
        self._get_policy = channel.unary_stream(
            f"/{SERVICE.full_name}/GetPolicy",
            request_serializer=model_pb2.GetPolicyRequest.SerializeToString,
            response_deserializer=convert.parse_download,  # chunks as views of the received bytes
        )
        self.timeout_s = timeout_s
        self.publish_timeout_s = publish_timeout_s

    async def publish_parts(self, parts: AsyncIterable[UploadPart]) -> VersionInfo:
        call = self.stub.PublishPolicy(_requests(parts), timeout=self.publish_timeout_s)
        return convert.version_from(await _call(call))

    async def download(self, selector: Selector, if_newer_than: int = 0) -> AsyncIterator[DownloadPart]:
        call = self._get_policy(convert.get_policy_request(selector, if_newer_than), timeout=self.timeout_s)
        try:
            async for response in call:
                yield convert.download_part_from(response)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
        finally:
            call.cancel()  # a consumer that stops early ends the stream (a no-op once it is done)

    async def get_version(self, selector: Selector) -> VersionInfo:
        request = convert.get_version_request(selector)
        return convert.version_from(await _call(self.stub.GetVersion(request, timeout=self.timeout_s)))

    async def list_versions(
        self,
        *,
        state: VersionState | None = None,
        architecture: str = "",
        run_id: str = "",
        page_size: int = 0,
        page_token: str = "",
    ) -> VersionPage:
        request = model_pb2.ListVersionsRequest(
            page=convert.page(page_size, page_token),
            state=convert.STATE_NUMBERS[state],  # type: ignore[arg-type]
            architecture=architecture,
            run_id=run_id,
        )
        return convert.version_page_from(await _call(self.stub.ListVersions(request, timeout=self.timeout_s)))

    async def lineage(self, version: int, max_depth: int = 0) -> Lineage:
        request = model_pb2.GetLineageRequest(version=version, max_depth=max_depth)
        return convert.lineage_from(await _call(self.stub.GetLineage(request, timeout=self.timeout_s)))

    async def list_aliases(self) -> list[AliasInfo]:
        response = await _call(self.stub.ListAliases(model_pb2.ListAliasesRequest(), timeout=self.timeout_s))
        return [convert.alias_from(a) for a in response.aliases]

    async def promote(self, version: int, alias: str, actor: Actor) -> AliasInfo:
        request = model_pb2.PromoteRequest(version=version, alias=alias, actor=convert.actor_to(actor))
        return convert.alias_from(await _call(self.stub.Promote(request, timeout=self.timeout_s)))

    async def rollback(self, alias: str, to_version: int, actor: Actor) -> AliasInfo:
        request = model_pb2.RollbackRequest(alias=alias, to_version=to_version, actor=convert.actor_to(actor))
        return convert.alias_from(await _call(self.stub.Rollback(request, timeout=self.timeout_s)))

    async def retire(self, version: int, actor: Actor) -> VersionInfo:
        request = model_pb2.RetireRequest(version=version, actor=convert.actor_to(actor))
        return convert.version_from(await _call(self.stub.Retire(request, timeout=self.timeout_s)))

    async def list_events(
        self,
        *,
        version: int = 0,
        alias: str = "",
        kind: EventKind | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> EventPage:
        request = model_pb2.ListEventsRequest(
            page=convert.page(page_size, page_token),
            version=version,
            alias=alias,
            kind=convert.KIND_NUMBERS[kind],  # type: ignore[arg-type]
        )
        return convert.event_page_from(await _call(self.stub.ListEvents(request, timeout=self.timeout_s)))
