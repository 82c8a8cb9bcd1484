"""The ModelService servicer: generals_rl.v1 messages <-> ``ModelRegistry`` calls, nothing else.

Every rule lives in the domain (``core``, ``transfer``, ``validation``); errors are domain errors that
the server interceptor turns into status codes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

import grpc.aio

from generals_rl.services.model import convert
from generals_rl.services.model.api import ModelRegistry
from generals_rl.services.model.domain import UploadPart
from generals_rl.v1 import model_pb2, model_pb2_grpc

SERVICE = model_pb2.DESCRIPTOR.services_by_name["ModelService"]


async def _parts(requests: AsyncIterable[model_pb2.PublishPolicyRequest]) -> AsyncIterator[UploadPart]:
    async for request in requests:
        yield convert.upload_part_from(request)


class ModelServicer(model_pb2_grpc.ModelServiceServicer):
    """Translates ModelService calls for a ``ModelRegistry`` (``LocalModelRegistry`` in the server)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry

    async def PublishPolicy(
        self,
        request_iterator: AsyncIterable[model_pb2.PublishPolicyRequest],
        context: grpc.aio.ServicerContext,
    ) -> model_pb2.PolicyVersion:
        return convert.version_to(await self.registry.publish_parts(_parts(request_iterator)))

    async def GetPolicy(
        self, request: model_pb2.GetPolicyRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[model_pb2.GetPolicyResponse]:
        parts = self.registry.download(convert.selector_from(request), request.if_newer_than)
        async for part in parts:
            yield convert.download_part_to(part)

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
