"""Where a game's board comes from: the generator, a map text or a replay, checked and resolved.

Every bad request raises ``InvalidArgument`` naming the field (a map text error keeps the map
parser's row and column). Seated games play on their real map (no padding); batched games share
one padded board.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
from dataclasses import dataclass

from generals_rl.game.generators import MapConfig, generate_maps
from generals_rl.game.maps import MAX_SIDE, MapError, Maps, initial_state
from generals_rl.game.replay_format import Replay, ReplayError
from generals_rl.game.replay_sim import ReplaySimulator
from generals_rl.game.state import MAX_PLAYERS, GameState
from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.game.domain import GeneratorSpec, MapText, Mode, ReplayStart

MAX_REPLAY_BYTES = 4 * 1024 * 1024
"""Largest replay accepted as a map source."""

MAX_MAP_TEXT = 64 * 1024
"""Largest map text accepted, in characters."""

MAX_CITY_ARMY = 100_000


@dataclass(frozen=True)
class Board:
    """A seated game's start.

    Attributes:
        maps: the map (a batch of one, unpadded) the game and its replay start from.
        state: the position the game starts in (the map's tick 0, or a replay's later tick).
        seed: the generator seed used (0 for map texts and replays).
        source: the replay the game continues, when it starts after tick 0 of one.
        city_regeneration: the map comes from a replay of version < 6, whose neutral cities
            regenerate (RULES 5): the game keeps that rule so that its replay stays exact.
    """

    maps: Maps
    state: GameState
    seed: int
    source: Replay | None = None
    city_regeneration: bool = False

    @property
    def start_tick(self) -> int:
        return int(self.state.tick[0])


def draw_seed(seed: int) -> int:
    """``seed``, or a fresh random one for 0."""
    return seed if seed else secrets.randbits(63) or 1


def player_count(mode: Mode, requested: int, found: int | None) -> int:
    """Seats of a game: ``requested`` checked against the mode, or the map's general count ``found``."""
    if mode == "1v1":
        if requested not in (0, 2):
            raise InvalidArgument(f"num_players: a 1v1 game has 2 players, got {requested}")
        count = 2
    elif requested:
        count = requested
    elif found is not None:
        count = found
    else:
        raise InvalidArgument("num_players: give 2..8 players for an FFA game on a generated map")
    if not 2 <= count <= MAX_PLAYERS:
        raise InvalidArgument(f"num_players: games have 2..{MAX_PLAYERS} players, got {count}")
    if found is not None and found != count:
        raise InvalidArgument(f"num_players: the map has {found} generals for {count} seats; one per seat")
    return count


def map_config(mode: Mode, players: int, spec: GeneratorSpec | None) -> MapConfig:
    """The generator settings: the mode's preset with the fields ``spec`` sets."""
    base = MapConfig.generalsio_1v1() if mode == "1v1" and players == 2 else MapConfig.ffa(players)
    if spec is None:
        return base
    changes: dict[str, object] = {}
    checks: dict[str, tuple[float, float, bool]] = {
        "side": (4, MAX_SIDE, True),
        "mountain_density": (0.0, 0.6, False),
        "cities": (0, MAX_SIDE * MAX_SIDE, True),
        "city_army": (1, MAX_CITY_ARMY, True),
        "min_distance": (1, 2 * MAX_SIDE, True),
    }
    for name, (low, high, integral) in checks.items():
        value = getattr(spec, name)
        if value is None:
            continue
        lo, hi = value
        if not all(math.isfinite(v) for v in (lo, hi)) or lo > hi:
            raise InvalidArgument(f"generator.{name}: low {lo} must not be above high {hi}")
        top_ok = hi < high if name == "mountain_density" else hi <= high
        if lo < low or not top_ok:
            raise InvalidArgument(f"generator.{name}: values must lie in {low}..{high}, got {lo}..{hi}")
        changes[name] = (int(lo), int(hi)) if integral else (float(lo), float(hi))
    if spec.fair_radius is not None:
        if not 1 <= spec.fair_radius <= 2 * MAX_SIDE:
            raise InvalidArgument(
                f"generator.fair_radius: must lie in 1..{2 * MAX_SIDE}, got {spec.fair_radius}"
            )
        changes["fair_radius"] = spec.fair_radius
    if spec.fair_tolerance is not None:
        if not 0.0 <= spec.fair_tolerance <= 1.0:
            raise InvalidArgument(f"generator.fair_tolerance: must lie in [0, 1], got {spec.fair_tolerance}")
        changes["fair_tolerance"] = spec.fair_tolerance
    if spec.min_room is not None:
        if not 0 <= spec.min_room <= MAX_SIDE * MAX_SIDE:
            raise InvalidArgument(
                f"generator.min_room: must lie in 0..{MAX_SIDE * MAX_SIDE}, got {spec.min_room}"
            )
        changes["min_room"] = spec.min_room
    try:
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    except ValueError as error:
        raise InvalidArgument(f"generator: {error}") from None


