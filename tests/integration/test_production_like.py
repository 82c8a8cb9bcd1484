"""The production topology as separate processes, the way compose and the ECS tasks run it: every
service (`grl serve NAME`, the gateway too) on PostgreSQL (migrated by `grl db upgrade`), Redis and
an S3-compatible server (moto), two `grl actor`, one `grl learner` and the evaluation loop (`grl
evaluate --watch --running`), all configured by ``GRL_*`` variables, on a tiny run (6x6 maps).

1. Versions get published, validated (accepted), evaluated (a champion with the reason recorded,
   an SPRT verdict against it) and rated by the Elo Service.
2. One actor is stopped (SIGTERM); the other is frozen (SIGSTOP) so that the Replay table's
   inserts settle, all of them logged (acknowledged, or held by a stream the frozen actor left
   open, which the service logs once it stalls); the Replay Service is killed (SIGKILL, a crash)
   and restarted on the same storage and port: nothing logged, so nothing acknowledged, is lost.
3. Both actors back (SIGCONT, a restart), training goes on: new trajectories (the restarted
   actor's acknowledged ones, from its /metrics), new versions of later learner steps.
4. Everything stops cleanly in ``grl train``'s order, each process with exit code 0.

Every process gets its own process group (killed at the end, pass or fail) and its output in a file
under ``tmp_path``; their tails are printed when the test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import pytest

from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import NotFound
from generals_rl.services.elo.client import EloClient
from generals_rl.services.elo.domain import PlayerRef as EloPlayer
from generals_rl.services.model.client import ModelClient
from generals_rl.services.replay.client import ReplayClient
from generals_rl.services.runner import SERVICE_NAMES
from generals_rl.settings import DEFAULT_PORTS

if TYPE_CHECKING:  # the fixtures' types; `conftest` names another module when the whole suite runs
    from conftest import PostgresServer, RedisServer, S3Server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


GRL = [sys.executable, "-m", "generals_rl.cli.main"]
TABLE = "trajectories"
TABLE_ITEMS = 512
"""The Replay table's capacity, given to the learner and the actors by flag (not the default 2048)."""
TRAINING = [  # a tiny run: 6x6 maps, a small network, one torch thread per process
    *("--set", "map_side=6", "--set", "channels=8", "--set", "blocks=1", "--set", "games=8"),
    *("--set", "unroll=8", "--set", "minibatch=8", "--set", "max_ticks=200", "--set", "threads=1"),
    *("--set", "time_budget_s=0", "--set", "run_name=production-like"),
    *("--table-items", str(TABLE_ITEMS)),
]
EVALUATOR = [  # a few games on 6x6 maps: SPRT batches of 4 against the champion, 2 against random
    *("evaluate", "--watch", "--running", "--size", "6", "--max-ticks", "200"),
    *("--batch-games", "4", "--max-games", "8", "--bot-games", "2", "--opponents", "random"),
    *("--concurrency", "2", "--seed", "7"),
]
T = TypeVar("T")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def signal(self, sig: signal.Signals) -> None:
        """``sig`` to the whole process group (the process and anything it started)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(text[-lines:])


class Processes:
    """Processes started in their own process groups, output to ``<folder>/<name>.log`` (appended
    across restarts); all killed on exit, with their tails printed when the block failed."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.running: dict[str, Process] = {}
        self.everything: list[Process] = []

    def start(self, name: str, *args: str) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:
            out.write(f"---- started: grl {' '.join(args)}\n".encode())
            out.flush()
            popen = subprocess.Popen(
                [*GRL, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(name, popen, log)
        self.running[name] = process
        self.everything.append(process)
        return process

    def check_alive(self) -> None:
        dead = {n: p.popen.returncode for n, p in self.running.items() if p.popen.poll() is not None}
        assert not dead, f"processes exited: {dead}"

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for process in self.everything:
            process.signal(signal.SIGCONT)  # a frozen process could not die of SIGTERM
            process.signal(signal.SIGKILL)
        for process in self.everything:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(10)
        if error is not None:
            for process in self.everything:
                print(f"\n===== {process.name} (exit {process.popen.returncode}) =====\n{process.tail()}")


def wait_until(what: str, check: Callable[[], T | None], timeout_s: float, processes: Processes) -> T:
    """Poll ``check`` every second until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        processes.check_alive()
        last = check()
        if last:
            return last
        time.sleep(1.0)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s (last look: {last!r})")


# -- what the services say -----------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """One look at the services: every version (number, state, training step), the champion and
    the reason recorded with it, the evaluator's verdicts (the reasons ``candidate`` moved with),
    the rated games of each version, the Replay table's inserts (-1: no table yet)."""

    versions: list[tuple[int, str, int]]
    champion: int
    champion_reason: str
    verdicts: dict[int, str]
    rated: dict[int, int]
    inserts: int

    @property
    def accepted(self) -> list[int]:
        return [v for v, state, _ in self.versions if state == "accepted"]

    @property
    def newest_step(self) -> int:
        return max((step for _, _, step in self.versions), default=-1)


async def _look(addresses: dict[str, str]) -> Look:
    async with (
        channel(addresses["model"]) as model_channel,
        channel(addresses["elo"]) as elo_channel,
        channel(addresses["replay"]) as replay_channel,
    ):
        models = ModelClient(model_channel, timeout_s=10)
        page = await models.list_versions(page_size=200)
        versions = sorted((v.version, str(v.state), v.metadata.training_step) for v in page.versions)
        champion = {a.name: a for a in await models.list_aliases()}.get("champion")
        events = await models.list_events(alias="candidate", kind="alias_set", page_size=200)
        players = [EloPlayer("model", str(v)) for v, _, _ in versions]
        ratings = await EloClient(elo_channel, timeout_s=10).get_ratings(players, "1v1") if players else []
        inserts = -1
        with contextlib.suppress(NotFound):  # no table before the first actor or learner makes it
            inserts = (await ReplayClient(replay_channel, timeout_s=10).stats(TABLE)).inserts
        return Look(
            versions=versions,
            champion=champion.version if champion else 0,
            champion_reason=champion.updated_by.reason if champion else "",
            verdicts={e.version: e.actor.reason for e in events.events},
            rated={int(r.player.id): r.games for r in ratings if r.games},
            inserts=inserts,
        )


async def _capacity(address: str) -> int:
    async with channel(address) as replay_channel:
        tables = await ReplayClient(replay_channel, timeout_s=10).list_tables()
    return next(config.max_items for config, _ in tables if config.name == TABLE)


async def _inserts(address: str) -> int:
    async with channel(address) as replay_channel:
        return (await ReplayClient(replay_channel, timeout_s=10).stats(TABLE)).inserts


def serving(address: str) -> bool:
    from generals_rl.cli.health import check

    return check(address, timeout_s=1.0)[0]


def acknowledged_by(actor: str, metrics_port: int) -> float:
    """Trajectories the Replay Service acknowledged to ``actor``, from its Prometheus /metrics."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    pattern = rf'^grl_actor_trajectories_acknowledged_total{{actor="{actor}"}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def gateway_up(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/healthz", timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


# -- the test ------------------------------------------------------------------------------------


@pytest.fixture
def production_env(
    tmp_path: Path, postgres_server: PostgresServer, redis_server: RedisServer, s3_server: S3Server
) -> Iterator[dict[str, str]]:
    """``GRL_*`` settings of a fresh deployment: a new PostgreSQL database (migrated with
    ``grl db upgrade``), a flushed Redis database, a new bucket prefix on moto, free ports."""
    import redis

    database = postgres_server.create_database()
    redis_db = 11
    with redis.Redis(host=redis_server.host, port=redis_server.port, db=redis_db) as client:
        client.flushdb()
    ports = {name: free_port() for name in DEFAULT_PORTS}
    env = {
        **os.environ,
        "GRL_DATA_DIR": str(tmp_path / "data"),  # nothing should land here but logs
        "GRL_SQL_URI": postgres_server.uri(database),
        "GRL_CACHE_URI": redis_server.uri(redis_db),
        "GRL_BLOB_URI": s3_server.uri(f"grl-prod-{secrets.token_hex(3)}"),
        "GRL_LOG_FORMAT": "json",
        "GRL_MODEL_SANITY_GAMES": "2",
        "PYTHONUNBUFFERED": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    env |= {f"GRL_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    env |= {f"GRL_{name.upper()}_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()}
    migrated = subprocess.run([*GRL, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "upgraded from an empty database" in " ".join(migrated.stdout.split())
    try:
        yield env
    finally:
        postgres_server.drop_database(database)
        with redis.Redis(host=redis_server.host, port=redis_server.port, db=redis_db) as client:
            client.flushdb()


@pytest.mark.slow
def test_the_production_topology_trains_rates_and_survives_a_replay_crash(
    tmp_path: Path, production_env: dict[str, str]
) -> None:
    env = production_env
    addresses = {name: env[f"GRL_{name.upper()}_ADDR"] for name in DEFAULT_PORTS}
    logs = tmp_path / "logs"
    logs.mkdir()

    def look() -> Look:
        return asyncio.run(_look(addresses))

    def inserts() -> int:
        return asyncio.run(_inserts(addresses["replay"]))

    with Processes(logs, env) as processes:
        # SERVICES, each its own process, then the gateway (it calls them)
        for name in SERVICE_NAMES:
            processes.start(name, "serve", name)
        for name in SERVICE_NAMES:
            wait_until(f"{name} serving", lambda n=name: serving(addresses[n]), 90, processes)  # type: ignore[misc]
        processes.start("gateway", "serve", "gateway")
        wait_until("gateway /healthz", lambda: gateway_up(addresses["gateway"]), 60, processes)

        # TRAINING: one learner, two actors, the evaluation loop
        processes.start("learner", "learner", *TRAINING, "--publish-every", "5")
        for i in (1, 2):
            processes.start(f"actor-{i}", "actor", *TRAINING, "--actor-id", f"actor-{i}", "--refresh-s", "2")
        processes.start("evaluator", *EVALUATOR)

        # PUBLISHED, VALIDATED, EVALUATED, RATED
        def trained() -> Look | None:
            now = look()
            met_champion = [v for v, reason in now.verdicts.items() if "SPRT" in reason]
            rated_challenger = [v for v in now.rated if v != now.champion]
            if len(now.accepted) >= 3 and now.champion in now.rated and met_champion and rated_challenger:
                return now
            return None

        before = wait_until("versions published, evaluated and rated", trained, 150, processes)
        assert [state for _, state, _ in before.versions if state != "accepted"] in (
            [],
            ["pending"],
        )  # the newest may still be validated
        assert before.newest_step > 0  # versions of the learner's updates after its starting weights
        assert before.champion_reason  # why it is champion: "first version", or the SPRT's verdict
        assert any(f"vs v{before.champion}" in reason for reason in before.verdicts.values())
        assert before.inserts > 0
        assert asyncio.run(_capacity(addresses["replay"])) == TABLE_ITEMS  # the flag's table

        # STOP an actor (gracefully) and CRASH the Replay Service
        actor_1 = processes.running.pop("actor-1")
        actor_1.signal(signal.SIGTERM)
        assert actor_1.popen.wait(60) == 0, actor_1.tail()
        actor_2 = processes.running["actor-2"]
        actor_2.signal(signal.SIGSTOP)  # nothing new is recorded while we read what was
        # Once the inserts settle, every one is logged: acknowledged, or (actor-2 frozen mid-stream)
        # logged after the service's ``stalled_stream_log_s`` (1 s) without an answer yet. So a
        # crash now may lose none, acknowledged or not.
        logged = stable(inserts)
        replay = processes.running.pop("replay")
        replay.signal(signal.SIGKILL)
        replay.popen.wait(10)
        processes.start("replay", "serve", "replay")  # the same port and storage
        wait_until("replay serving again", lambda: serving(addresses["replay"]), 90, processes)
        restored = inserts()
        assert restored >= logged, f"{logged - restored} logged trajectories lost"

        # TRAINING GOES ON: the actors back, new trajectories, new versions of later steps
        actor_2.signal(signal.SIGCONT)
        metrics = free_port()  # the restarted actor's Prometheus /metrics
        restart = ("--actor-id", "actor-1", "--refresh-s", "2", "--metrics-port", str(metrics))
        processes.start("actor-1", "actor", *TRAINING, *restart)

        def went_on() -> Look | None:
            now = look()
            newer = [v for v in now.accepted if v > before.accepted[-1]]
            if now.inserts > restored and len(newer) >= 2 and now.newest_step > before.newest_step:
                return now if acknowledged_by("actor-1", metrics) > 0 else None
            return None

        wait_until("training going on after the restart", went_on, 90, processes)
        processes.check_alive()

        # STOP in grl train's order: the actors (nothing new recorded), the learner (a checkpoint)
        # and the evaluator, the services. SIGTERM, but SIGINT for the evaluator (its Ctrl-C, as
        # compose sends it): each exits cleanly.
        stop_cleanly(processes, ["actor-1", "actor-2"])
        stop_cleanly(processes, ["learner", "evaluator"])
        stop_cleanly(processes, ["gateway", *SERVICE_NAMES])
    # Everything went to PostgreSQL, Redis and S3: no process fell back to embedded storage.
    assert not (tmp_path / "data" / "grl.db").exists() and not (tmp_path / "data" / "blobs").exists()


def stop_cleanly(processes: Processes, names: list[str], timeout_s: float = 60.0) -> None:
    """Stop ``names`` at once, as compose and ECS stop containers; each must exit with 0."""
    stopping = [processes.running.pop(name) for name in names]
    for process in stopping:
        process.signal(signal.SIGINT if process.name == "evaluator" else signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for process in stopping:
        try:
            code = process.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{process.name} did not stop within {timeout_s:.0f} s") from None
        assert code == 0, f"{process.name} exited with {code}"


def stable(read: Callable[[], int], settle_s: float = 2.0, timeout_s: float = 20.0) -> int:
    """``read()`` once it stopped changing for ``settle_s`` (streams in flight have finished)."""
    deadline = time.monotonic() + timeout_s
    value, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
        elif time.monotonic() - since >= settle_s:
            return value
    raise AssertionError(f"the Replay table's inserts kept changing with no actor running: {value}")
