"""``MatchmakerService`` over gRPC: requests to domain calls, domain results to messages, nothing else.

Domain errors become status codes in the server interceptor; storage that cannot be reached
(``storage.UnavailableError``) is UNAVAILABLE here.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc.aio

from generals_rl.services.common.errors import Unavailable
from generals_rl.services.matchmaker.convert import (
    MODE_TO_PROTO,
    kind_name,
    message_dict,
    mode_name,
    player_from_proto,
    player_to_proto,
    timestamp,
)
from generals_rl.services.matchmaker.core import PlayerRef, TicketState, game_mode
from generals_rl.services.matchmaker.opponents import SampleRequest, sample_opponents
from generals_rl.services.matchmaker.pairing import Kind
from generals_rl.services.matchmaker.queues import FindMatch, Queues
from generals_rl.services.matchmaker.tournament_records import (
    PairingRecord,
    TournamentRecord,
    TournamentSpec,
    TournamentStatus,
    player_ref,
)
from generals_rl.services.matchmaker.tournaments_runner import Tournaments
from generals_rl.storage import UnavailableError
from generals_rl.v1 import matchmaker_pb2 as pb
from generals_rl.v1 import matchmaker_pb2_grpc

R = TypeVar("R")

_TICKET_STATUS = {
    "queued": pb.TICKET_STATUS_QUEUED,
    "matched": pb.TICKET_STATUS_MATCHED,
    "cancelled": pb.TICKET_STATUS_CANCELLED,
    "expired": pb.TICKET_STATUS_EXPIRED,
}
_FORMAT_FROM_PROTO = {
    pb.TOURNAMENT_FORMAT_ROUND_ROBIN: "round-robin",
    pb.TOURNAMENT_FORMAT_SWISS: "swiss",
    pb.TOURNAMENT_FORMAT_SINGLE_ELIMINATION: "single-elimination",
}
_FORMAT_TO_PROTO = {v: k for k, v in _FORMAT_FROM_PROTO.items()}
_STATUS_TO_PROTO = {
    TournamentStatus.RUNNING: pb.TOURNAMENT_STATUS_RUNNING,
    TournamentStatus.FINISHED: pb.TOURNAMENT_STATUS_FINISHED,
    TournamentStatus.FAILED: pb.TOURNAMENT_STATUS_FAILED,
}
_STATUS_FROM_PROTO = {v: k for k, v in _STATUS_TO_PROTO.items()}
_STRATEGY = {
    pb.SAMPLING_STRATEGY_LATEST: "latest",
    pb.SAMPLING_STRATEGY_UNIFORM: "uniform",
    pb.SAMPLING_STRATEGY_PFSP: "pfsp",
}
_WEIGHTING = {
    pb.PFSP_WEIGHTING_UNSPECIFIED: "hard",
    pb.PFSP_WEIGHTING_HARD: "hard",
    pb.PFSP_WEIGHTING_VARIANCE: "variance",
}


def _storage(method: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    @functools.wraps(method)
    async def wrapped(*args: Any, **kwargs: Any) -> R:
        try:
            return await method(*args, **kwargs)
        except UnavailableError as error:
            raise Unavailable(f"matchmaker storage is unavailable: {error}") from error

    return wrapped


class MatchmakerServicer(matchmaker_pb2_grpc.MatchmakerServiceServicer):
    """Translates the MatchmakerService RPCs to ``Queues``, ``Tournaments`` and ``sample_opponents``."""

    def __init__(self, queues: Queues, tournaments: Tournaments) -> None:
        self.queues, self.tournaments = queues, tournaments

    # -- queues -----------------------------------------------------------------------------------
    @_storage
    async def FindMatch(self, request: pb.FindMatchRequest, context: grpc.aio.ServicerContext) -> pb.Ticket:
        which = request.WhichOneof("player")
        player = None
        if which == "bot":
            player = PlayerRef(Kind.BOT, request.bot)
        elif which == "model_version":
            player = PlayerRef(Kind.MODEL, str(request.model_version))
        ticket = await self.queues.find_match(
            FindMatch(
                player=player,
                session_token=request.session_token if which == "session_token" else "",
                hosted=request.hosted,
                mode=mode_name(request.mode),
                num_players=request.num_players,
                opponent_kinds=tuple(kind_name(k) for k in request.opponent_kinds),
                max_wait_s=request.max_wait_s,
                request_id=request.request_id,
            )
        )
        return self.ticket(ticket)

    @_storage
    async def Cancel(self, request: pb.CancelRequest, context: grpc.aio.ServicerContext) -> pb.Ticket:
        return self.ticket(await self.queues.cancel(request.ticket_id))

    async def WatchTicket(
        self, request: pb.WatchTicketRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.Ticket]:
        try:
            async for ticket in self.queues.watch(request.ticket_id):
                yield self.ticket(ticket)
        except UnavailableError as error:
            raise Unavailable(f"matchmaker storage is unavailable: {error}") from error

    @_storage
    async def ListQueues(
        self, request: pb.ListQueuesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListQueuesResponse:
        infos = await self.queues.list_queues()
        return pb.ListQueuesResponse(
            queues=[
                pb.QueueInfo(
                    name=q.name,
                    mode=MODE_TO_PROTO[game_mode(q.name)],
                    num_players=2 if q.name == "1v1" else int(q.name.removeprefix("ffa-")),
                    waiting=q.waiting,
                    longest_wait_s=q.longest_wait_s,
                    median_wait_s=q.median_wait_s,
                )
                for q in infos
            ]
        )

    def ticket(self, t: TicketState) -> pb.Ticket:
        now = self.queues.clock()
        message = pb.Ticket(
            ticket_id=t.id,
            player=player_to_proto(t.player),
            mode=MODE_TO_PROTO[game_mode(t.queue)],
            num_players=t.num_players,
            status=_TICKET_STATUS[t.status],
            rating=t.rating,
            window=t.window(self.queues.config.policy, now),
            waited_s=t.waited(now),
            created_at=timestamp(t.created_at),
            reason=t.reason,
        )
        if t.match is not None:
            message.match.CopyFrom(
                pb.Match(
                    game_id=t.match.game_id,
                    game_address=t.match.game_address,
                    seat=t.match.seat,
                    player_token=t.match.player_token,
                    players=[player_to_proto(p) for p in t.match.players],
                )
            )
        return message

    # -- tournaments ------------------------------------------------------------------------------
    @_storage
    async def CreateTournament(
        self, request: pb.CreateTournamentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Tournament:
        spec = TournamentSpec(
            format=_FORMAT_FROM_PROTO.get(request.format, f"format {request.format}"),
            participants=tuple(
                player_from_proto(p, f"participants[{i}]") for i, p in enumerate(request.participants)
            ),
            name=request.name,
            games_per_pairing=request.games_per_pairing,
            rounds=request.rounds,
            generator=message_dict(request.generator) if request.HasField("generator") else None,
            engine=message_dict(request.engine) if request.HasField("engine") else None,
            seed=request.seed,
            unrated=request.unrated,
            max_parallel_games=request.max_parallel_games,
            request_id=request.request_id,
        )
        return tournament(await self.tournaments.create(spec))

    @_storage
    async def GetTournament(
        self, request: pb.GetTournamentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Tournament:
        return tournament(await self.tournaments.get(request.tournament_id))

    @_storage
    async def ListTournaments(
        self, request: pb.ListTournamentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTournamentsResponse:
        status = _STATUS_FROM_PROTO.get(request.status)  # UNSPECIFIED (or unknown): every status
        records, token, total = await self.tournaments.list_tournaments(
            status, request.page.page_size, request.page.page_token
        )
        return pb.ListTournamentsResponse(
            tournaments=[tournament(r) for r in records],
            page={"next_page_token": token, "total_size": total},
        )

    # -- opponents --------------------------------------------------------------------------------
    @_storage
    async def SampleOpponents(
        self, request: pb.SampleOpponentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SampleOpponentsResponse:
        sample = await sample_opponents(
            SampleRequest(
                strategy=_STRATEGY.get(request.strategy, f"strategy {request.strategy}"),
                learner=player_from_proto(request.learner, "learner")
                if request.HasField("learner")
                else None,
                count=request.count,
                window=request.window,
                include_bots=request.include_bots,
                architecture=request.architecture,
                weighting=_WEIGHTING.get(request.weighting, f"weighting {request.weighting}"),
                exponent=request.exponent,
                mode=mode_name(request.mode) if request.mode else "1v1",
                seed=request.seed,
            ),
            self.queues.models,
            self.queues.ratings,
            self.queues.config.bots,
        )
        return pb.SampleOpponentsResponse(
            opponents=[player_to_proto(p) for p in sample.opponents],
            candidates=[
                pb.Candidate(
                    player=player_to_proto(c.player),
                    probability=c.probability,
                    learner_win_rate=c.learner_win_rate,
                    games=c.games,
                )
                for c in sample.candidates
            ],
        )


def _player(key: str | None) -> Any:
    return player_to_proto(player_ref(key)) if key is not None else None


def _pairing(p: PairingRecord) -> pb.Pairing:
    return pb.Pairing(
        a=_player(p.a),
        b=_player(p.b),
        game_ids=[g.game_id for g in p.games if g.game_id],
        a_points=p.a_points,
        b_points=p.b_points,
        finished=p.finished,
        winner=_player(p.winner),
    )


def tournament(r: TournamentRecord) -> pb.Tournament:
    """A stored tournament as the contract's message."""
    return pb.Tournament(
        tournament_id=r.id,
        name=r.name,
        format=_FORMAT_TO_PROTO[r.format],
        status=_STATUS_TO_PROTO[r.status],
        participants=[_player(p) for p in r.participants],
        games_per_pairing=r.games_per_pairing,
        total_rounds=r.total_rounds,
        rounds=[
            pb.Round(number=rnd.number, pairings=[_pairing(p) for p in rnd.pairings], finished=rnd.finished)
            for rnd in r.rounds
        ],
        standings=[
            pb.Standing(
                rank=s.rank,
                player=_player(s.player),
                points=s.points,
                games=s.games,
                wins=s.wins,
                losses=s.losses,
                draws=s.draws,
                tiebreak=s.tiebreak,
                eliminated=s.eliminated,
            )
            for s in r.standings
        ],
        winner=_player(r.winner),
        seed=r.seed,
        unrated=r.unrated,
        created_at=timestamp(r.created_at),
        ended_at=timestamp(r.ended_at),
        error=r.error,
    )
