"""The ModelService servicer: generals_rl.v1 messages <-> ``ModelRegistry`` calls, nothing else.

Every rule lives in the domain (``core``, ``transfer``, ``validation``); errors are domain errors that
the server interceptor turns into status codes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import grpc
import grpc.aio

from generals_rl.services.common.server import Service
from generals_rl.services.model import convert
from generals_rl.services.model.api import ModelRegistry
from generals_rl.services.model.domain import Checksum, UploadPart, VersionInfo
from generals_rl.services.model.lru import SizedLru
from generals_rl.v1 import model_pb2, model_pb2_grpc

SERVICE = model_pb2.DESCRIPTOR.services_by_name["ModelService"]


async def _parts(requests: AsyncIterable[model_pb2.PublishPolicyRequest]) -> AsyncIterator[UploadPart]:
    async for request in requests:
        yield convert.upload_part_from(request)


class _HandlerTable:
    """Stands in for a server to collect the generated handler table of the service."""

    handlers: dict[str, grpc.RpcMethodHandler]

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        pass

    def add_registered_method_handlers(self, name: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.handlers = dict(handlers)


def service(servicer: ModelServicer) -> Service:
    """The ModelService for ``Server``: the generated handlers, except that GetPolicy's serializer
    also takes chunk messages already encoded (``convert.encode_chunk``)."""
    table = _HandlerTable()
    model_pb2_grpc.add_ModelServiceServicer_to_server(servicer, table)
    handlers = table.handlers
    handlers["GetPolicy"] = grpc.unary_stream_rpc_method_handler(
        servicer.GetPolicy,
        request_deserializer=model_pb2.GetPolicyRequest.FromString,
        response_serializer=convert.serialize_download,
    )

    def add(server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),))
        server.add_registered_method_handlers(SERVICE.full_name, handlers)

    return Service(SERVICE.full_name, add)


class ModelServicer(model_pb2_grpc.ModelServiceServicer):
    """Translates ModelService calls for a ``ModelRegistry`` (``LocalModelRegistry`` in the server)."""

    def __init__(self, registry: ModelRegistry, wire_cache_bytes: int = 256 * 1024 * 1024) -> None:
        self.registry = registry
        # The encoded chunk messages of recently served versions, by SHA-256: sending a hot version
        # then costs no copy of its bytes (a fresh 1 MiB message per chunk is most of the cost).
        self.wire: SizedLru[list[bytes]] = SizedLru(wire_cache_bytes, lambda m: sum(map(len, m)))

    async def PublishPolicy(
        self,
        request_iterator: AsyncIterable[model_pb2.PublishPolicyRequest],
        context: grpc.aio.ServicerContext,
    ) -> model_pb2.PolicyVersion:
        return convert.version_to(await self.registry.publish_parts(_parts(request_iterator)))

    async def GetPolicy(
        self, request: model_pb2.GetPolicyRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[model_pb2.GetPolicyResponse | bytes]:
        parts = self.registry.download(convert.selector_from(request), request.if_newer_than)
        cached: list[bytes] | None = None
        encoded: list[bytes] = []
        sha256 = ""
        async for part in parts:
            if isinstance(part, VersionInfo):
                sha256 = part.sha256
                cached = self.wire.get(sha256)
            elif isinstance(part, bytes | memoryview):
                # the same chunk, encoded when the version was last served
                message = cached[len(encoded)] if cached is not None else convert.encode_chunk(part)
                encoded.append(message)
                yield message
                continue
            elif isinstance(part, Checksum) and cached is None and encoded:
                self.wire.put(sha256, encoded)
            yield convert.download_message(part)

    async def GetVersion(
        self, request: model_pb2.GetVersionRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.PolicyVersion:
        return convert.version_to(await self.registry.get_version(convert.selector_from(request)))

    async def ListVersions(
        self, request: model_pb2.ListVersionsRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.ListVersionsResponse:
        page = await self.registry.list_versions(
            state=convert.state_from(request.state),
            architecture=request.architecture,
            run_id=request.run_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return convert.version_page_to(page)

    async def GetLineage(
        self, request: model_pb2.GetLineageRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.GetLineageResponse:
        return convert.lineage_to(await self.registry.lineage(request.version, request.max_depth))

    async def ListAliases(
        self, request: model_pb2.ListAliasesRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.ListAliasesResponse:
        aliases = await self.registry.list_aliases()
        return model_pb2.ListAliasesResponse(aliases=[convert.alias_to(a) for a in aliases])

    async def Promote(
        self, request: model_pb2.PromoteRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.Alias:
        actor = convert.actor_from(request.actor)
        return convert.alias_to(await self.registry.promote(request.version, request.alias, actor))

    async def Rollback(
        self, request: model_pb2.RollbackRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.Alias:
        actor = convert.actor_from(request.actor)
        return convert.alias_to(await self.registry.rollback(request.alias, request.to_version, actor))

    async def Retire(
        self, request: model_pb2.RetireRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.PolicyVersion:
        actor = convert.actor_from(request.actor)
        return convert.version_to(await self.registry.retire(request.version, actor))

    async def ListEvents(
        self, request: model_pb2.ListEventsRequest, context: grpc.aio.ServicerContext
    ) -> model_pb2.ListEventsResponse:
        page = await self.registry.list_events(
            version=request.version,
            alias=request.alias,
            kind=convert.kind_from(request.kind),
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return convert.event_page_to(page)