def crop(maps: Maps, index: int = 0) -> Maps:
    """Map ``index`` of a padded batch on a board of its real size."""
    h, w = (int(v) for v in maps.size[index])
    _, width = maps.shape
    generals = maps.generals[index : index + 1]
    rows, cols = generals // width, generals % width
    return Maps(
        mountains=maps.mountains[index : index + 1, :h, :w].clone(),
        cities=maps.cities[index : index + 1, :h, :w].clone(),
        armies=maps.armies[index : index + 1, :h, :w].clone(),
        generals=rows * w + cols,
        size=maps.size[index : index + 1].clone(),
    )


def generated_board(mode: Mode, players: int, spec: GeneratorSpec | None, seed: int) -> Board:
    config = map_config(mode, players, spec)
    seed = draw_seed(seed)
    try:
        maps = generate_maps(1, config, seed=seed % 2**63)
    except MapError as error:
        raise InvalidArgument(f"generator: {error}") from None
    maps = crop(maps)
    return Board(maps=maps, state=initial_state(maps), seed=seed)


def text_board(mode: Mode, requested: int, text: MapText) -> tuple[Board, int]:
    if len(text.text) > MAX_MAP_TEXT:
        raise InvalidArgument(f"map_text: {len(text.text)} characters, at most {MAX_MAP_TEXT}")
    try:
        maps = Maps.from_string(text.text)
    except MapError as error:
        raise InvalidArgument(f"map_text: {error}") from None
    players = player_count(mode, requested, maps.num_players)
    return Board(maps=maps, state=initial_state(maps), seed=0), players


def replay_board(mode: Mode, requested: int, start: ReplayStart) -> tuple[Board, int]:
    if len(start.data) > MAX_REPLAY_BYTES:
        raise InvalidArgument(f"replay.data: {len(start.data)} bytes, at most {MAX_REPLAY_BYTES}")
    try:
        replay = Replay.from_bytes(start.data)
        if replay.num_players > MAX_PLAYERS:
            raise InvalidArgument(f"replay: {replay.num_players} players, games have at most {MAX_PLAYERS}")
        players = player_count(mode, requested, replay.num_players)
        maps = replay.maps()
        maps.validate()
        sim = ReplaySimulator(replay)
        for _ in range(start.start_tick):
            if sim.over:
                raise InvalidArgument(
                    f"replay.start_tick: {start.start_tick} is past the replay's end (tick {sim.tick})"
                )
            sim.step()
    except (ReplayError, MapError) as error:
        raise InvalidArgument(f"replay: {error}") from None
    state = sim.state
    if bool(state.done[0]):
        raise InvalidArgument(f"replay.start_tick: the replay's game is over by tick {start.start_tick}")
    source = replay if start.start_tick > 0 else None
    board = Board(maps=maps, state=state, seed=0, source=source, city_regeneration=replay.version < 6)
    return board, players


def resolve_board(
    mode: Mode, requested: int, source: GeneratorSpec | MapText | ReplayStart | None, seed: int
) -> tuple[Board, int]:
    """The board of a new seated game and its number of seats."""
    if isinstance(source, MapText):
        return text_board(mode, requested, source)
    if isinstance(source, ReplayStart):
        return replay_board(mode, requested, source)
    players = player_count(mode, requested, None)
    return generated_board(mode, players, source, seed), players
