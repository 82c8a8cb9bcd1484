"""The evaluation loop: each new model version plays the champion and the fixed bots, and is
promoted to ``champion`` or not, with the reason recorded in the Model Service.

    async with Evaluator.connect(settings, EvaluationConfig(), on_report=show) as evaluator:
        task = asyncio.create_task(evaluator.run())     # every new version, until evaluator.stop()
        report = await evaluator.evaluate(7)            # or one version, once (``grl evaluate 7``)

**Games.** Every batch is a round-robin tournament of two on the Matchmaker (the version and one
opponent, ``games_per_pairing`` games, seats alternating), played to the end on the Game Service
with hosted seats and rated by the Elo Service like any game (``MatchmakerGames``).

**Promotion** (``EvaluationConfig.promotion``), against the current champion:

- ``sprt``: after every batch of ``batch_games`` the sequential probability ratio test of
  ``services/elo/rating/sprt.py`` (H0: ``elo0``, H1: ``elo1`` Elo stronger) on the W-D-L so far;
  H1 accepted: promoted; H0 accepted, or ``max_games`` played without a decision: not promoted.
- ``win_rate``: ``max_games`` games, then promoted when the lower end of the 95% Wilson interval
  of the score (a draw counts half) is above ``win_rate_bound``. One look at the end: looking
  after every batch would raise the rate of false promotions.

The first accepted version becomes champion with the reason ``first version``. The verdict is
recorded at once (actors get a new champion without waiting); then the version plays ``bot_games``
games against each bot of ``opponents`` for its win rates.

**What is recorded**, with no storage of its own: the alias ``candidate`` points at the last version
evaluated, and every evaluated version gets an ALIAS_SET event for ``candidate`` whose reason is
the verdict ("SPRT accepted: LLR 3.10 ≥ 2.94 after 64 games, W-D-L 40-4-20 vs v3 ..."); a promoted
version also gets the ``champion`` event with the same reason. The loop resumes after ``candidate``
(or ``champion``) when it restarts. When several versions were published during an evaluation only
the newest is evaluated next and the others are recorded "not evaluated: superseded by vN"
(``every_version`` evaluates each). W-D-L records and Elo stay in the Elo Service, so
``read_report`` rebuilds any version's ``EvaluationReport`` from the two services (the gateway
and the dashboard read it there); the evaluator also hands each report to ``on_report``.

Stopping (``stop``) cancels the evaluation under way; its tournament still finishes on the
Matchmaker (there is no RPC to cancel one), and the version is evaluated again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from generals_rl.game.generators import MapConfig
from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import FailedPrecondition, NotFound, ServiceError
from generals_rl.services.elo.api import Elo
from generals_rl.services.elo.domain import PlayerRef as EloPlayer
from generals_rl.services.elo.ratings import Decision, HeadToHead, SprtConfig, sprt
from generals_rl.services.model.api import ModelRegistry
from generals_rl.services.model.domain import Actor, Event, Selector
from generals_rl.settings import Settings
from generals_rl.v1 import common_pb2
from generals_rl.v1 import matchmaker_pb2 as mm_pb

log = logging.getLogger(__name__)

CANDIDATE, CHAMPION = "candidate", "champion"
FIRST_VERSION = "first version"
MAX_ATTEMPTS = 3
"""Failed evaluations of one version (a tournament that fails, a service down) before the loop
records it as not promoted and moves on."""
_MAX_TOURNAMENT_GAMES = 100  # the Matchmaker's games_per_pairing limit


@dataclass(frozen=True)
class EvaluationConfig:
    """How versions are evaluated and promoted (module docstring).

    Attributes:
        promotion: ``sprt`` or ``win_rate``.
        batch_games: games against the champion per tournament, between two looks of the SPRT.
        max_games: most games against the champion (``win_rate``: exactly this many).
        elo0, elo1, alpha, beta: the SPRT's hypotheses (Elo over the champion) and error rates.
        win_rate_bound: ``win_rate``: the score the Wilson interval's lower end must exceed.
        bot_games: games against each bot of ``opponents``.
        opponents: bot names played for win rates.
        map_side: square maps of this side (the 1v1 preset scaled down, ``MapConfig.with_side``);
            0: the generals.io 1v1 preset.
        max_ticks: tick limit of a game (a draw after it).
        concurrency: most games the Matchmaker plays at once for one tournament.
        poll_s: seconds between two looks at the Model Service for new versions.
        every_version: evaluate every new version, not only the newest of those waiting.
        elo_wait_s: how long a report waits for the Elo Service to count the version's games.
        seed: seeds the tournaments (maps, seats' sampling); 0: the Matchmaker draws them.
        actor: the name recorded with every alias change.
        mode: the Elo pool (``1v1``).
    """

    promotion: Literal["sprt", "win_rate"] = "sprt"
    batch_games: int = 20
    max_games: int = 400
    elo0: float = 0.0
    elo1: float = 50.0
    alpha: float = 0.05
    beta: float = 0.05
    win_rate_bound: float = 0.5
    bot_games: int = 40
    opponents: tuple[str, ...] = ("random", "expander", "gatherer")
    map_side: int = 0
    max_ticks: int = 2000
    concurrency: int = 8
    poll_s: float = 5.0
    every_version: bool = False
    elo_wait_s: float = 30.0
    seed: int = 0
    actor: str = "evaluator"
    mode: str = "1v1"

    def __post_init__(self) -> None:
        from generals_rl.agents import BOTS

        if self.promotion not in ("sprt", "win_rate"):
            raise ValueError(f"promotion must be 'sprt' or 'win_rate', got {self.promotion!r}")
        if not 1 <= self.batch_games <= _MAX_TOURNAMENT_GAMES:
            raise ValueError(f"batch_games must lie in 1..{_MAX_TOURNAMENT_GAMES}, got {self.batch_games}")
        if self.max_games < 1 or self.bot_games < 0:
            raise ValueError(
                f"max_games must be >= 1 and bot_games >= 0, got {self.max_games}, {self.bot_games}"
            )
        self.sprt_config()  # checks elo0 < elo1 and the error rates
        if not 0.0 <= self.win_rate_bound < 1.0:
            raise ValueError(f"win_rate_bound must lie in [0, 1), got {self.win_rate_bound}")
        unknown = [name for name in self.opponents if name not in BOTS]
        if unknown or len(set(self.opponents)) != len(self.opponents):
            raise ValueError(f"opponents must be distinct bots of {', '.join(BOTS)}, got {self.opponents}")
        if self.map_side and not 4 <= self.map_side <= 64:
            raise ValueError(f"map_side must be 0 or lie in 4..64, got {self.map_side}")
        if not 1 <= self.max_ticks <= 100_000 or self.concurrency < 1 or self.poll_s < 0:
            raise ValueError("max_ticks must lie in 1..100000, concurrency be >= 1 and poll_s >= 0")
        if not 1 <= len(self.actor) <= 128:
            raise ValueError(f"actor must be 1..128 characters, got {self.actor!r}")

    def sprt_config(self) -> SprtConfig:
        return SprtConfig(self.elo0, self.elo1, self.alpha, self.beta)

    def generator(self) -> dict[str, Any] | None:
        """The tournaments' map settings (``MapConfig`` of game.proto as a dict); None: the preset."""
        if not self.map_side:
            return None
        m = MapConfig.generalsio_1v1().with_side(self.map_side)

        def span(values: tuple[float, float]) -> dict[str, float]:
            return {"low": values[0], "high": values[1]}

        return {
            "side": span(m.side),
            "mountain_density": span(m.mountain_density),
            "cities": span(m.cities),
            "city_army": span(m.city_army),
            "min_distance": span(m.min_distance),
            "fair_radius": m.fair_radius,
            "fair_tolerance": m.fair_tolerance,
            "min_room": m.min_room,
        }


@dataclass(frozen=True)
class Record(HeadToHead):
    """Wins, losses and draws against one opponent, a canonical key (``bot:random``, ``model:3``):
    the Elo Service's ``HeadToHead`` (``games``, ``score_rate()``, the 95% Wilson ``interval()``)
    with the opponent's name."""

    opponent: str = ""

    @property
    def wdl(self) -> str:
        return f"{self.wins}-{self.draws}-{self.losses}"

    def __add__(self, other: Record) -> Record:
        wins, losses, draws = self.wins + other.wins, self.losses + other.losses, self.draws + other.draws
        return Record(wins=wins, losses=losses, draws=draws, opponent=self.opponent)


@dataclass(frozen=True)
class Verdict:
    """Whether a version is promoted and why (the reason recorded in the Model Service)."""

    promote: bool
    reason: str
    llr: float | None = None


@dataclass(frozen=True)
class EvaluationReport:
    """One version's evaluation: the verdict, its record against the champion it met and against
    each bot, and the Elo of the version and of the champion after it (from the Elo Service)."""

    version: int
    promoted: bool
    reason: str
    champion: int
    versus: Record | None = None
    llr: float | None = None
    bots: tuple[Record, ...] = ()
    elo: float | None = None
    champion_elo: float | None = None

    @property
    def opponent(self) -> int:
        """The champion it played (0: none)."""
        return int(self.versus.opponent.partition(":")[2]) if self.versus else 0

    def win_rates(self) -> dict[str, float]:
        """Score against each bot, by bot name."""
        return {r.opponent.partition(":")[2]: r.score_rate() for r in self.bots}


def model(version: int) -> str:
    return f"model:{version}"


def bot(name: str) -> str:
    return f"bot:{name}"


def judge(config: EvaluationConfig, record: Record) -> Verdict | None:
    """The verdict on a version's record against the champion so far, or None to play on."""
    n, versus = record.games, f"W-D-L {record.wdl} vs v{record.opponent.partition(':')[2]}"
    if config.promotion == "win_rate":
        if n < config.max_games:
            return None
        low, high = record.interval()
        rate = f"score {record.score_rate():.1%} (95% CI [{low:.1%}, {high:.1%}]) after {n} games, {versus}"
        if low > config.win_rate_bound:
            return Verdict(
                True, f"win-rate bound passed: {rate}; lower end above {config.win_rate_bound:.1%}"
            )
        return Verdict(False, f"not promoted: {rate}; lower end not above {config.win_rate_bound:.1%}")
    test = config.sprt_config()
    result = sprt(record.wins, record.draws, record.losses, test)
    hypotheses = f"(elo0 {test.elo0:g}, elo1 {test.elo1:g}, alpha {test.alpha:g}, beta {test.beta:g})"
    if result.decision is Decision.ACCEPT_H1:
        reason = (
            f"SPRT accepted: LLR {result.llr:.2f} ≥ {result.upper:.2f} after {n} games, {versus} {hypotheses}"
        )
        return Verdict(True, reason, result.llr)
    if result.decision is Decision.ACCEPT_H0:
        reason = (
            f"not promoted: SPRT rejected: LLR {result.llr:.2f} ≤ {result.lower:.2f} after {n} games, "
            f"{versus} {hypotheses}"
        )
        return Verdict(False, reason, result.llr)
    if n >= config.max_games:
        reason = (
            f"not promoted: SPRT undecided after {n} games (the most allowed): LLR {result.llr:.2f} "
            f"within ({result.lower:.2f}, {result.upper:.2f}), {versus} {hypotheses}"
        )
        return Verdict(False, reason, result.llr)
    return None


class EvaluationError(Exception):
    """A tournament of an evaluation failed on the Matchmaker."""


class Games(Protocol):
    """Plays evaluation games (``MatchmakerGames``; tests may script them)."""

    async def play(self, a: str, b: str, games: int, seed: int) -> Record:
        """``games`` games of ``a`` against ``b`` (canonical keys), seats alternating: ``a``'s record."""
        ...


def _player(key: str) -> common_pb2.PlayerRef:
    kind, _, ident = key.partition(":")
    kinds = {"bot": common_pb2.PLAYER_KIND_BOT, "model": common_pb2.PLAYER_KIND_MODEL}
    return common_pb2.PlayerRef(kind=kinds[kind], id=ident)


class MatchmakerGames:
    """Games as round-robin tournaments of two on the Matchmaker (at most 100 games each)."""

    def __init__(self, matchmaker: Any, config: EvaluationConfig, poll_s: float = 0.25) -> None:
        self.matchmaker = matchmaker  # a MatchmakerClient
        self.config = config
        self.poll_s = poll_s

    async def play(self, a: str, b: str, games: int, seed: int) -> Record:
        total = Record(opponent=b)
        part = 0
        while total.games < games:
            n = min(games - total.games, _MAX_TOURNAMENT_GAMES)
            total = total + await self._tournament(a, b, n, _derive(seed, "part", part) if seed else 0)
            part += 1
        return total

    async def _tournament(self, a: str, b: str, games: int, seed: int) -> Record:
        request = mm_pb.CreateTournamentRequest(
            name=f"evaluation: {a} vs {b}",
            format=mm_pb.TOURNAMENT_FORMAT_ROUND_ROBIN,
            participants=[_player(a), _player(b)],
            games_per_pairing=games,
            generator=self.config.generator(),
            engine={"max_ticks": self.config.max_ticks},
            seed=seed,
            max_parallel_games=self.config.concurrency,
        )
        created = await self.matchmaker.create_tournament(request)
        done = await self.matchmaker.wait_tournament(created.tournament_id, poll_s=self.poll_s)
        if done.status != mm_pb.TOURNAMENT_STATUS_FINISHED:
            raise EvaluationError(f"tournament {done.tournament_id} ({a} vs {b}) failed: {done.error}")
        mine = _player(a)
        line = next(s for s in done.standings if s.player == mine)
        return Record(wins=line.wins, losses=line.losses, draws=line.draws, opponent=b)


def _derive(seed: int, *parts: object) -> int:
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1) or 1


