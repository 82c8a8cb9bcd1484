"""The official generals.io replay formats (RULES 21-22): parse, check, write.

``.gioreplay`` is a JSON object; ``.gior`` is the same data as a positional JSON array
compressed with lz-string's ``compressToUint8Array``. Both parse into one frozen ``Replay``.
Fields this project does not use (chat, player colours, newer map features, ...) are kept
verbatim in ``Replay.extra`` so that a file read and written again keeps them.

Every malformed input raises ``ReplayError`` (a ``ValueError``) naming the field at fault.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from generals_rl.game.engine import MAX_TICKS_LIMIT
from generals_rl.game.lzstring import LZStringError, compress_to_uint8array, decompress_from_uint8array
from generals_rl.game.maps import MAX_INITIAL_ARMY, MAX_SIDE, Maps

MAX_REPLAY_PLAYERS = 16
"""Most players a replay may hold (custom generals.io games allow 16)."""

POSITIONAL_FIELDS: tuple[str, ...] = (
    "version", "id", "mapWidth", "mapHeight", "usernames", "stars", "cities", "cityArmies",
    "generals", "mountains", "moves", "afks", "teams", "map_title", "neutrals", "neutralArmies",
    "swamps", "chat", "playerColors", "lights", "options", "modifiers", "observatories",
    "lookouts", "deserts", "playerTransforms", "pings", "generalTrades",
)  # fmt: skip
"""JSON key of each position of a ``.gior`` array, in order (later versions append fields)."""

_TYPED_KEYS = frozenset(POSITIONAL_FIELDS[:17])


class ReplayError(ValueError):
    """A replay file or object that cannot be read: the message says which field is wrong."""


@dataclass(frozen=True)
class Move:
    """One logged move: player ``index`` sends army from tile ``start`` to ``end`` (official
    indices ``row * mapWidth + col``), half of it if ``is50``, during tick ``turn``."""

    index: int
    start: int
    end: int
    is50: bool
    turn: int


@dataclass(frozen=True)
class Afk:
    """Player ``index`` left or went AFK during tick ``turn`` (RULES 14)."""

    index: int
    turn: int


@dataclass(frozen=True)
class Replay:
    """One game as the official formats record it. Tiles are official indices
    ``row * map_width + col``; list fields are tuples. Optional fields are None when absent.

    ``extra`` holds every other field verbatim under its JSON key (for ``.gior`` input the key
    comes from ``POSITIONAL_FIELDS``, or ``field<N>`` past its end).
    """

    version: int
    id: str
    map_width: int
    map_height: int
    usernames: tuple[str | None, ...]
    stars: tuple[float | None, ...] | None
    cities: tuple[int, ...]
    city_armies: tuple[int, ...]
    generals: tuple[int, ...]
    mountains: tuple[int, ...]
    moves: tuple[Move, ...]
    afks: tuple[Afk, ...]
    teams: tuple[int, ...] | None = None
    map_title: str | None = None
    neutrals: tuple[int, ...] | None = None
    neutral_armies: tuple[int, ...] | None = None
    swamps: tuple[int, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self)

    @property
    def num_players(self) -> int:
        return len(self.generals)

    @property
    def num_tiles(self) -> int:
        return self.map_width * self.map_height

    @property
    def last_turn(self) -> int:
        """The last tick any record (move or AFK) refers to; 0 without records."""
        return max([m.turn for m in self.moves] + [a.turn for a in self.afks], default=0)

    # -- conversions -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The ``.gioreplay`` object (optional fields only when present)."""
        obj: dict[str, Any] = {
            "version": self.version,
            "id": self.id,
            "mapWidth": self.map_width,
            "mapHeight": self.map_height,
            "usernames": list(self.usernames),
            "stars": None if self.stars is None else list(self.stars),
            "cities": list(self.cities),
            "cityArmies": list(self.city_armies),
            "generals": list(self.generals),
            "mountains": list(self.mountains),
            "moves": [
                {"index": m.index, "start": m.start, "end": m.end, "is50": int(m.is50), "turn": m.turn}
                for m in self.moves
            ],
            "afks": [{"index": a.index, "turn": a.turn} for a in self.afks],
            "teams": None if self.teams is None else list(self.teams),
        }
        for key, value in (
            ("map_title", self.map_title),
            ("neutrals", self.neutrals),
            ("neutralArmies", self.neutral_armies),
            ("swamps", self.swamps),
        ):
            if value is not None:
                obj[key] = value if isinstance(value, str) else list(value)
        obj.update(self.extra)
        return obj

    def to_positional(self) -> list[Any]:
        """The positional array of a ``.gior`` (extra fields without a position are dropped)."""
        obj = self.to_json()
        moves = [[m["index"], m["start"], m["end"], m["is50"], m["turn"]] for m in obj["moves"]]
        afks = [[a["index"], a["turn"]] for a in obj["afks"]]
        values = {**obj, "moves": moves, "afks": afks}
        position = {name: i for i, name in enumerate(POSITIONAL_FIELDS)}
        for key in self.extra:
            if key.startswith("field") and key[5:].isdigit() and int(key[5:]) >= len(POSITIONAL_FIELDS):
                position[key] = int(key[5:])
        placed = {position[name]: value for name, value in values.items() if name in position}
        return [placed.get(i) for i in range(max(placed) + 1)]

    def to_gioreplay(self) -> str:
        """``.gioreplay`` text (compact JSON, as the official tools write it)."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)

    def to_gior(self) -> bytes:
        """``.gior`` bytes: the positional array as compact JSON, lz-string compressed."""
        text = json.dumps(self.to_positional(), separators=(",", ":"), ensure_ascii=False)
        return compress_to_uint8array(text)

    def save(self, path: str | Path) -> Path:
        """Write to ``path``: ``.gior`` if it ends so, else ``.gioreplay`` JSON."""
        path = Path(path)
        if path.suffix == ".gior":
            path.write_bytes(self.to_gior())
        else:
            path.write_text(self.to_gioreplay(), encoding="utf-8")
        return path

    def maps(self, pad_to: tuple[int, int] | None = None) -> Maps:
        """The starting map (a batch of one), optionally padded with mountains to ``pad_to``."""
        h, w = self.map_height, self.map_width
        mountains = torch.zeros(h * w, dtype=torch.bool)
        cities = torch.zeros(h * w, dtype=torch.bool)
        armies = torch.zeros(h * w, dtype=torch.int32)
        mountains[list(self.mountains)] = True
        if self.neutrals:
            armies[list(self.neutrals)] = torch.tensor(self.neutral_armies, dtype=torch.int32)
        cities[list(self.cities)] = True
        armies[list(self.cities)] = torch.tensor(self.city_armies, dtype=torch.int32)
        maps = Maps(
            mountains=mountains.view(1, h, w),
            cities=cities.view(1, h, w),
            armies=armies.view(1, h, w),
            generals=torch.tensor([self.generals], dtype=torch.int64),
            size=torch.tensor([[h, w]], dtype=torch.int64),
        )
        return maps.pad(*pad_to) if pad_to else maps

    # -- parsing -----------------------------------------------------------------------------

    @staticmethod
    def from_json(obj: Any) -> Replay:
        """Parse a ``.gioreplay`` object (already JSON-decoded)."""
        if not isinstance(obj, dict):
            raise ReplayError(f"a .gioreplay holds a JSON object, got {_kind(obj)}")
        for key in POSITIONAL_FIELDS[:12]:
            if key != "stars":
                _get(obj, key)
        moves = _list(obj, "moves")
        afks = _list(obj, "afks")
        return Replay(
            version=_get(obj, "version"),
            id=_get(obj, "id"),
            map_width=_get(obj, "mapWidth"),
            map_height=_get(obj, "mapHeight"),
            usernames=_tuple(_get(obj, "usernames"), "usernames"),
            stars=_tuple_or_none(obj.get("stars"), "stars"),
            cities=_tuple(_get(obj, "cities"), "cities"),
            city_armies=_tuple(_get(obj, "cityArmies"), "cityArmies"),
            generals=_tuple(_get(obj, "generals"), "generals"),
            mountains=_tuple(_get(obj, "mountains"), "mountains"),
            moves=tuple(_move_from_dict(m, f"moves[{i}]") for i, m in enumerate(moves)),
            afks=tuple(_afk_from_dict(a, f"afks[{i}]") for i, a in enumerate(afks)),
            teams=_tuple_or_none(obj.get("teams"), "teams"),
            map_title=obj.get("map_title"),
            neutrals=_tuple_or_none(obj.get("neutrals"), "neutrals"),
            neutral_armies=_tuple_or_none(obj.get("neutralArmies"), "neutralArmies"),
            swamps=_tuple_or_none(obj.get("swamps"), "swamps"),
            extra={k: v for k, v in obj.items() if k not in _TYPED_KEYS},
        )

    @staticmethod
    def from_positional(array: Any) -> Replay:
        """Parse the positional array of a ``.gior`` (already decompressed and JSON-decoded)."""
        if not isinstance(array, list):
            raise ReplayError(f"a .gior holds a JSON array, got {_kind(array)}")
        if len(array) < 13:
            raise ReplayError(f"a .gior array has at least 13 fields (version .. teams), got {len(array)}")
        obj: dict[str, Any] = {}
        for i, value in enumerate(array):
            name = POSITIONAL_FIELDS[i] if i < len(POSITIONAL_FIELDS) else f"field{i}"
            if i >= 13 and value is None:
                continue  # an absent optional field
            obj[name] = value
        for key, fields in (
            ("moves", ("index", "start", "end", "is50", "turn")),
            ("afks", ("index", "turn")),
        ):
            rows = obj[key]
            if not isinstance(rows, list):
                raise ReplayError(f"field {key!r} must be a list, got {_kind(rows)}")
            parsed = []
            for i, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != len(fields):
                    raise ReplayError(f"{key}[{i}] must be a list of {len(fields)} values, got {row!r:.60}")
                parsed.append(dict(zip(fields, row, strict=True)))
            obj[key] = parsed
        return Replay.from_json(obj)

    @staticmethod
    def from_bytes(data: bytes) -> Replay:
        """Parse either format, told apart by content: a JSON object is a ``.gioreplay``,
        anything else is tried as a ``.gior``."""
        stripped = data.removeprefix(b"\xef\xbb\xbf").lstrip()  # a UTF-8 byte order mark, then space
        json_error = None
        if stripped.startswith(b"{"):
            try:
                obj = json.loads(stripped.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as error:
                json_error = str(error) or type(error).__name__
            else:
                if isinstance(obj, dict):
                    return Replay.from_json(obj)
                json_error = f"a .gioreplay holds a JSON object, got {_kind(obj)}"
        try:
            text = decompress_from_uint8array(data)
            if text is None:
                raise ReplayError("the replay file is empty")
            array = json.loads(text)
        except (LZStringError, ValueError, RecursionError) as error:
            if isinstance(error, ReplayError) and json_error is None:
                raise
            if json_error is not None:
                raise ReplayError(f"not a valid .gioreplay: {json_error}") from None
            reason = str(error) if isinstance(error, LZStringError) else "the decompressed text is not JSON"
            raise ReplayError(f"neither a .gioreplay (JSON) nor a .gior (lz-string): {reason}") from None
        return Replay.from_positional(array)


def load_replay(path: str | Path) -> Replay:
    """Read a ``.gioreplay`` or ``.gior`` file (the format is picked by content)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ReplayError(f"cannot read {path}: {error.strerror or error}") from None
    return Replay.from_bytes(data)


