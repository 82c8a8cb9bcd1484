"""``MatchmakerClient``: the Matchmaker Service over ``grpc.aio``, thin, with domain errors.

    async with MatchmakerClient("127.0.0.1:50052") as mm:
        ticket = await mm.find_match(bot="expander", hosted=True)
        final = await mm.wait_ticket(ticket.ticket_id)       # MATCHED, CANCELLED or EXPIRED
        t = await mm.create_tournament(format=SWISS, participants=[...], games_per_pairing=2)
        t = await mm.wait_tournament(t.tournament_id)        # FINISHED or FAILED

Calls answer the contract's messages; a failed call raises the ``common.errors`` exception of its
status (``from_rpc_error``), as the domain code would in one process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, TypeVar

import grpc
import grpc.aio

from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import DeadlineExceeded, from_rpc_error
from generals_rl.v1 import common_pb2, matchmaker_pb2_grpc
from generals_rl.v1 import matchmaker_pb2 as pb

T = TypeVar("T")
_FINAL_TICKET = (pb.TICKET_STATUS_MATCHED, pb.TICKET_STATUS_CANCELLED, pb.TICKET_STATUS_EXPIRED)


class MatchmakerClient:
    """The MatchmakerService RPCs as coroutines; owns its channel when given an address."""

    def __init__(self, target: str | grpc.aio.Channel, timeout_s: float = 30.0) -> None:
        self._owned = isinstance(target, str)
        self._channel = channel(target) if isinstance(target, str) else target
        self._stub = matchmaker_pb2_grpc.MatchmakerServiceStub(self._channel)
        self.timeout_s = timeout_s

    async def __aenter__(self) -> MatchmakerClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owned:
            await self._channel.close()

    async def _unary(self, call: Callable[..., Awaitable[T]], request: Any) -> T:
        try:
            return await call(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error

    # -- queues -----------------------------------------------------------------------------------
    async def find_match(
        self,
        *,
        bot: str | None = None,
        model_version: int | None = None,
        session_token: str | None = None,
        hosted: bool = False,
        mode: int = common_pb2.GAME_MODE_1V1,
        num_players: int = 0,
        opponent_kinds: Iterable[int] = (),
        max_wait_s: int = 0,
        request_id: str = "",
    ) -> pb.Ticket:
        """Queue one player (exactly one of ``bot``, ``model_version``, ``session_token``)."""
        request = pb.FindMatchRequest(
            hosted=hosted,
            mode=mode,  # type: ignore[arg-type]
            num_players=num_players,
            opponent_kinds=list(opponent_kinds),  # type: ignore[arg-type]
            max_wait_s=max_wait_s,
            request_id=request_id,
        )
        if bot is not None:
            request.bot = bot
        if model_version is not None:
            request.model_version = model_version
        if session_token is not None:
            request.session_token = session_token
        return await self._unary(self._stub.FindMatch, request)

    async def cancel(self, ticket_id: str) -> pb.Ticket:
        return await self._unary(self._stub.Cancel, pb.CancelRequest(ticket_id=ticket_id))

    async def watch_ticket(self, ticket_id: str) -> AsyncIterator[pb.Ticket]:
        """The ticket's states until a final one (the stream ends there)."""
        call = self._stub.WatchTicket(pb.WatchTicketRequest(ticket_id=ticket_id))
        try:
            async for ticket in call:
                yield ticket
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from error
        finally:
            call.cancel()

    async def wait_ticket(self, ticket_id: str, timeout_s: float | None = None) -> pb.Ticket:
        """The ticket's final state (MATCHED, CANCELLED or EXPIRED); ``DeadlineExceeded`` after
        ``timeout_s``."""

        async def final() -> pb.Ticket:
            async for ticket in self.watch_ticket(ticket_id):
                if ticket.status in _FINAL_TICKET:
                    return ticket
            raise DeadlineExceeded(f"the stream of ticket {ticket_id!r} ended before a final state")

        try:
            return await asyncio.wait_for(final(), timeout_s)
        except TimeoutError:
            raise DeadlineExceeded(f"ticket {ticket_id!r} is not final after {timeout_s:g} s") from None

    async def list_queues(self) -> list[pb.QueueInfo]:
        response = await self._unary(self._stub.ListQueues, pb.ListQueuesRequest())
        return list(response.queues)

    # -- tournaments ------------------------------------------------------------------------------
    async def create_tournament(
        self, request: pb.CreateTournamentRequest | None = None, **fields: Any
    ) -> pb.Tournament:
        """Create one from a request message or its fields (``format=``, ``participants=``, ...)."""
        return await self._unary(self._stub.CreateTournament, request or pb.CreateTournamentRequest(**fields))

    async def get_tournament(self, tournament_id: str) -> pb.Tournament:
        return await self._unary(
            self._stub.GetTournament, pb.GetTournamentRequest(tournament_id=tournament_id)
        )

    async def list_tournaments(
        self, status: int = pb.TOURNAMENT_STATUS_UNSPECIFIED, page_size: int = 0, page_token: str = ""
    ) -> pb.ListTournamentsResponse:
        request = pb.ListTournamentsRequest(
            status=status,  # type: ignore[arg-type]
            page=common_pb2.PageRequest(page_size=page_size, page_token=page_token),
        )
        return await self._unary(self._stub.ListTournaments, request)

    async def wait_tournament(
        self,
        tournament_id: str,
        *,
        poll_s: float = 0.5,
        timeout_s: float | None = None,
        on_update: Callable[[pb.Tournament], None] | None = None,
    ) -> pb.Tournament:
        """Poll until FINISHED or FAILED, calling ``on_update`` with every state read."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            current = await self.get_tournament(tournament_id)
            if on_update is not None:
                on_update(current)
            if current.status != pb.TOURNAMENT_STATUS_RUNNING:
                return current
            if deadline is not None and time.monotonic() >= deadline:
                raise DeadlineExceeded(f"tournament {tournament_id!r} still runs after {timeout_s:g} s")
            await asyncio.sleep(poll_s)

    # -- opponents --------------------------------------------------------------------------------
    async def sample_opponents(
        self, request: pb.SampleOpponentsRequest | None = None, **fields: Any
    ) -> pb.SampleOpponentsResponse:
        return await self._unary(self._stub.SampleOpponents, request or pb.SampleOpponentsRequest(**fields))