async def _aliases(models: ModelRegistry) -> dict[str, int]:
    return {a.name: a.version for a in await models.list_aliases()}


async def _ratings(elo: Elo, versions: Sequence[int], mode: str) -> dict[int, Any]:
    players = [EloPlayer("model", str(v)) for v in versions]
    return dict(zip(versions, await elo.get_ratings(players, mode), strict=True))


class Evaluator:
    """Evaluates versions and promotes them (module docstring). ``on_report`` receives every
    report; ``on_batch`` every record as it grows (version, record so far)."""

    def __init__(
        self,
        config: EvaluationConfig,
        *,
        games: Games,
        models: ModelRegistry,
        elo: Elo,
        on_report: Callable[[EvaluationReport], None] | None = None,
        on_batch: Callable[[int, Record], None] | None = None,
    ) -> None:
        self.config = config
        self.games, self.models, self.elo = games, models, elo
        self.on_report, self.on_batch = on_report, on_batch
        self.reports: list[EvaluationReport] = []
        self._failures: dict[int, int] = {}
        self._stop = asyncio.Event()

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, settings: Settings, config: EvaluationConfig | None = None, **callbacks: Any
    ) -> AsyncIterator[Evaluator]:
        """An evaluator on the Matchmaker, Model and Elo services at ``settings``' addresses."""
        from generals_rl.services.elo.client import EloClient
        from generals_rl.services.matchmaker.client import MatchmakerClient
        from generals_rl.services.model.client import ModelClient

        config = config or EvaluationConfig()
        async with (
            MatchmakerClient(settings.address("matchmaker"), timeout_s=30.0) as matchmaker,
            channel(settings.address("model")) as model_channel,
            channel(settings.address("elo")) as elo_channel,
        ):
            yield cls(
                config,
                games=MatchmakerGames(matchmaker, config),
                models=ModelClient(model_channel, timeout_s=30.0),
                elo=EloClient(elo_channel, timeout_s=30.0),
                **callbacks,
            )

    # -- the loop ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Evaluate new versions until ``stop()``. Services that fail are waited out with backoff."""
        self._stop.clear()
        work = asyncio.create_task(self._loop(), name="evaluation-loop")
        stopped = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([work, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, stopped):
                task.cancel()
            await asyncio.gather(work, stopped, return_exceptions=True)
        if not work.cancelled() and work.exception() is not None:
            raise work.exception()  # type: ignore[misc]

    def stop(self) -> None:
        self._stop.set()

    async def _loop(self) -> None:
        backoff = 1.0
        while True:
            try:
                await self.step()
                delay, backoff = self.config.poll_s, 1.0
            except (ServiceError, EvaluationError, OSError) as error:
                log.warning("evaluation paused", extra={"error": str(error), "retry_in_s": backoff})
                delay, backoff = backoff, min(2 * backoff, 60.0)
            await asyncio.sleep(delay)

    async def pending(self) -> list[int]:
        """Accepted versions newer than the last one evaluated (``candidate``, or ``champion``),
        oldest first."""
        aliases = await _aliases(self.models)
        done = max(aliases.get(CANDIDATE, 0), aliases.get(CHAMPION, 0))
        newer: list[int] = []
        token = ""
        while True:
            page = await self.models.list_versions(state="accepted", page_size=100, page_token=token)
            fresh = [v.version for v in page.versions if v.version > done]
            newer += fresh
            if len(fresh) < len(page.versions) or not page.next_page_token:
                return sorted(newer)
            token = page.next_page_token

    async def step(self) -> list[EvaluationReport]:
        """Evaluate what is pending now (one pass of ``run``)."""
        pending = await self.pending()
        reports: list[EvaluationReport] = []
        if pending and CHAMPION not in await _aliases(self.models):
            reports.append(await self._attempt(pending.pop(0)))
        if len(pending) > 1 and not self.config.every_version:
            newest = pending[-1]
            for version in pending[:-1]:
                reason = f"not evaluated: superseded by v{newest} before its evaluation began"
                await self._record(version, Verdict(False, reason))
            pending = [newest]
        for version in pending:
            if self._stop.is_set():
                break
            reports.append(await self._attempt(version))
        return reports

    async def _attempt(self, version: int) -> EvaluationReport:
        try:
            return await self.evaluate(version)
        except (NotFound, FailedPrecondition) as error:  # retired meanwhile, or it cannot play
            log.warning("version not evaluated", extra={"version": version, "error": str(error)})
            verdict = Verdict(False, f"not evaluated: {error}")
            with contextlib.suppress(NotFound, FailedPrecondition):  # a retired one keeps no verdict
                await self._record(version, verdict)
            return EvaluationReport(version, False, verdict.reason, 0)
        except (ServiceError, EvaluationError, OSError) as error:
            failures = self._failures[version] = self._failures.get(version, 0) + 1
            if failures < MAX_ATTEMPTS:
                raise
            verdict = Verdict(False, f"not promoted: evaluation failed {failures} times: {error}")
            await self._record(version, verdict)
            return EvaluationReport(version, False, verdict.reason, 0)

    # -- one version ------------------------------------------------------------------------------

    async def evaluate(self, version: int, *, record: bool = True) -> EvaluationReport:
        """Play ``version`` against the champion (the SPRT or the win-rate bound) and the bots;
        with ``record``, promote it or record why not. ``FailedPrecondition`` unless it is accepted."""
        info = await self.models.get_version(Selector(version=version))
        if info.state != "accepted":
            raise FailedPrecondition(
                f"version {version} is {info.state.upper()}: only accepted versions play"
            )
        champion = (await _aliases(self.models)).get(CHAMPION, 0)
        versus: Record | None = None
        if not champion:
            verdict = Verdict(True, FIRST_VERSION)
        elif champion == version:
            verdict = Verdict(False, f"v{version} is the champion already")
        else:
            versus, verdict = await self._against(version, champion)
        if record and champion != version:
            await self._record(version, verdict)
        log.info(
            "version judged",
            extra={"version": version, "promoted": verdict.promote, "reason": verdict.reason},
        )
        bot_games = self.config.bot_games
        bots = await asyncio.gather(
            *(
                self._play(version, bot(name), bot_games, "bots")
                for name in self.config.opponents
                if bot_games
            )
        )
        champion_after = version if (record and verdict.promote) else champion
        played = (versus.games if versus else 0) + sum(r.games for r in bots)
        ratings = await self._ratings_after(version, champion_after, played)
        report = EvaluationReport(
            version=version,
            promoted=record and verdict.promote,
            reason=verdict.reason,
            champion=champion_after,
            versus=versus,
            llr=verdict.llr,
            bots=tuple(bots),
            elo=ratings[version].elo,
            champion_elo=ratings[champion_after].elo if champion_after else None,
        )
        self.reports.append(report)
        if self.on_report is not None:
            self.on_report(report)
        return report

    async def _against(self, version: int, champion: int) -> tuple[Record, Verdict]:
        record, batch = Record(opponent=model(champion)), 0
        while True:
            n = min(self.config.batch_games, self.config.max_games - record.games)
            record = record + await self._play(version, model(champion), n, "batch", batch)
            batch += 1
            if self.on_batch is not None:
                self.on_batch(version, record)
            verdict = judge(self.config, record)
            if verdict is not None:
                return record, verdict

    async def _play(self, version: int, opponent: str, games: int, *salt: object) -> Record:
        if games == 0:
            return Record(opponent=opponent)
        seed = _derive(self.config.seed, version, opponent, *salt) if self.config.seed else 0
        got = await self.games.play(model(version), opponent, games, seed)
        if self.on_batch is not None and opponent.startswith("bot:"):
            self.on_batch(version, got)
        return got

    async def _record(self, version: int, verdict: Verdict) -> None:
        """The verdict as the reason of ``candidate`` (and ``champion`` when promoted) moving to it."""
        actor = Actor(self.config.actor, verdict.reason[:1000])
        if verdict.promote:
            await self.models.promote(version, CHAMPION, actor)
        await self.models.promote(version, CANDIDATE, actor)

    async def _ratings_after(self, version: int, champion: int, played: int) -> dict[int, Any]:
        """Both ratings, once the Elo Service counts the version's games (or ``elo_wait_s`` passed):
        results reach it from the Game Service a moment after each game."""
        versions = [version] if champion in (0, version) else [version, champion]
        deadline = asyncio.get_running_loop().time() + self.config.elo_wait_s
        while True:
            ratings = await _ratings(self.elo, versions, self.config.mode)
            if ratings[version].games >= played or asyncio.get_running_loop().time() >= deadline:
                return ratings
            await asyncio.sleep(0.1)


# -- reading reports back -------------------------------------------------------------------------


async def read_report(
    version: int,
    *,
    models: ModelRegistry,
    elo: Elo,
    opponents: Sequence[str] = ("random", "expander", "gatherer"),
    mode: str = "1v1",
) -> EvaluationReport | None:
    """A version's last evaluation rebuilt from the services: the verdict from the Model Service's
    events, the records from the Elo Service's head-to-head records (every rated game of the pair),
    the Elo of the version and of the current champion. None if it was never evaluated."""
    events = (await models.list_events(version=version, kind="alias_set", page_size=200)).events
    verdicts = [e for e in events if e.alias == CANDIDATE]
    if not verdicts:
        return None
    verdict = verdicts[0]  # newest first
    promoted = any(e.alias == CHAMPION and e.actor.reason == verdict.actor.reason for e in events)
    before = await _champion_before(models, verdict)
    me = EloPlayer("model", str(version))

    async def record(opponent: str) -> Record:
        kind, _, ident = opponent.partition(":")
        h2h = await elo.head_to_head(me, EloPlayer(kind, ident), mode)
        return Record(wins=h2h.a_wins, losses=h2h.b_wins, draws=h2h.draws, opponent=opponent)

    versus = await record(model(before)) if before and before != version else None
    bots = tuple([await record(bot(name)) for name in opponents])
    champion = (await _aliases(models)).get(CHAMPION, 0)
    ratings = await _ratings(elo, sorted({version, champion} - {0}), mode)
    return EvaluationReport(
        version=version,
        promoted=promoted,
        reason=verdict.actor.reason,
        champion=champion,
        versus=versus,
        bots=bots,
        elo=ratings[version].elo,
        champion_elo=ratings[champion].elo if champion else None,
    )


async def _champion_before(models: ModelRegistry, verdict: Event) -> int:
    """The version ``champion`` pointed at just before ``verdict`` was recorded (0: none)."""
    token = ""
    while True:
        page = await models.list_events(alias=CHAMPION, kind="alias_set", page_size=200, page_token=token)
        for event in page.events:  # newest first
            if event.id < verdict.id:
                return event.version if event.version != verdict.version else event.previous_version
        if not page.next_page_token:
            return 0
        token = page.next_page_token


__all__ = [
    "EvaluationConfig",
    "EvaluationError",
    "EvaluationReport",
    "Evaluator",
    "Games",
    "MatchmakerGames",
    "Record",
    "Verdict",
    "judge",
    "read_report",
]
