"""The Replay Service's gRPC servicer: requests to ``ReplayCore`` calls, answers to responses.

The two bulk RPCs skip the generated message classes on the hot path: RecordExperience receives
its requests as raw wire bytes (``core.record`` decodes them without copying tensors) and
GetExperienceBatch sends wire bytes built by ``convert.batch_bytes`` (one copy of the items'
data). ``replay_service`` registers the handlers accordingly; every other RPC uses the generated
(de)serializers. Domain errors become status codes in the server interceptor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import grpc.aio
import numpy as np

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.common.server import Service
from generals_rl.services.replay import convert
from generals_rl.services.replay.core import ReplayCore
from generals_rl.services.replay.tables import Table
from generals_rl.v1 import replay_pb2, replay_pb2_grpc

DESCRIPTOR = replay_pb2.DESCRIPTOR.services_by_name["ReplayService"]
MAX_UPDATE_KEYS = 65536
THREAD_BYTES = 1 << 20
"""Batches at least this large are encoded in a worker thread (``bytes.join`` drops the GIL)."""


def table_info(table: Table) -> replay_pb2.TableInfo:
    return replay_pb2.TableInfo(
        config=convert.table_config_to(table.config),
        stats=convert.stats_to(table.stats()),
        created_at=convert.timestamp(table.created_at),
    )


class ReplayServicer(replay_pb2_grpc.ReplayServiceServicer):
    """``generals_rl.v1.ReplayService`` over a ``ReplayCore``."""

    def __init__(self, core: ReplayCore) -> None:
        self.core = core

    async def CreateTable(
        self, request: replay_pb2.CreateTableRequest, context: grpc.aio.ServicerContext
    ) -> replay_pb2.TableInfo:
        return table_info(await self.core.create_table(convert.table_config_from(request.config)))

    async def ListTables(
        self, request: replay_pb2.ListTablesRequest, context: grpc.aio.ServicerContext
    ) -> replay_pb2.ListTablesResponse:
        return replay_pb2.ListTablesResponse(tables=[table_info(t) for t in self.core.list_tables()])

    async def RecordExperience(
        self, request_iterator: AsyncIterator[bytes], context: grpc.aio.ServicerContext
    ) -> replay_pb2.RecordExperienceResponse:
        result = await self.core.record(request_iterator)
        return replay_pb2.RecordExperienceResponse(
            items=result.items, bytes=result.bytes, wait_s=result.wait_s, duplicates=result.duplicates
        )

    async def GetExperienceBatch(
        self, request: replay_pb2.GetExperienceBatchRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[bytes]:
        batches = self.core.sample(
            request.table,
            request.batch_size,
            num_batches=request.num_batches,
            timeout_s=request.timeout_ms / 1000 if request.timeout_ms else None,
            beta=request.beta if request.HasField("beta") else None,
            learner_version=request.learner_version,
        )
        async for sampled, signature in batches:
            if sampled.items.count * sum(f.nbytes for f in signature) >= THREAD_BYTES:
                yield await asyncio.to_thread(convert.batch_bytes, sampled, signature)
            else:
                yield convert.batch_bytes(sampled, signature)

    async def UpdatePriorities(
        self, request: replay_pb2.UpdatePrioritiesRequest, context: grpc.aio.ServicerContext
    ) -> replay_pb2.UpdatePrioritiesResponse:
        if len(request.keys) > MAX_UPDATE_KEYS:
            raise InvalidArgument(f"at most {MAX_UPDATE_KEYS} keys per call, got {len(request.keys)}")
        table = self.core.table(request.table)  # NOT_FOUND before the tensor's own checks
        keys = np.asarray(request.keys, dtype=np.uint64)
        priorities = convert.priorities_from(request.priorities, len(request.keys))
        updated, missing = self.core.update_priorities(table.name, keys.astype(np.int64), priorities)
        return replay_pb2.UpdatePrioritiesResponse(updated=updated, missing=missing)

    async def GetTableStats(
        self, request: replay_pb2.GetTableStatsRequest, context: grpc.aio.ServicerContext
    ) -> replay_pb2.TableStats:
        return convert.stats_to(self.core.stats(request.table))

    async def Checkpoint(
        self, request: replay_pb2.CheckpointRequest, context: grpc.aio.ServicerContext
    ) -> replay_pb2.CheckpointResponse:
        info = await self.core.checkpoint()
        return replay_pb2.CheckpointResponse(
            uri=info.uri, items=info.items, bytes=info.bytes, at=convert.timestamp(info.at)
        )

    async def LoadArchive(
        self, request: replay_pb2.LoadArchiveRequest, context: grpc.aio.ServicerContext
    ) -> replay_pb2.LoadArchiveResponse:
        items, nbytes = await self.core.load_archive(
            request.table,
            request.source_table,
            since=convert.seconds(request.since, request.HasField("since")),
            until=convert.seconds(request.until, request.HasField("until")),
            max_items=request.max_items,
        )
        return replay_pb2.LoadArchiveResponse(items=items, bytes=nbytes)


RAW_REQUESTS = frozenset({"RecordExperience"})
RAW_RESPONSES = frozenset({"GetExperienceBatch"})


def replay_service(servicer: ReplayServicer) -> Service:
    """The servicer as a ``Service`` for ``Server``: the generated handlers, except raw bytes in
    for RecordExperience and out for GetExperienceBatch (module docstring)."""

    def add(server: grpc.aio.Server) -> None:
        handlers = {}
        for method in DESCRIPTOR.methods:
            request = getattr(replay_pb2, method.input_type.name)
            response = getattr(replay_pb2, method.output_type.name)
            kind = {
                (False, False): grpc.unary_unary_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler,
            }[(method.client_streaming, method.server_streaming)]
            handlers[method.name] = kind(
                getattr(servicer, method.name),
                request_deserializer=None if method.name in RAW_REQUESTS else request.FromString,
                response_serializer=None if method.name in RAW_RESPONSES else response.SerializeToString,
            )
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(DESCRIPTOR.full_name, handlers),)
        )

    return Service(DESCRIPTOR.full_name, add)
