"""The Matchmaker's domain on fakes of its peers: queues and pairing, tournaments, opponent sampling,
bad input (nothing stored changes), and the servicer over an in-process gRPC server."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import math
import queue
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from generals_rl.cli.match import match, tournament
from generals_rl.services.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from generals_rl.services.common.server import Server, bind
from generals_rl.services.elo.ratings import HeadToHead, pfsp_weights
from generals_rl.services.matchmaker import SERVICE
from generals_rl.services.matchmaker.client import MatchmakerClient
from generals_rl.services.matchmaker.core import BOT_NAMES, MatchmakerConfig, PlayerRef, TicketStatus
from generals_rl.services.matchmaker.opponents import SampleRequest, sample_opponents
from generals_rl.services.matchmaker.pairing import Kind
from generals_rl.services.matchmaker.queues import FindMatch, Queues
from generals_rl.services.matchmaker.servicer import MatchmakerServicer
from generals_rl.services.matchmaker.tournament_records import TournamentSpec, TournamentStatus
from generals_rl.services.matchmaker.tournaments_runner import Tournaments
from generals_rl.services.testing.fakes import FakeGames, FakeModels, FakeRatings, FakeSessions
from generals_rl.storage.blobs.file import FileBlobStore
from generals_rl.storage.cache.memory import MemoryCache
from generals_rl.v1 import common_pb2
from generals_rl.v1 import matchmaker_pb2 as pb

pytestmark = pytest.mark.timeout(120)

BOT = {name: PlayerRef(Kind.BOT, name) for name in BOT_NAMES}


def run(scenario: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(scenario)


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class World:
    cache: MemoryCache
    blobs: FileBlobStore
    games: FakeGames
    ratings: FakeRatings
    models: FakeModels
    sessions: FakeSessions
    clock: Clock
    queues: Queues
    tournaments: Tournaments

    def snapshot(self) -> tuple[Any, list[str]]:
        """Everything stored: the cache's contents (MemoryCache internals: the seam cannot list keys)
        and the blob keys."""
        return copy.deepcopy(self.cache._values), self.blobs.list("replays")


def world(tmp_path: Path, config: MatchmakerConfig | None = None, **ratings: float) -> World:
    cache = MemoryCache()
    blobs = FileBlobStore(f"file://{tmp_path / 'blobs'}")
    blobs.ensure_buckets()
    games, fake_ratings = FakeGames(), FakeRatings({f"bot:{k}": v for k, v in ratings.items()})
    models = FakeModels(accepted=[1, 2, 3], other={4: "REJECTED"})
    sessions = FakeSessions({"tok-alice-0123456789": "alice", "tok-bob-0123456789ab": "bob"})
    clock = Clock()
    config = config or MatchmakerConfig(seed=7)
    queues = Queues(cache, games, fake_ratings, models, sessions, config, clock)
    tournaments = Tournaments(blobs, cache, games, models, config, clock)
    return World(cache, blobs, games, fake_ratings, models, sessions, clock, queues, tournaments)


def bot(name: str, **fields: Any) -> FindMatch:
    return FindMatch(player=BOT[name], **fields)


def model(version: int, **fields: Any) -> FindMatch:
    return FindMatch(player=PlayerRef.model(version), **fields)


def test_bot_names_are_the_fixed_opponents_among_the_agents() -> None:
    from generals_rl.agents import BOTS

    assert set(BOT_NAMES) == set(BOTS) - {"raider"}


# -- queues ---------------------------------------------------------------------------------------


def test_two_close_tickets_meet_in_one_game_with_a_seat_each(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        a = await w.queues.find_match(bot("expander"))
        b = await w.queues.find_match(model(2, hosted=True))
        assert a.status is TicketStatus.QUEUED and a.rating == 1500.0
        [matched] = await w.queues.step()
        assert {t.id for t in matched} == {a.id, b.id}
        a2, b2 = await w.queues.get(a.id), await w.queues.get(b.id)
        assert a2.status is b2.status is TicketStatus.MATCHED
        assert a2.match is not None and b2.match is not None
        assert a2.match.game_id == b2.match.game_id and {a2.match.seat, b2.match.seat} == {0, 1}
        assert a2.match.player_token and not b2.match.player_token  # the hosted seat has no token
        assert a2.match.game_address == "127.0.0.1:50051"
        game = w.games.games[a2.match.game_id]
        assert [s.player for s in game.request.seats] == list(a2.match.players)
        assert game.request.seats[b2.match.seat].hosted and not game.request.seats[a2.match.seat].hosted
        assert await w.queues.step() == []  # nothing left to pair

    run(scenario())


def test_the_window_widens_with_the_time_waited(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path, random=1500, gatherer=1800)
        await w.queues.find_match(bot("random"))
        ticket = await w.queues.find_match(bot("gatherer"))
        assert ticket.window(w.queues.config.policy, w.clock.now) == 100.0
        w.clock.now += 10  # windows 200: 300 apart, still too far
        assert await w.queues.step() == []
        w.clock.now += 10  # windows 300
        assert len(await w.queues.step()) == 1

    run(scenario())


def test_a_player_never_meets_itself_and_one_ticket_is_one_seat(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        for _ in range(3):
            await w.queues.find_match(bot("expander"))
        assert await w.queues.step() == []
        await w.queues.find_match(bot("random"))
        [matched] = await w.queues.step()
        assert sorted(t.player.key for t in matched) == ["bot:expander", "bot:random"]

    run(scenario())


def test_cancelled_and_expired_tickets_are_never_matched(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        a = await w.queues.find_match(bot("expander"))
        cancelled = await w.queues.cancel(a.id)
        assert cancelled.status is TicketStatus.CANCELLED
        assert (await w.queues.cancel(a.id)).status is TicketStatus.CANCELLED  # a no-op
        await w.queues.find_match(bot("random", max_wait_s=5))
        w.clock.now += 6
        assert await w.queues.step() == []
        await w.queues.find_match(bot("gatherer"))
        assert await w.queues.step() == []  # nobody left to meet
        infos = await w.queues.list_queues()
        assert [(q.name, q.waiting) for q in infos] == [("1v1", 1)]
        statuses = {t.player.id: t.status for t in [await w.queues.get(a.id)]}
        assert statuses == {"expander": TicketStatus.CANCELLED}

    run(scenario())


def test_expired_ticket_says_why(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        t = await w.queues.find_match(bot("random", max_wait_s=5))
        w.clock.now += 5
        await w.queues.step()
        expired = await w.queues.get(t.id)
        assert expired.status is TicketStatus.EXPIRED and "5 s" in expired.reason
        assert expired.waited(w.clock.now + 100) == 5.0

    run(scenario())


def test_cancel_after_a_match_fails_and_cancel_waits_for_a_step_in_flight(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        release = asyncio.Event()
        create = w.games.create

        async def slow_create(request: Any) -> str:
            await release.wait()
            return await create(request)

        w.games.create = slow_create  # type: ignore[method-assign]
        a = await w.queues.find_match(bot("expander"))
        await w.queues.find_match(bot("random"))
        step = asyncio.create_task(w.queues.step())
        await asyncio.sleep(0.05)  # the step holds both tickets now
        cancel = asyncio.create_task(w.queues.cancel(a.id))
        await asyncio.sleep(0.05)
        assert not cancel.done()
        release.set()
        assert len(await step) == 1
        with pytest.raises(FailedPrecondition, match="already matched"):
            await cancel

    run(scenario())


def test_two_replicas_on_one_cache_match_every_ticket_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        other = Queues(w.cache, w.games, w.ratings, w.models, w.sessions, MatchmakerConfig(seed=8), w.clock)
        ids = [(await w.queues.find_match(FindMatch(player=PlayerRef.model(v)))).id for v in (1, 2, 3)]
        ids += [(await other.find_match(bot(name))).id for name in BOT_NAMES]
        ids.append((await w.queues.find_match(FindMatch(session_token="tok-alice-0123456789"))).id)
        ids.append((await other.find_match(FindMatch(session_token="tok-bob-0123456789ab"))).id)
        first, second = await asyncio.gather(w.queues.step(), other.step())
        matched = [t.id for group in first + second for t in group]
        assert sorted(matched) == sorted(ids)  # everyone once
        assert len(w.games.games) == 4

    run(scenario())


def test_a_cancel_between_planning_and_claiming_keeps_the_partner_queued(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        a = await w.queues.find_match(bot("expander"))
        b = await w.queues.find_match(bot("random"))
        plans = w.queues.plan(await asyncio.to_thread(w.queues.store.waiting, "1v1"), "1v1", w.clock.now)
        await w.queues.cancel(a.id)
        assert await w.queues._start(plans[0], "1v1") is None
        assert (await w.queues.get(a.id)).status is TicketStatus.CANCELLED
        assert [t.id for t in w.queues.store.waiting("1v1")] == [b.id]
        assert w.games.games == {}

    run(scenario())


def test_find_match_is_idempotent_by_request_id(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        a = await w.queues.find_match(bot("expander", request_id="r1"))
        b = await w.queues.find_match(bot("expander", request_id="r1"))
        c = await w.queues.find_match(bot("random", request_id="r1"))  # another player: another key
        assert a.id == b.id != c.id
        assert len(w.queues.store.waiting("1v1")) == 2

    run(scenario())


def test_opponent_kinds_are_honoured_and_bots_fill_when_asked(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        humans_only = await w.queues.find_match(
            FindMatch(session_token="tok-alice-0123456789", opponent_kinds=("human",))
        )
        await w.queues.find_match(model(1))
        assert await w.queues.step() == []
        # bob accepts bots only; the model ticket accepts anyone: no pair, but bob gets a hosted bot
        bob = await w.queues.find_match(
            FindMatch(session_token="tok-bob-0123456789ab", opponent_kinds=("bot",))
        )
        [matched] = await w.queues.step()
        assert [t.id for t in matched] == [bob.id]
        bob_now = await w.queues.get(bob.id)
        assert bob_now.match is not None
        bots = [p for p in bob_now.match.players if p.kind is Kind.BOT]
        assert (
            len(bots) == 1
            and w.games.games[bob_now.match.game_id].request.seats[1 - bob_now.match.seat].hosted
        )
        # the model accepts anyone, but alice wants humans only
        assert (await w.queues.get(humans_only.id)).status is TicketStatus.QUEUED
        carol = FakeSessions({"tok-carol-0123456789": "carol"})
        w.queues.sessions = carol
        await w.queues.find_match(FindMatch(session_token="tok-carol-0123456789", opponent_kinds=("human",)))
        [pair] = await w.queues.step()
        assert {t.player.key for t in pair} == {"human:alice", "human:carol"}

    run(scenario())


def test_restricted_tickets_meet_across_kinds_in_1v1(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        human = await w.queues.find_match(
            FindMatch(session_token="tok-alice-0123456789", opponent_kinds=("model",))
        )
        another = await w.queues.find_match(
            FindMatch(session_token="tok-bob-0123456789ab", opponent_kinds=("model",))
        )
        m = await w.queues.find_match(model(3, opponent_kinds=("human",)))
        [pair] = await w.queues.step()
        assert m.id in {t.id for t in pair} and len({human.id, another.id} & {t.id for t in pair}) == 1

    run(scenario())


def test_bots_among_several_kinds_fill_only_after_a_wait(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path, MatchmakerConfig(seed=1, bot_fill_after_s=30))
        t = await w.queues.find_match(
            FindMatch(session_token="tok-alice-0123456789", opponent_kinds=("human", "bot"))
        )
        assert await w.queues.step() == []
        w.clock.now += 30
        [matched] = await w.queues.step()
        assert matched[0].id == t.id

    run(scenario())


def test_ffa_groups_and_bot_fill_in_ffa(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        for v in (1, 2, 3):
            await w.queues.find_match(model(v, mode="ffa", num_players=4))
        assert await w.queues.step() == []
        await w.queues.find_match(bot("random", mode="ffa", num_players=4))
        [group] = await w.queues.step()
        assert len(group) == 4 and group[0].queue == "ffa-4"
        filled = await w.queues.find_match(model(1, mode="ffa", num_players=4, opponent_kinds=("bot",)))
        [alone] = await w.queues.step()
        info = (await w.queues.get(filled.id)).match
        assert alone[0].id == filled.id and info is not None and len(set(info.players)) == 4

    run(scenario())


def test_ratings_come_from_the_elo_service_and_its_outage_is_unavailable(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path, gatherer=1912.5)
        assert (await w.queues.find_match(bot("gatherer"))).rating == 1912.5
        assert (await w.queues.find_match(model(3))).rating == 1500.0  # unknown: the starting rating
        w.ratings.unavailable = True
        before = w.snapshot()
        with pytest.raises(Unavailable):
            await w.queues.find_match(bot("random"))
        assert w.snapshot() == before

    run(scenario())


def test_failed_game_creation_puts_tickets_back_and_an_expired_session_expires_its_ticket(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        a = await w.queues.find_match(FindMatch(session_token="tok-alice-0123456789"))
        b = await w.queues.find_match(bot("random"))
        w.games.fail_create = Unavailable("game service down")
        assert await w.queues.step() == []
        assert {t.id for t in w.queues.store.waiting("1v1")} == {a.id, b.id}
        w.games.fail_create = None
        w.games.fail_join["human:alice"] = Unauthenticated("unknown or expired session token")
        assert await w.queues.step() == []
        assert (await w.queues.get(a.id)).status is TicketStatus.EXPIRED
        assert [t.id for t in w.queues.store.waiting("1v1")] == [b.id]

    run(scenario())


def test_watch_streams_the_state_then_the_match(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path, MatchmakerConfig(seed=1, watch_poll_s=0.02, heartbeat_s=0.05))
        a = await w.queues.find_match(bot("expander"))
        seen: list[TicketStatus] = []

        async def watch() -> None:
            async for t in w.queues.watch(a.id):
                seen.append(t.status)

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0.2)  # heartbeats while queued
        await w.queues.find_match(bot("random"))
        await w.queues.step()
        await asyncio.wait_for(watcher, 5)
        assert seen[0] is TicketStatus.QUEUED and seen.count(TicketStatus.QUEUED) >= 3
        assert seen[-1] is TicketStatus.MATCHED

    run(scenario())


def test_list_queues_reports_waiting_and_waits(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        await w.queues.find_match(bot("expander"))
        w.clock.now += 4
        await w.queues.find_match(bot("random"))
        await w.queues.find_match(model(1, mode="ffa", num_players=3))
        w.clock.now += 2
        before = {q.name: q for q in await w.queues.list_queues()}
        assert before["1v1"].waiting == 2 and before["1v1"].longest_wait_s == 6.0
        assert before["ffa-3"].waiting == 1 and before["1v1"].median_wait_s == 0.0
        await w.queues.step()
        after = {q.name: q for q in await w.queues.list_queues()}
        assert after["1v1"].waiting == 0 and after["1v1"].median_wait_s == 4.0  # waits 6 and 2

    run(scenario())


def test_a_full_queue_refuses_tickets(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path, MatchmakerConfig(max_waiting=2))
        await w.queues.find_match(bot("expander"))
        await w.queues.find_match(bot("expander"))
        with pytest.raises(ResourceExhausted, match="full"):
            await w.queues.find_match(bot("expander"))

    run(scenario())


def test_recent_waits_keep_the_last_hundred_under_concurrent_writers(tmp_path: Path) -> None:
    store = world(tmp_path).queues.store

    def write(offset: int) -> None:
        for i in range(60):
            store.record_wait("1v1", offset + i)

    threads = [threading.Thread(target=write, args=(1000 * k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    waits = store.recent_waits("1v1")
    assert len(waits) == 100 and set(waits) <= {1000.0 * k + i for k in range(4) for i in range(60)}


BAD_FIND = [
    (FindMatch(), InvalidArgument, "player is required"),
    (bot("expander", mode="unspecified"), InvalidArgument, "mode"),
    (bot("expander", num_players=3), InvalidArgument, "num_players"),
    (bot("expander", mode="ffa", num_players=9), InvalidArgument, "num_players"),
    (FindMatch(player=PlayerRef(Kind.BOT, "stockfish")), InvalidArgument, "unknown bot"),
    (FindMatch(player=PlayerRef(Kind.MODEL, "0")), InvalidArgument, "model version"),
    (FindMatch(player=PlayerRef(Kind.HUMAN, "alice")), InvalidArgument, "session token"),
    (FindMatch(session_token="tok-alice-0123456789", hosted=True), InvalidArgument, "hosted"),
    (FindMatch(session_token="nope"), Unauthenticated, "session"),
    (model(99), NotFound, "99"),
    (model(4), FailedPrecondition, "REJECTED"),
    (bot("random", max_wait_s=3601), InvalidArgument, "max_wait_s"),
    (bot("random", request_id="x" * 129), InvalidArgument, "request_id"),
    (bot("random", opponent_kinds=("kind 0",)), InvalidArgument, "opponent_kinds"),
]


@pytest.mark.parametrize(("request_", "error", "message"), BAD_FIND)
def test_bad_find_match_requests_are_refused_and_change_nothing(
    tmp_path: Path, request_: FindMatch, error: type[ServiceError], message: str
) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        await w.queues.find_match(bot("gatherer"))
        before = w.snapshot()
        with pytest.raises(error, match=message):
            await w.queues.find_match(request_)
        assert w.snapshot() == before

    run(scenario())


@pytest.mark.parametrize(
    ("ticket_id", "error"), [("", InvalidArgument), ("nope", NotFound), ("../x", NotFound)]
)
def test_unknown_ticket_ids(tmp_path: Path, ticket_id: str, error: type[ServiceError]) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        before = w.snapshot()
        for call in (w.queues.cancel, w.queues.get):
            with pytest.raises(error):
                await call(ticket_id)
        with pytest.raises(error):
            async for _ in w.queues.watch(ticket_id):
                pass
        assert w.snapshot() == before

    run(scenario())


find_requests = st.builds(
    FindMatch,
    player=st.none() | st.builds(PlayerRef, st.sampled_from(list(Kind)), st.text(max_size=6)),
    session_token=st.sampled_from(["", "nope", "tok-alice-0123456789"]),
    hosted=st.booleans(),
    mode=st.sampled_from(["1v1", "ffa", "unspecified", "mode 7"]),
    num_players=st.integers(0, 10),
    opponent_kinds=st.lists(st.sampled_from(["human", "bot", "model", "kind 0"]), max_size=3).map(tuple),
    max_wait_s=st.integers(0, 4000),
    request_id=st.sampled_from(["", "r", "x" * 129]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=find_requests)
def test_fuzzed_find_match_either_queues_or_changes_nothing(tmp_path: Path, request: FindMatch) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        before = w.snapshot()
        try:
            ticket = await w.queues.find_match(request)
        except (InvalidArgument, NotFound, FailedPrecondition, Unauthenticated) as error:
            assert str(error)
            assert w.snapshot() == before
        else:
            assert ticket.status is TicketStatus.QUEUED
            assert [t.id for t in w.queues.store.waiting(ticket.queue)] == [ticket.id]

    run(scenario())


# -- tournaments ----------------------------------------------------------------------------------


def ref(name: str) -> PlayerRef:
    """A bot by name, or ``kind:id`` unchecked (the domain checks it)."""
    kind, _, ident = name.rpartition(":")
    return PlayerRef(Kind(kind or "bot"), ident)


def spec(fmt: str, *names: str, **fields: Any) -> TournamentSpec:
    return TournamentSpec(fmt, tuple(ref(n) for n in names), **fields)


def test_round_robin_plays_every_pairing_with_alternating_seats(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        created = await w.tournaments.create(
            spec("round-robin", "random", "expander", "gatherer", games_per_pairing=2, unrated=True, seed=5)
        )
        assert created.status is TournamentStatus.RUNNING and created.total_rounds == 3
        done = await w.tournaments.wait(created.id)
        assert done.status is TournamentStatus.FINISHED and done.winner == "bot:gatherer"
        assert [(s.rank, s.player, s.points, s.wins, s.losses) for s in done.standings] == [
            (1, "bot:gatherer", 4.0 + 2, 4, 0),
            (2, "bot:expander", 2.0 + 2, 2, 2),
            (3, "bot:random", 0.0 + 2, 0, 4),
        ]  # + 2 points for the bye each
        assert len(done.rounds) == 3 and all(r.finished for r in done.rounds)
        for rnd in done.rounds:
            [played] = [p for p in rnd.pairings if p.b is not None]
            [bye] = [p for p in rnd.pairings if p.b is None]
            assert bye.finished and bye.winner == bye.a and bye.a_points == 2
            first, second = (w.games.games[g.game_id].request for g in played.games)
            assert [s.player.key for s in first.seats] == [played.a, played.b]
            assert [s.player.key for s in second.seats] == [played.b, played.a]
            assert first.lock_step and first.unrated and all(s.hosted for s in first.seats)
            assert first.seed != second.seed
        reloaded = await Tournaments(w.blobs, w.cache, w.games, w.models).get(created.id)
        assert reloaded == done

    run(scenario())


def test_swiss_standings_use_game_points_and_buchholz(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        names = ["random", "expander", "gatherer", "model:1", "model:2"]
        t = await w.tournaments.create(spec("swiss", *names, games_per_pairing=1))
        done = await w.tournaments.wait(t.id)
        assert done.status is TournamentStatus.FINISHED and done.total_rounds == 3 == len(done.rounds)
        assert done.standings[0].player == "model:2" and done.standings[0].points == 3
        total_games = sum(s.games for s in done.standings)
        assert total_games == 2 * 2 * 3  # two games a round, two players a game, three rounds
        assert {s.player for s in done.standings} == {ref(n).key for n in names}
        byes = [p.a for r in done.rounds for p in r.pairings if p.b is None]
        assert len(byes) == len(set(byes)) == 3

    run(scenario())


def test_single_elimination_bracket_byes_and_ties_to_the_better_seed(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        w.games.winner = lambda players: None  # every game drawn: the better seed goes through
        names = ["random", "expander", "gatherer", "model:1", "model:2"]
        t = await w.tournaments.create(spec("single-elimination", *names, games_per_pairing=1))
        done = await w.tournaments.wait(t.id)
        assert done.total_rounds == 3 and done.winner == "bot:random"
        first = done.rounds[0].pairings
        assert [(p.a, p.b) for p in first] == [
            ("bot:random", None),
            ("model:1", "model:2"),
            ("bot:expander", None),
            ("bot:gatherer", None),
        ]  # bracket order 1-8, 4-5, 2-7, 3-6: byes to seeds 1-3
        assert first[1].winner == "model:1" and first[1].a_points == first[1].b_points == 0.5
        assert [(p.a, p.b) for p in done.rounds[1].pairings] == [
            ("bot:random", "model:1"),
            ("bot:expander", "bot:gatherer"),
        ]
        ranks = {s.player: (s.rank, s.eliminated, s.tiebreak) for s in done.standings}
        assert ranks == {
            "bot:random": (1, False, 4.0),
            "bot:expander": (2, True, 3.0),
            "model:1": (3, True, 2.0),
            "bot:gatherer": (3, True, 2.0),
            "model:2": (5, True, 1.0),
        }

    run(scenario())


def test_games_in_parallel_stay_within_the_limit(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        w.games.delay_s = 0.02
        names = ["random", "expander", "gatherer", "model:1", "model:2", "model:3"]
        t = await w.tournaments.create(spec("round-robin", *names, games_per_pairing=4, max_parallel_games=3))
        done = await w.tournaments.wait(t.id)
        assert done.status is TournamentStatus.FINISHED
        assert w.games.most_running == 3

    run(scenario())


def test_an_aborted_game_fails_the_tournament_and_keeps_what_was_played(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        w.games.abort = {3}
        t = await w.tournaments.create(spec("round-robin", "random", "expander", "gatherer", "model:1",
                                            games_per_pairing=1, max_parallel_games=1))  # fmt: skip
        done = await w.tournaments.wait(t.id)
        assert done.status is TournamentStatus.FAILED and "g3" in done.error and "aborted" in done.error
        assert done.ended_at is not None and sum(s.games for s in done.standings) == 4

    run(scenario())


def test_closing_the_matchmaker_fails_running_tournaments(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        w.games.delay_s = 10
        t = await w.tournaments.create(spec("swiss", "random", "expander", "gatherer"))
        await asyncio.sleep(0.05)
        await w.tournaments.close()
        stopped = await w.tournaments.get(t.id)
        assert stopped.status is TournamentStatus.FAILED and "stopped" in stopped.error

    run(scenario())


def test_list_tournaments_pages_newest_first_and_filters(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        w.games.abort = {1}
        ids = []
        for _ in range(5):
            w.clock.now += 1
            ids.append(
                (
                    await w.tournaments.create(spec("round-robin", "random", "expander", games_per_pairing=1))
                ).id
            )
            await w.tournaments.wait(ids[-1])
        seen, token = [], ""
        while True:
            page, token, total = await w.tournaments.list_tournaments(None, 2, token)
            assert total == 5 and len(page) <= 2
            seen += [r.id for r in page]
            if not token:
                break
        assert seen == ids[::-1]
        failed, _, total = await w.tournaments.list_tournaments(TournamentStatus.FAILED)
        assert [r.id for r in failed] == [ids[0]] and total == 1
        _, token, _ = await w.tournaments.list_tournaments(TournamentStatus.FINISHED, 1)
        with pytest.raises(InvalidArgument, match="page_token"):
            await w.tournaments.list_tournaments(None, 1, token)  # another filter
        with pytest.raises(InvalidArgument, match="page_token"):
            await w.tournaments.list_tournaments(None, 1, "garbage!")

    run(scenario())


def test_create_tournament_is_idempotent_by_request_id(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        a = await w.tournaments.create(spec("swiss", "random", "expander", "gatherer", request_id="once"))
        b = await w.tournaments.create(spec("swiss", "random", "expander", "gatherer", request_id="once"))
        assert a.id == b.id and len(w.blobs.list("replays", "tournaments/")) == 1
        await w.tournaments.wait(a.id)

    run(scenario())


BAD_TOURNAMENTS = [
    (spec("knockout", "random", "expander"), InvalidArgument, "format"),
    (spec("swiss", "random"), InvalidArgument, "2..256"),
    (spec("round-robin", *[f"model:{i}" for i in range(1, 258)]), InvalidArgument, "2..256"),
    (spec("swiss", "random", "human:alice"), InvalidArgument, "not humans"),
    (spec("swiss", "random", "expander", "random"), InvalidArgument, "listed twice"),
    (
        TournamentSpec("swiss", (BOT["random"], PlayerRef(Kind.BOT, "stockfish"))),
        InvalidArgument,
        "unknown bot",
    ),
    (spec("swiss", "random", "expander", games_per_pairing=101), InvalidArgument, "games_per_pairing"),
    (spec("swiss", "random", "expander", "gatherer", rounds=3), InvalidArgument, "rounds"),
    (spec("round-robin", "random", "expander", rounds=1), InvalidArgument, "only a Swiss"),
    (spec("swiss", "random", "expander", name="n" * 129), InvalidArgument, "name"),
    (spec("swiss", "random", "expander", max_parallel_games=257), InvalidArgument, "max_parallel_games"),
    (spec("swiss", "random", "expander", generator={"side": {"low": 2, "high": 8}}), InvalidArgument, "side"),
    (spec("swiss", "random", "expander", generator={"side": {"low": 9, "high": 8}}), InvalidArgument, "side"),
    (
        spec("swiss", "random", "expander", generator={"mountain_density": {"low": 0.1, "high": 0.7}}),
        InvalidArgument,
        "mountain_density",
    ),
    (spec("swiss", "random", "expander", engine={"max_ticks": 100_001}), InvalidArgument, "max_ticks"),
    (spec("swiss", "random", "model:99"), NotFound, "99"),
    (spec("swiss", "random", "model:4"), FailedPrecondition, "REJECTED"),
    (spec("swiss", "random", "expander", request_id="r" * 129), InvalidArgument, "request_id"),
]


@pytest.mark.parametrize(("spec_", "error", "message"), BAD_TOURNAMENTS)
def test_bad_tournaments_are_refused_and_store_nothing(
    tmp_path: Path, spec_: TournamentSpec, error: type[ServiceError], message: str
) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        before = w.snapshot()
        with pytest.raises(error, match=message):
            await w.tournaments.create(spec_)
        assert w.snapshot() == before and w.games.games == {}

    run(scenario())


@pytest.mark.parametrize("tournament_id", ["", "nope", "t0000000000000deadbeef", "../../etc/passwd"])
def test_unknown_tournaments(tmp_path: Path, tournament_id: str) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        with pytest.raises(InvalidArgument if not tournament_id else NotFound):
            await w.tournaments.get(tournament_id)

    run(scenario())


players_strategy = st.lists(
    st.sampled_from(["random", "expander", "gatherer", "model:1", "model:2", "model:99", "human:x", "bot:x"]),
    max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(["round-robin", "swiss", "single-elimination", "other"]),
    names=players_strategy,
    gpp=st.integers(0, 120),
    rounds=st.integers(0, 6),
    side=st.none() | st.tuples(st.integers(0, 70), st.integers(0, 70)),
)
def test_fuzzed_tournaments_run_or_change_nothing(
    tmp_path: Path, fmt: str, names: list[str], gpp: int, rounds: int, side: tuple[int, int] | None
) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        generator = None if side is None else {"side": {"low": side[0], "high": side[1]}}
        request = TournamentSpec(
            fmt,
            tuple(ref(n) for n in names),
            games_per_pairing=gpp,
            rounds=rounds,
            generator=generator,
        )
        before = w.snapshot()
        try:
            created = await w.tournaments.create(request)
        except (InvalidArgument, NotFound) as error:
            assert str(error)
            assert w.snapshot() == before
        else:
            done = await w.tournaments.wait(created.id)
            assert done.status is TournamentStatus.FINISHED
            assert len(done.rounds) == done.total_rounds

    run(scenario())


# -- opponent sampling ----------------------------------------------------------------------------


def sample(w: World, **fields: Any) -> Any:
    return sample_opponents(SampleRequest(**fields), w.models, w.ratings, BOT_NAMES)


def test_latest_and_uniform(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        latest = await sample(w, strategy="latest", learner=PlayerRef.model(3), count=4)
        assert latest.opponents == (PlayerRef.model(3),) * 4 and latest.candidates[0].probability == 1.0
        uniform = await sample(w, strategy="uniform", learner=PlayerRef.model(3), window=2, include_bots=True)
        assert [c.player.key for c in uniform.candidates] == [
            "model:2",
            "bot:random",
            "bot:expander",
            "bot:gatherer",
        ]
        assert all(math.isclose(c.probability, 0.25) for c in uniform.candidates)

    run(scenario())


def test_pfsp_draws_the_opponents_that_beat_the_learner_more_often(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        w.ratings.records = {
            ("model:3", "model:1"): HeadToHead(wins=8, losses=0, draws=0),
            ("model:3", "model:2"): HeadToHead(wins=1, losses=6, draws=1),
        }
        learner = PlayerRef.model(3)
        result = await sample(w, strategy="pfsp", learner=learner, count=1000, include_bots=True, seed=11)
        by_key = {c.player.key: c for c in result.candidates}
        assert by_key["model:1"].learner_win_rate == pytest.approx(9 / 10) and by_key["model:1"].games == 8
        assert by_key["model:2"].learner_win_rate == pytest.approx(2.5 / 10)
        assert by_key["bot:random"].learner_win_rate == 0.5 and by_key["bot:random"].games == 0
        rates = [by_key[k].learner_win_rate for k in ("model:2", "model:1", "bot:random")]
        expected = pfsp_weights([*rates, 0.5, 0.5], "hard", k=2.0, floor=0.0)
        assert by_key["model:2"].probability == pytest.approx(expected[0])
        assert result.candidates[0].player.key == "model:2"  # most probable first
        assert sum(c.probability for c in result.candidates) == pytest.approx(1.0)
        counts = {k: sum(1 for p in result.opponents if p.key == k) for k in by_key}
        assert counts["model:2"] > counts["bot:random"] > counts["model:1"]
        again = await sample(w, strategy="pfsp", learner=learner, count=1000, include_bots=True, seed=11)
        assert again.opponents == result.opponents
        variance = await sample(w, strategy="pfsp", learner=learner, weighting="variance", seed=3)
        v = {c.player.key: c.probability for c in variance.candidates}
        assert v["model:2"] > v["model:1"]  # 0.25 * 0.75 > 0.9 * 0.1

    run(scenario())


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"strategy": "best"}, InvalidArgument),
        ({"strategy": "uniform", "count": 1025}, InvalidArgument),
        ({"strategy": "pfsp", "learner": PlayerRef.model(1), "exponent": -1.0}, InvalidArgument),
        ({"strategy": "pfsp", "learner": PlayerRef.model(1), "exponent": math.nan}, InvalidArgument),
        ({"strategy": "pfsp"}, InvalidArgument),
        ({"strategy": "pfsp", "learner": PlayerRef.model(1), "weighting": "soft"}, InvalidArgument),
        ({"strategy": "uniform", "mode": "mode 0"}, InvalidArgument),
        ({"strategy": "uniform", "architecture": "unknown-arch"}, FailedPrecondition),
        ({"strategy": "latest", "architecture": "unknown-arch", "include_bots": True}, FailedPrecondition),
    ],
)
def test_bad_sampling_requests(tmp_path: Path, fields: dict[str, Any], error: type[ServiceError]) -> None:
    async def scenario() -> None:
        with pytest.raises(error):
            await sample(world(tmp_path), **fields)

    run(scenario())


def test_sampling_needs_the_model_service(tmp_path: Path) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        w.models.unavailable = True
        with pytest.raises(Unavailable):
            await sample(w, strategy="uniform", include_bots=True)

    run(scenario())


# -- the servicer over gRPC -----------------------------------------------------------------------


def with_server(tmp_path: Path, body: Callable[[World, MatchmakerClient], Coroutine[Any, Any, None]]) -> None:
    async def scenario() -> None:
        w = world(tmp_path, MatchmakerConfig(seed=3, interval_s=0.05, watch_poll_s=0.02))
        w.clock = Clock()  # the servicer reports times on the real clock here
        w.queues.clock = w.tournaments.clock = time.time
        async with Server([bind(MatchmakerServicer(w.queues, w.tournaments), SERVICE)]) as server:
            await w.queues.start()
            try:
                async with MatchmakerClient(server.address, timeout_s=10) as client:
                    await body(w, client)
            finally:
                await w.queues.close()
                await w.tournaments.close()

    run(scenario())


def test_servicer_queues_watch_and_errors(tmp_path: Path) -> None:
    async def body(w: World, mm: MatchmakerClient) -> None:
        a = await mm.find_match(bot="expander")
        assert a.status == pb.TICKET_STATUS_QUEUED and 100.0 <= a.window < 101 and a.player.id == "expander"
        b = await mm.find_match(model_version=2, hosted=True)
        final = await mm.wait_ticket(a.ticket_id, timeout_s=10)
        assert final.status == pb.TICKET_STATUS_MATCHED and final.match.player_token
        assert [p.id for p in final.match.players] in (["expander", "2"], ["2", "expander"])
        assert (await mm.wait_ticket(b.ticket_id, timeout_s=10)).match.game_id == final.match.game_id
        with pytest.raises(FailedPrecondition):
            await mm.cancel(a.ticket_id)
        queues = await mm.list_queues()
        assert queues[0].name == "1v1" and queues[0].mode == common_pb2.GAME_MODE_1V1
        for call, error in [
            (mm.find_match(bot="expander", mode=common_pb2.GAME_MODE_UNSPECIFIED), InvalidArgument),
            (mm.find_match(bot="stockfish"), InvalidArgument),
            (mm.find_match(), InvalidArgument),
            (mm.find_match(session_token="nope"), Unauthenticated),
            (
                mm.find_match(bot="random", opponent_kinds=[common_pb2.PLAYER_KIND_UNSPECIFIED]),
                InvalidArgument,
            ),
            (mm.cancel("nope"), NotFound),
            (mm.get_tournament("nope"), NotFound),
            (mm.list_tournaments(page_token="@@"), InvalidArgument),
            (mm.create_tournament(format=pb.TOURNAMENT_FORMAT_SWISS), InvalidArgument),
            (mm.sample_opponents(strategy=pb.SAMPLING_STRATEGY_UNSPECIFIED), InvalidArgument),
        ]:
            with pytest.raises(error):
                await call
        with pytest.raises(NotFound):
            async for _ in mm.watch_ticket("nope"):
                pass

    with_server(tmp_path, body)


def test_servicer_tournaments_and_sampling(tmp_path: Path) -> None:
    async def body(w: World, mm: MatchmakerClient) -> None:
        refs = [common_pb2.PlayerRef(kind=common_pb2.PLAYER_KIND_BOT, id=n) for n in BOT_NAMES]
        refs.append(common_pb2.PlayerRef(kind=common_pb2.PLAYER_KIND_MODEL, id="1"))
        created = await mm.create_tournament(
            format=pb.TOURNAMENT_FORMAT_SINGLE_ELIMINATION,
            participants=refs,
            games_per_pairing=1,
            generator={"side": {"low": 8, "high": 8}},
        )
        assert created.status == pb.TOURNAMENT_STATUS_RUNNING and created.total_rounds == 2
        done = await mm.wait_tournament(created.tournament_id, poll_s=0.02, timeout_s=10)
        assert done.status == pb.TOURNAMENT_STATUS_FINISHED and done.winner.id == "1"
        assert done.ended_at.seconds > 0 and len(done.rounds[0].pairings) == 2
        assert [s.rank for s in done.standings] == [1, 2, 3, 3]
        request = next(iter(w.games.games.values())).request
        assert request.generator == {"side": {"low": 8, "high": 8}}
        listed = await mm.list_tournaments(status=pb.TOURNAMENT_STATUS_FINISHED)
        assert [t.tournament_id for t in listed.tournaments] == [created.tournament_id]
        assert listed.page.total_size == 1
        drawn = await mm.sample_opponents(
            strategy=pb.SAMPLING_STRATEGY_PFSP,
            learner=common_pb2.PlayerRef(kind=common_pb2.PLAYER_KIND_MODEL, id="3"),
            count=5,
            seed=1,
        )
        assert len(drawn.opponents) == 5 and {c.player.id for c in drawn.candidates} == {"1", "2"}

    with_server(tmp_path, body)


def test_servicer_maps_an_unreachable_peer_to_unavailable(tmp_path: Path) -> None:
    async def body(w: World, mm: MatchmakerClient) -> None:
        w.ratings.unavailable = True
        with pytest.raises(Unavailable):
            await mm.find_match(bot="random")
        try:
            await mm.find_match(bot="random")
        except Unavailable as error:
            assert error.code is grpc.StatusCode.UNAVAILABLE

    with_server(tmp_path, body)


# -- the CLI against a matchmaker on fakes --------------------------------------------------------


@pytest.fixture
def fake_matchmaker(tmp_path: Path) -> Iterator[tuple[str, World]]:
    """A Matchmaker server on fakes, on its own event loop in a thread (the CLI runs its own loop)."""
    ready: queue.Queue[tuple[str, World]] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        w = world(tmp_path)
        w.queues.clock = w.tournaments.clock = time.time
        async with Server([bind(MatchmakerServicer(w.queues, w.tournaments), SERVICE)]) as server:
            ready.put((server.address, w))
            while not stop.is_set():
                await asyncio.sleep(0.02)
            await w.tournaments.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    yield ready.get(timeout=30)
    stop.set()
    thread.join(30)


def test_cli_match_prints_wins_draws_and_intervals(fake_matchmaker: tuple[str, World]) -> None:
    address, w = fake_matchmaker
    app = typer.Typer()
    app.command()(match)
    result = CliRunner().invoke(app, ["--p1", "gatherer", "--p2", "random", "--via", address, "--games", "4"])
    assert result.exit_code == 0, result.output
    assert "4 games: gatherer vs random" in result.output
    row = next(line for line in result.output.splitlines() if "gatherer" in line and "%" in line)
    assert "100.0%" in row and "[51.0%, 100.0%]" in row  # Wilson 95% of 4/4
    seats = [[s.player.id for s in g.request.seats] for g in w.games.games.values()]
    assert seats == [["gatherer", "random"], ["random", "gatherer"]] * 2


def test_cli_tournament_prints_standings_and_the_bracket(fake_matchmaker: tuple[str, World]) -> None:
    address, _ = fake_matchmaker
    app = typer.Typer()
    app.command()(tournament)
    args = [
        "--format",
        "single-elimination",
        "--players",
        "random,expander,gatherer,model:1",
        "--via",
        address,
    ]
    result = CliRunner().invoke(app, [*args, "--games-per-pairing", "1", "--size", "10"])
    assert result.exit_code == 0, result.output
    assert "bracket" in result.output and "standings" in result.output
    assert "winner: model:1" in result.output
    for bad, word in (
        (["--format", "knockout"], "knockout"),
        (["--players", "random,stockfish"], "stockfish"),
        (["--players", "random,expander,random"], "twice"),
    ):
        refused = CliRunner().invoke(app, [*bad, "--via", address])
        assert refused.exit_code == 2 and word in refused.output


def test_cli_reports_service_errors(fake_matchmaker: tuple[str, World]) -> None:
    address, _ = fake_matchmaker
    app = typer.Typer()
    app.command()(tournament)
    result = CliRunner().invoke(app, ["--players", "random,model:99", "--via", address])
    assert result.exit_code == 1 and "model version 99" in result.output
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{sock.getsockname()[1]}"
    result = CliRunner().invoke(app, ["--via", closed])
    assert result.exit_code == 1 and "error" in result.output


# -- fuzzed messages through the servicer ---------------------------------------------------------

REFUSED = (InvalidArgument, NotFound, FailedPrecondition, Unauthenticated)
proto_players = st.builds(
    common_pb2.PlayerRef,
    kind=st.integers(0, 4),
    id=st.sampled_from(["", "random", "expander", "gatherer", "1", "2", "99", "alice", "x" * 129]),
)


valid_players = st.sampled_from(
    [common_pb2.PlayerRef(kind=common_pb2.PLAYER_KIND_BOT, id=n) for n in BOT_NAMES]
    + [common_pb2.PlayerRef(kind=common_pb2.PLAYER_KIND_MODEL, id=str(v)) for v in (1, 2, 3)]
)


@st.composite
def find_match_messages(draw: st.DrawFn) -> pb.FindMatchRequest:
    message = pb.FindMatchRequest(
        hosted=draw(st.booleans()),
        mode=draw(st.integers(1, 2) | st.integers(0, 3)),
        num_players=draw(st.sampled_from([0, 2]) | st.integers(0, 10)),
        opponent_kinds=draw(st.lists(st.integers(1, 3) | st.integers(0, 4), max_size=3)),
        max_wait_s=draw(st.integers(0, 4000)),
        request_id=draw(st.sampled_from(["", "", "r", "x" * 129])),
    )
    which = draw(st.sampled_from(["none", "session_token", "bot", "model_version"]))
    if which == "session_token":
        message.session_token = draw(st.sampled_from(["", "nope", "tok-alice-0123456789"]))
    elif which == "bot":
        message.bot = draw(st.sampled_from(["", "random", "expander", "stockfish", "x" * 200]))
    elif which == "model_version":
        message.model_version = draw(st.integers(0, 5) | st.integers(-(2**63), 2**63 - 1))
    return message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=find_match_messages())
def test_fuzzed_find_match_messages(tmp_path: Path, message: pb.FindMatchRequest) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        servicer = MatchmakerServicer(w.queues, w.tournaments)
        before = w.snapshot()
        try:
            ticket = await servicer.FindMatch(message, None)  # type: ignore[arg-type]
        except REFUSED as error:
            assert str(error) and w.snapshot() == before
        else:
            assert ticket.status == pb.TICKET_STATUS_QUEUED and ticket.player.kind != 0

    run(scenario())


@st.composite
def tournament_messages(draw: st.DrawFn) -> pb.CreateTournamentRequest:
    message = pb.CreateTournamentRequest(
        name=draw(st.sampled_from(["", "", "cup", "n" * 129])),
        format=draw(st.integers(1, 3) | st.integers(0, 4)),
        participants=draw(
            st.lists(valid_players, min_size=2, max_size=5, unique_by=str)
            | st.lists(proto_players, max_size=5)
        ),
        games_per_pairing=draw(st.integers(0, 3) | st.just(101)),
        rounds=draw(st.just(0) | st.integers(0, 5)),
        seed=draw(st.integers(0, 2**64 - 1)),
        max_parallel_games=draw(st.sampled_from([0, 1, 4]) | st.integers(0, 300)),
    )
    if draw(st.booleans()):
        low = draw(st.integers(4, 64) | st.integers(0, 70))
        high = draw(st.integers(low, max(low, 64)) | st.integers(0, 70))
        message.generator.side.low, message.generator.side.high = low, high
    if draw(st.booleans()):
        message.engine.max_ticks = draw(st.integers(0, 1000) | st.integers(0, 200_000))
    return message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=tournament_messages())
def test_fuzzed_create_tournament_messages(tmp_path: Path, message: pb.CreateTournamentRequest) -> None:
    async def scenario() -> None:
        w = world(tmp_path)
        servicer = MatchmakerServicer(w.queues, w.tournaments)
        before = w.snapshot()
        try:
            created = await servicer.CreateTournament(message, None)  # type: ignore[arg-type]
        except REFUSED as error:
            assert str(error) and w.snapshot() == before and w.games.games == {}
        else:
            done = await w.tournaments.wait(created.tournament_id)
            assert done.status is TournamentStatus.FINISHED and len(done.rounds) == done.total_rounds
            fetched = await servicer.GetTournament(pb.GetTournamentRequest(tournament_id=done.id), None)  # type: ignore[arg-type]
            assert fetched.status == pb.TOURNAMENT_STATUS_FINISHED and len(fetched.standings) == len(
                message.participants
            )

    run(scenario())