# -- checks ----------------------------------------------------------------------------------


def _check(r: Replay) -> None:
    """Raise ``ReplayError`` unless every field has the right type and range."""
    _int(r.version, "version", 1)
    if not isinstance(r.id, str):
        raise ReplayError(f"field 'id' must be a string, got {_kind(r.id)}")
    _int(r.map_width, "mapWidth", 1, MAX_SIDE)
    _int(r.map_height, "mapHeight", 1, MAX_SIDE)
    n = r.map_width * r.map_height
    players = len(r.generals)
    if not 1 <= players <= MAX_REPLAY_PLAYERS:
        raise ReplayError(f"field 'generals' must hold 1..{MAX_REPLAY_PLAYERS} tiles, got {players}")
    for name, values in (("generals", r.generals), ("cities", r.cities), ("mountains", r.mountains)):
        for i, v in enumerate(values):
            _int(v, f"{name}[{i}]", 0, n - 1)
    if len(set(r.generals)) != players:
        raise ReplayError("field 'generals' lists a tile twice")
    mountains, cities = set(r.mountains), set(r.cities)
    for i, g in enumerate(r.generals):
        if g in mountains or g in cities:
            raise ReplayError(f"generals[{i}] = {g} is also a mountain or a city")
    if mountains & cities:
        raise ReplayError("field 'cities' lists a tile that is also a mountain")
    if len(r.city_armies) != len(r.cities):
        raise ReplayError(f"field 'cityArmies' has {len(r.city_armies)} values for {len(r.cities)} cities")
    for i, v in enumerate(r.city_armies):
        _int(v, f"cityArmies[{i}]", 0, MAX_INITIAL_ARMY)
    if len(r.usernames) != players:
        raise ReplayError(f"field 'usernames' has {len(r.usernames)} names for {players} generals")
    for i, u in enumerate(r.usernames):
        if u is not None and not isinstance(u, str):
            raise ReplayError(f"usernames[{i}] must be a string, got {_kind(u)}")
    for i, s in enumerate(r.stars or ()):
        if s is not None and (isinstance(s, bool) or not isinstance(s, int | float)):
            raise ReplayError(f"stars[{i}] must be a number, got {_kind(s)}")
    if r.teams is not None:
        if len(r.teams) != players:
            raise ReplayError(f"field 'teams' has {len(r.teams)} values for {players} generals")
        for i, t in enumerate(r.teams):
            _int(t, f"teams[{i}]", 0, 2**31 - 1)
    if r.map_title is not None and not isinstance(r.map_title, str):
        raise ReplayError(f"field 'map_title' must be a string, got {_kind(r.map_title)}")
    neutrals, armies = r.neutrals or (), r.neutral_armies or ()
    if len(neutrals) != len(armies):
        raise ReplayError(f"field 'neutralArmies' has {len(armies)} values for {len(neutrals)} neutrals")
    for i, v in enumerate(neutrals):
        _int(v, f"neutrals[{i}]", 0, n - 1)
        _int(armies[i], f"neutralArmies[{i}]", 0, MAX_INITIAL_ARMY)
    for i, v in enumerate(r.swamps or ()):
        _int(v, f"swamps[{i}]", 0, n - 1)
    for i, m in enumerate(r.moves):
        if not isinstance(m, Move):
            raise ReplayError(f"moves[{i}] must be a Move, got {_kind(m)}")
        _int(m.index, f"moves[{i}].index", 0, players - 1)
        _int(m.start, f"moves[{i}].start")
        _int(m.end, f"moves[{i}].end")
        _int(m.turn, f"moves[{i}].turn", 0, MAX_TICKS_LIMIT)
        if not isinstance(m.is50, bool):
            raise ReplayError(f"moves[{i}].is50 must be a bool, got {_kind(m.is50)}")
    for i, a in enumerate(r.afks):
        if not isinstance(a, Afk):
            raise ReplayError(f"afks[{i}] must be an Afk, got {_kind(a)}")
        _int(a.index, f"afks[{i}].index", 0, players - 1)
        _int(a.turn, f"afks[{i}].turn", 0, MAX_TICKS_LIMIT)
    if not isinstance(r.extra, Mapping):
        raise ReplayError(f"field 'extra' must be a mapping, got {_kind(r.extra)}")


