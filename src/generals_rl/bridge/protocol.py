"""The generals.io bot server's socket.io protocol: event names, payloads and the diff patching.

The bot server (``https://botws.generals.io``, Socket.IO v4) speaks these events:

client -> server
    ``set_username(user_id, username)``            once per user id; bot names start with ``[Bot]``
    ``join_1v1(user_id)`` / ``play(user_id)``        the 1v1 and free-for-all queues
    ``join_private(room, user_id)``                  a custom game room
    ``set_force_start(room, true)``                  vote to start (``""`` for the FFA queue)
    ``attack(start, end, is50)``                     queue a move from tile ``start`` to ``end``
    ``clear_moves()``                                drop every queued move
    ``leave_game()``                                 leave the current game

server -> client
    ``error_set_username(message)``                  ``""`` when the name was accepted
    ``game_start({playerIndex, replay_id, chat_room, team_chat_room, usernames, teams})``
    ``game_update({turn, map_diff, cities_diff, generals, scores, attackIndex, stars?})``
    ``game_won()`` / ``game_lost({killer})``

A tile is ``index = row * width + col``. The client keeps two arrays and patches them with each
update's diffs: ``map = [width, height, armies..., terrain...]`` (terrain: owner >= 0, -1 empty,
-2 mountain, -3 fog, -4 fogged mountain or city) and ``cities`` (city tiles in sight). A diff
alternates run lengths: kept-from-the-old count, changed count followed by the new values, kept
count, ... (``patch``). ``generals`` lists each player's general tile, -1 when out of sight;
``scores`` holds ``{i, total, tiles, dead}`` per player sorted by standing, so ``i`` names the
player; ``turn`` counts ticks (half-turns), like our engine's ``tick``.

Everything a server sends is checked here: anything malformed raises ``ProtocolError`` with what
was wrong, so the bot can say so and leave instead of acting on garbage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

SERVER_URL = "https://botws.generals.io"
"""The public bot server (games there are watched at ``https://bot.generals.io/games/ROOM``)."""

REPLAY_URL = "https://bot.generals.io/replays/"
"""Where the bot server's replays are watched: ``REPLAY_URL + replay_id``."""

# client -> server
SET_USERNAME = "set_username"
JOIN_1V1 = "join_1v1"
JOIN_FFA = "play"
JOIN_PRIVATE = "join_private"
SET_FORCE_START = "set_force_start"
ATTACK = "attack"
CLEAR_MOVES = "clear_moves"
LEAVE_GAME = "leave_game"

# server -> client
ERROR_SET_USERNAME = "error_set_username"
GAME_START = "game_start"
GAME_UPDATE = "game_update"
GAME_WON = "game_won"
GAME_LOST = "game_lost"

TILE_EMPTY = -1
TILE_MOUNTAIN = -2
TILE_FOG = -3
TILE_FOG_OBSTACLE = -4

MAX_PLAYERS = 16
"""Largest lobby the bot server runs; more ``usernames`` than this is refused as malformed."""

MAX_TILES = 200 * 200
"""Largest map accepted from a server (our engine plays up to 64 x 64)."""


class ProtocolError(ValueError):
    """A server message that does not follow the protocol (its text says what was wrong)."""


def patch(old: Sequence[int], diff: Sequence[int]) -> list[int]:
    """The array ``diff`` turns ``old`` into: alternately copy ``diff[i]`` items of ``old``, then
    take ``diff[i + 1]`` new values that follow it in ``diff``."""
    out: list[int] = []
    i = 0
    while i < len(diff):
        keep = _count(diff, i, "kept")
        if len(out) + keep > len(old):
            raise ProtocolError(
                f"diff keeps {keep} items at position {len(out)} of an array of only {len(old)}"
            )
        out.extend(old[len(out) : len(out) + keep])
        i += 1
        if i == len(diff):
            break
        changed = _count(diff, i, "changed")
        if i + 1 + changed > len(diff):
            raise ProtocolError(f"diff announces {changed} new values at index {i} but ends before them")
        values = diff[i + 1 : i + 1 + changed]
        for value in values:
            _integer(value, "diff value")
        out.extend(values)
        i += 1 + changed
    return out


def diff(old: Sequence[int], new: Sequence[int]) -> list[int]:
    """The shortest-runs diff that ``patch(old, diff(old, new)) == new`` (what the server sends)."""
    out: list[int] = []
    i = 0
    n = len(new)
    while i < n:
        start = i
        while i < n and i < len(old) and old[i] == new[i]:
            i += 1
        out.append(i - start)
        start = i
        while i < n and (i >= len(old) or old[i] != new[i]):
            i += 1
        if i > start:
            out.append(i - start)
            out.extend(new[start:i])
    if not out:
        out.append(0)  # nothing to keep or change: an empty result
    return out


@dataclass(frozen=True)
class Score:
    """One player's line of the score table."""

    index: int
    total: int
    tiles: int
    dead: bool

    @staticmethod
    def parse(entry: Any, num_players: int) -> Score:
        if not isinstance(entry, Mapping):
            raise ProtocolError(f"a score must be an object, got {entry!r:.80}")
        index = _field(entry, "i", "score")
        if not 0 <= index < num_players:
            raise ProtocolError(f"score for player {index}, but the game has {num_players} players")
        total, tiles = _field(entry, "total", "score"), _field(entry, "tiles", "score")
        if total < 0 or tiles < 0:
            raise ProtocolError(f"negative score for player {index}: total {total}, tiles {tiles}")
        dead = entry.get("dead", False)
        if not isinstance(dead, bool):
            raise ProtocolError(f"score.dead must be true or false, got {dead!r:.40}")
        return Score(index=index, total=total, tiles=tiles, dead=dead)

    def to_payload(self) -> dict[str, Any]:
        return {"total": self.total, "tiles": self.tiles, "i": self.index, "dead": self.dead}


@dataclass(frozen=True)
class GameStart:
    """``game_start``: which seat the bot has and who plays."""

    player_index: int
    usernames: tuple[str, ...]
    teams: tuple[int, ...] | None = None
    replay_id: str = ""
    chat_room: str = ""
    team_chat_room: str | None = None

    @property
    def num_players(self) -> int:
        return len(self.usernames)

    @staticmethod
    def parse(payload: Any) -> GameStart:
        if not isinstance(payload, Mapping):
            raise ProtocolError(f"game_start must carry an object, got {payload!r:.80}")
        usernames = payload.get("usernames")
        if not isinstance(usernames, list) or not 1 <= len(usernames) <= MAX_PLAYERS:
            raise ProtocolError(
                f"game_start.usernames must list 1..{MAX_PLAYERS} players, got {usernames!r:.80}"
            )
        names = tuple(str(name) for name in usernames)
        index = _field(payload, "playerIndex", "game_start")
        if not 0 <= index < len(names):
            raise ProtocolError(f"game_start.playerIndex {index} is not a seat of {len(names)} players")
        teams = payload.get("teams")
        if teams is not None:
            if not isinstance(teams, list) or len(teams) != len(names):
                raise ProtocolError(f"game_start.teams must give one team per player, got {teams!r:.80}")
            teams = tuple(_integer(team, "team") for team in teams)
        replay_id, chat_room = payload.get("replay_id", ""), payload.get("chat_room", "")
        team_room = payload.get("team_chat_room")
        return GameStart(
            player_index=index,
            usernames=names,
            teams=teams,
            replay_id=str(replay_id or ""),
            chat_room=str(chat_room or ""),
            team_chat_room=None if team_room is None else str(team_room),
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "playerIndex": self.player_index,
            "replay_id": self.replay_id,
            "chat_room": self.chat_room,
            "team_chat_room": self.team_chat_room,
            "usernames": list(self.usernames),
            "teams": None if self.teams is None else list(self.teams),
        }


@dataclass(frozen=True)
class GameUpdate:
    """``game_update``: one tick's changes, as sent (the diffs are not applied yet)."""

    turn: int
    map_diff: tuple[int, ...]
    cities_diff: tuple[int, ...]
    generals: tuple[int, ...]
    scores: tuple[Score, ...]
    attack_index: int = 0

    @staticmethod
    def parse(payload: Any, num_players: int) -> GameUpdate:
        if not isinstance(payload, Mapping):
            raise ProtocolError(f"game_update must carry an object, got {payload!r:.80}")
        turn = _field(payload, "turn", "game_update")
        if turn < 0:
            raise ProtocolError(f"game_update.turn must not be negative, got {turn}")
        map_diff = _int_list(payload, "map_diff")
        cities_diff = _int_list(payload, "cities_diff")
        generals = _int_list(payload, "generals")
        if len(generals) != num_players:
            raise ProtocolError(f"game_update.generals has {len(generals)} entries for {num_players} players")
        raw_scores = payload.get("scores")
        if not isinstance(raw_scores, list):
            raise ProtocolError(f"game_update.scores must be a list, got {raw_scores!r:.80}")
        scores = tuple(Score.parse(entry, num_players) for entry in raw_scores)
        if sorted(s.index for s in scores) != list(range(num_players)):
            raise ProtocolError(
                f"game_update.scores must hold one entry per player 0..{num_players - 1}, "
                f"got players {[s.index for s in scores]}"
            )
        attack_index = payload.get("attackIndex", 0)
        return GameUpdate(
            turn=turn,
            map_diff=tuple(map_diff),
            cities_diff=tuple(cities_diff),
            generals=tuple(generals),
            scores=scores,
            attack_index=_integer(attack_index, "game_update.attackIndex"),
        )

    def to_payload(self) -> dict[str, Any]:
        return {
            "turn": self.turn,
            "map_diff": list(self.map_diff),
            "cities_diff": list(self.cities_diff),
            "generals": list(self.generals),
            "scores": [s.to_payload() for s in self.scores],
            "attackIndex": self.attack_index,
        }


@dataclass(frozen=True)
class Attack:
    """``attack(start, end, is50)``: move the army on ``start`` to the adjacent ``end``."""

    start: int
    end: int
    is50: bool = False


@dataclass(frozen=True)
class Queue:
    """Where the bot plays: the ``1v1`` or ``ffa`` queue, or a ``private`` room."""

    kind: Literal["1v1", "ffa", "private"]
    room: str = ""

    @staticmethod
    def parse(text: str) -> Queue:
        """``1v1``, ``ffa`` or ``private:ROOM``."""
        if text in ("1v1", "ffa"):
            return Queue(kind=text)  # type: ignore[arg-type]
        if text.startswith("private:") and len(text) > len("private:"):
            return Queue(kind="private", room=text[len("private:") :])
        raise ValueError(f"queue must be 1v1, ffa or private:ROOM, got {text!r}")

    def __str__(self) -> str:
        return f"private:{self.room}" if self.kind == "private" else self.kind

    def join(self, user_id: str) -> tuple[str, tuple[Any, ...]]:
        """The event (and its arguments) that joins this queue."""
        if self.kind == "1v1":
            return JOIN_1V1, (user_id,)
        if self.kind == "ffa":
            return JOIN_FFA, (user_id,)
        return JOIN_PRIVATE, (self.room, user_id)

    def force_start(self) -> tuple[str, tuple[Any, ...]] | None:
        """The force-start vote for queues that have one (private rooms and FFA), else None."""
        if self.kind == "1v1":
            return None
        return SET_FORCE_START, (self.room if self.kind == "private" else "", True)

    @property
    def url(self) -> str:
        """Where a person watches or joins a private room on the bot server."""
        return f"https://bot.generals.io/games/{self.room}" if self.kind == "private" else ""


class MapState:
    """The client's patched copy of ``map`` and ``cities``; ``apply`` takes one update."""

    def __init__(self, num_players: int) -> None:
        self.num_players = num_players
        self.map: list[int] = []
        self.cities: list[int] = []

    def apply(self, update: GameUpdate) -> None:
        """Patch both arrays and check the result (raises ``ProtocolError``, leaving them as they were)."""
        new_map = patch(self.map, update.map_diff)
        new_cities = patch(self.cities, update.cities_diff)
        _check_map(new_map, self.num_players)
        size = new_map[0] * new_map[1]
        bad = [c for c in new_cities if not 0 <= c < size]
        if bad:
            raise ProtocolError(f"cities outside the {new_map[0]}x{new_map[1]} map: {bad[:5]}")
        bad = [g for g in update.generals if not -1 <= g < size]
        if bad:
            raise ProtocolError(f"generals outside the {new_map[0]}x{new_map[1]} map: {bad[:5]}")
        self.map, self.cities = new_map, new_cities

    @property
    def width(self) -> int:
        return self.map[0]

    @property
    def height(self) -> int:
        return self.map[1]

    @property
    def armies(self) -> list[int]:
        size = self.width * self.height
        return self.map[2 : 2 + size]

    @property
    def terrain(self) -> list[int]:
        size = self.width * self.height
        return self.map[2 + size : 2 + 2 * size]


def _check_map(values: list[int], num_players: int) -> None:
    if len(values) < 2:
        raise ProtocolError(f"the patched map has {len(values)} values: no width and height")
    width, height = values[0], values[1]
    if width < 1 or height < 1 or width * height > MAX_TILES:
        raise ProtocolError(f"the patched map is {width}x{height}: not a board")
    size = width * height
    if len(values) != 2 + 2 * size:
        raise ProtocolError(
            f"the patched map has {len(values)} values; a {width}x{height} board needs {2 + 2 * size}"
        )
    if any(v < 0 for v in values[2 : 2 + size]):
        raise ProtocolError("the patched map has negative armies")
    bad = sorted({t for t in values[2 + size :] if not TILE_FOG_OBSTACLE <= t < num_players})
    if bad:
        raise ProtocolError(f"the patched map has terrain codes {bad[:5]} (valid: -4..{num_players - 1})")


def _integer(value: Any, what: str) -> int:
    # bool is an int in Python but never a count or a tile in this protocol.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{what} must be an integer, got {value!r:.40}")
    return value


def _count(diff: Sequence[int], i: int, what: str) -> int:
    value = _integer(diff[i], f"diff run length at index {i}")
    if value < 0:
        raise ProtocolError(f"diff has a negative {what} count {value} at index {i}")
    return value


def _field(payload: Mapping[str, Any], name: str, where: str) -> int:
    if name not in payload:
        raise ProtocolError(f"{where} has no {name!r}")
    return _integer(payload[name], f"{where}.{name}")


def _int_list(payload: Mapping[str, Any], name: str) -> list[int]:
    value = payload.get(name)
    if not isinstance(value, list):
        raise ProtocolError(f"game_update.{name} must be a list of integers, got {value!r:.80}")
    for item in value:
        _integer(item, f"an item of game_update.{name}")
    return value