def _int(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReplayError(f"field {name!r} must be an integer, got {_kind(value)}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"{'' if low is None else low}..{'' if high is None else high}"
        raise ReplayError(f"field {name!r} must lie in {span}, got {value}")
    return value


def _kind(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def _get(obj: dict[str, Any], key: str) -> Any:
    if key not in obj:
        raise ReplayError(f"field {key!r} is missing")
    return obj[key]


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = _get(obj, key)
    if not isinstance(value, list):
        raise ReplayError(f"field {key!r} must be a list, got {_kind(value)}")
    return value


def _tuple(value: Any, name: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise ReplayError(f"field {name!r} must be a list, got {_kind(value)}")
    return tuple(value)


def _tuple_or_none(value: Any, name: str) -> tuple[Any, ...] | None:
    return None if value is None else _tuple(value, name)


def _record(row: Any, name: str, keys: Sequence[str]) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise ReplayError(f"{name} must be an object, got {_kind(row)}")
    for key in keys:
        if key not in row:
            raise ReplayError(f"{name} has no {key!r}")
    return row


def _move_from_dict(row: Any, name: str) -> Move:
    row = _record(row, name, ("index", "start", "end", "is50", "turn"))
    is50 = row["is50"]
    if is50 not in (0, 1) or not isinstance(is50, int):
        raise ReplayError(f"field '{name}.is50' must be 0, 1, true or false, got {_kind(is50)}")
    return Move(index=row["index"], start=row["start"], end=row["end"], is50=bool(is50), turn=row["turn"])


def _afk_from_dict(row: Any, name: str) -> Afk:
    row = _record(row, name, ("index", "turn"))
    return Afk(index=row["index"], turn=row["turn"])
