"""The rules of generals.io (docs: RULES.md) as a pure, batched step over ``GameState``.

``step(state, actions, config)`` plays one tick of B games at once: moves in the configured
order, the tick counter, growth, and the end-of-game check. The same code runs on CPU and CUDA;
there is no Python loop over games, only over the (at most 8) players of a tick.

An action is a flat index: 0 passes, ``1 + (half * 4 + direction) * H * W + tile`` moves the army
on ``tile`` (flat index ``row * W + col`` on the padded board) up/down/left/right (direction 0-3),
all but one (half=0) or half (half=1). The layout matches a convolutional policy head with
8 output planes (half-major, then direction) flattened after a pass logit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from generals_rl.game.state import DIRECTIONS, NEUTRAL, GameState

MoveOrder = Literal["alternating", "generals-bots"]

MAX_TICKS_LIMIT = 100_000
"""Largest truncation limit; with ``maps.MAX_SIDE`` and ``maps.MAX_INITIAL_ARMY`` it keeps every
army below int32's limit (the bound is worked out in ``maps.MAX_INITIAL_ARMY``)."""

RULES_VERSION = 1
"""Bumped whenever a rule changes what a game does; recorded in exported replays."""


@dataclass(frozen=True)
class EngineConfig:
    """Rule options.

    Attributes:
        move_order: ``alternating`` (RULES 10, default) or ``generals-bots`` (RULES 11, 1v1 only).
        max_ticks: truncation limit; a game still running at this tick ends in a draw.
        city_regeneration: neutral cities below 40 regain 1 army on even ticks (replay version < 6).
    """

    move_order: MoveOrder = "alternating"
    max_ticks: int = 2000
    city_regeneration: bool = False

    def __post_init__(self) -> None:
        if self.move_order not in ("alternating", "generals-bots"):
            raise ValueError(f"move_order must be 'alternating' or 'generals-bots', not {self.move_order!r}")
        if not 1 <= self.max_ticks <= MAX_TICKS_LIMIT:
            raise ValueError(f"max_ticks must lie in 1..{MAX_TICKS_LIMIT}, got {self.max_ticks}")


def num_actions(height: int, width: int) -> int:
    """Size of the flat action space on an H x W board."""
    return 1 + height * width * 8


def encode_action(
    tile: Tensor | int, direction: Tensor | int, half: Tensor | int | bool, num_tiles: int
) -> Tensor:
    """Flat action index of a move (tile on a padded board of ``num_tiles``, direction 0-3, half)."""
    tile = torch.as_tensor(tile, dtype=torch.int64)
    direction = torch.as_tensor(direction, dtype=torch.int64)
    half = torch.as_tensor(half, dtype=torch.int64)
    return 1 + (half * 4 + direction) * num_tiles + tile


@dataclass(frozen=True)
class DecodedMoves:
    """Moves decoded from flat actions; ``is_move`` is false for passes and unusable actions."""

    is_move: Tensor
    source: Tensor
    dest: Tensor
    half: Tensor


def decode_actions(actions: Tensor, height: int, width: int) -> DecodedMoves:
    """Decode flat actions of any shape into source tile, destination tile and half flag.

    Actions out of range, and moves off the board edge, decode as ``is_move = False``.
    """
    actions = actions.long()
    n = height * width
    code = actions - 1
    in_range = (actions >= 1) & (actions <= n * 8)
    code = code.clamp(0, n * 8 - 1)
    plane, source = code // n, code % n
    half = plane >= 4
    direction = plane % 4
    row, col = source // width, source % width
    offsets = torch.tensor(DIRECTIONS, device=actions.device, dtype=torch.int64)
    drow, dcol = offsets[direction, 0], offsets[direction, 1]
    nrow, ncol = row + drow, col + dcol
    on_board = (nrow >= 0) & (nrow < height) & (ncol >= 0) & (ncol < width)
    dest = torch.where(on_board, nrow * width + ncol, source)
    return DecodedMoves(is_move=in_range & on_board, source=source, dest=dest, half=half)


def step(
    state: GameState, actions: Tensor, config: EngineConfig | None = None, leave: Tensor | None = None
) -> GameState:
    """Play one tick of every game. ``actions`` is int (B, P); finished games stay as they are.

    Moves of eliminated players, and moves that break RULES 6, are no-ops. ``leave`` (bool (B, P))
    marks players that leave, surrender or go AFK this tick: after the moves and before growth
    (where replays put AFK records, RULES 23) they are eliminated and neutralized (RULES 14).
    """
    config = config or EngineConfig()
    if actions.shape != (state.batch_size, state.num_players):
        raise ValueError(
            f"actions must have shape (B, P) = {(state.batch_size, state.num_players)}, "
            f"got {tuple(actions.shape)}"
        )
    state = state.clone()
    moves = decode_actions(actions.to(state.device), state.height, state.width)
    playing = ~state.done
    order = move_order(state, moves, config)
    for k in range(state.num_players):
        player = order[:, k]
        pick = player.unsqueeze(1)
        apply_moves(
            state,
            player,
            moves.source.gather(1, pick).squeeze(1),
            moves.dest.gather(1, pick).squeeze(1),
            moves.half.gather(1, pick).squeeze(1),
            moves.is_move.gather(1, pick).squeeze(1) & state.alive.gather(1, pick).squeeze(1) & playing,
        )
    if leave is not None:
        leaving = leave.to(state.device) & state.alive & playing.unsqueeze(1)
        state.alive.copy_(state.alive & ~leaving)
        neutralize_players(state, leaving)
    advance_tick(state, config, playing)
    return state


def move_order(state: GameState, moves: DecodedMoves, config: EngineConfig) -> Tensor:
    """int64 (B, P): the player that moves k-th in each game this tick."""
    b, p = state.batch_size, state.num_players
    forward = torch.arange(p, device=state.device).expand(b, p)
    if config.move_order == "alternating":
        odd = (state.tick % 2 == 1).unsqueeze(1)
        return torch.where(odd, forward.flip(1), forward)
    if p != 2:
        raise ValueError("the generals-bots move order is defined for two players only")
    # RULES 11: chasing first, then reinforcing, then the larger army; ties and passes: player 0.
    src, dst, moving = moves.source, moves.dest, moves.is_move
    both = moving.all(dim=1)
    chase0 = dst[:, 0] == src[:, 1]
    chase1 = (dst[:, 1] == src[:, 0]) & ~chase0
    owner = state.owner.view(b, -1).long()
    own_dest = owner.gather(1, dst) == forward
    reinforce1 = own_dest[:, 1] & ~own_dest[:, 0]
    army = state.armies.view(b, -1).gather(1, src) - 1
    larger1 = army[:, 1] > army[:, 0]
    # As generals-bots 2.5.0's compute_agent_order: player 0 chasing wins even when both chase,
    # any reinforcing player goes before the others (player 0 first when both reinforce).
    second_first = both & ~chase0 & (chase1 | reinforce1 | (~own_dest.any(1) & larger1))
    return torch.where(second_first.unsqueeze(1), forward.flip(1), forward)


def apply_moves(
    state: GameState,
    mover: Tensor,
    source: Tensor,
    dest: Tensor,
    half: Tensor,
    active: Tensor,
) -> Tensor:
    """Apply one move per game in place (RULES 6-9, 13). All arguments are (B,).

    Returns bool (B,): whether the move happened.
    """
    b = state.batch_size
    armies = state.armies.view(b, -1)
    owner = state.owner.view(b, -1)
    src_army = armies.gather(1, source.unsqueeze(1)).squeeze(1)
    src_owner = owner.gather(1, source.unsqueeze(1)).squeeze(1).long()
    dst_army = armies.gather(1, dest.unsqueeze(1)).squeeze(1)
    dst_owner = owner.gather(1, dest.unsqueeze(1)).squeeze(1).long()
    dst_mountain = state.mountains.view(b, -1).gather(1, dest.unsqueeze(1)).squeeze(1)
    valid = active & (src_owner == mover) & (src_army >= 2) & ~dst_mountain & (source != dest)

    sent = torch.where(half, src_army // 2, src_army - 1)
    mover_team = state.teams.gather(1, mover.unsqueeze(1)).squeeze(1)
    dst_team = state.teams.gather(1, dst_owner.clamp(min=0).unsqueeze(1)).squeeze(1)
    ally = (dst_owner >= 0) & (dst_team == mover_team)
    dst_general_of = state.generals.gather(1, dst_owner.clamp(min=0).unsqueeze(1)).squeeze(1)
    dst_is_general = (dst_owner >= 0) & (dst_general_of == dest)
    taken = torch.where(ally, (dst_owner != mover) & ~dst_is_general, sent > dst_army)
    new_dst_army = torch.where(ally, dst_army + sent, (sent - dst_army).abs())
    new_dst_owner = torch.where(taken, mover, dst_owner)

    armies.scatter_(1, source.unsqueeze(1), torch.where(valid, src_army - sent, src_army).unsqueeze(1))
    armies.scatter_(1, dest.unsqueeze(1), torch.where(valid, new_dst_army, dst_army).unsqueeze(1))
    owner.scatter_(
        1, dest.unsqueeze(1), torch.where(valid, new_dst_owner, dst_owner).to(owner.dtype).unsqueeze(1)
    )

    captured = valid & taken & ~ally & dst_is_general
    capture_general(state, captured, victim=dst_owner, capturer=mover, tile=dest)
    return valid


def capture_general(
    state: GameState, captured: Tensor, victim: Tensor, capturer: Tensor, tile: Tensor
) -> None:
    """RULES 13, in place: where ``captured`` (B,), every tile of ``victim`` passes to ``capturer``
    with its army halved (rounded half up), the general becomes a city and the victim is out."""
    if not torch.compiler.is_compiling() and not bool(captured.any()):
        return  # the common case; skipping it halves an eager CPU step
    b = state.batch_size
    victim = victim.clamp(min=0)
    hit = captured.view(b, 1, 1) & (state.owner == victim.view(b, 1, 1).to(state.owner.dtype))
    state.armies.copy_(torch.where(hit, (state.armies + 1) // 2, state.armies))
    state.owner.copy_(torch.where(hit, capturer.view(b, 1, 1).to(state.owner.dtype), state.owner))
    state.cities.view(b, -1).scatter_(
        1,
        tile.unsqueeze(1),
        (captured | state.cities.view(b, -1).gather(1, tile.unsqueeze(1)).squeeze(1)).unsqueeze(1),
    )
    lost = captured.unsqueeze(1) & (
        torch.arange(state.num_players, device=state.device) == victim.unsqueeze(1)
    )
    state.generals.copy_(torch.where(lost, torch.full_like(state.generals, -1), state.generals))
    state.alive.copy_(state.alive & ~lost)


def advance_tick(state: GameState, config: EngineConfig, playing: Tensor) -> None:
    """RULES 2(b)-(d), in place: the tick counter, growth (RULES 5), then the end check (RULES 18)."""
    b = state.batch_size
    state.tick.add_(playing.long())
    even = (playing & (state.tick % 2 == 0)).view(b, 1, 1)
    fifty = (playing & (state.tick % 50 == 0)).view(b, 1, 1)
    owned = state.owner >= 0
    structures = state.cities | state.general_tiles()
    # The two growths add up: on a tick divisible by 50 an owned general or city gains 2.
    grow = owned & structures & even
    if config.city_regeneration:
        grow |= state.cities & ~owned & (state.armies < 40) & even
    state.armies.add_(grow.to(state.armies.dtype) + (owned & fifty).to(state.armies.dtype))
    check_game_over(state, playing, config.max_ticks)


def check_game_over(state: GameState, playing: Tensor, max_ticks: int | None = None) -> None:
    """In place: a game ends when one team is left (that team wins), when nobody is left or at
    the tick limit (a draw)."""
    alive_team = torch.where(state.alive, state.teams, torch.full_like(state.teams, -1))
    first = alive_team.max(dim=1).values
    one_team = ((alive_team == first.unsqueeze(1)) | ~state.alive).all(dim=1) & (first >= 0)
    none_left = ~state.alive.any(dim=1)
    won = playing & one_team
    truncated = playing & ~won & none_left
    if max_ticks is not None:
        truncated |= playing & ~won & (state.tick >= max_ticks)
    state.winner.copy_(torch.where(won, first, state.winner))
    state.done.copy_(state.done | won | truncated)


def eliminate(state: GameState, players: Tensor, neutralize: bool = True) -> GameState:
    """Players that leave, surrender or go AFK (RULES 14): out of the game at once.

    ``players`` is bool (B, P). With ``neutralize`` their land turns neutral at once (or passes to
    a live teammate) and their general becomes a city, as in a live game; without it their land
    stays theirs and keeps growing until ``neutralize_players`` is called, as replays record it.
    Returns a new state with the end of game checked.
    """
    state = state.clone()
    state.alive.copy_(state.alive & ~players)
    if neutralize:
        neutralize_players(state, players)
    check_game_over(state, ~state.done)
    return state


def neutralize_players(state: GameState, players: Tensor) -> None:
    """In place: each eliminated player in ``players`` (B, P) whose general still stands loses it.

    Its tiles go to the first live teammate, if any, else turn neutral; its general becomes a city.
    """
    b, p = state.batch_size, state.num_players
    for q in range(p):
        general = state.generals[:, q]
        standing = players[:, q] & (general >= 0)
        if not bool(standing.any()):
            continue
        g = general.clamp(min=0)
        owns_general = state.owner.view(b, -1).gather(1, g.unsqueeze(1)).squeeze(1) == q
        act = standing & owns_general
        same_team = (state.teams == state.teams[:, q : q + 1]) & state.alive
        same_team[:, q] = False
        has_mate = same_team.any(dim=1)
        heir = torch.where(has_mate, same_team.long().argmax(dim=1), torch.full_like(general, NEUTRAL))
        hit = act.view(b, 1, 1) & (state.owner == q)
        state.owner.copy_(torch.where(hit, heir.view(b, 1, 1).to(state.owner.dtype), state.owner))
        cities = state.cities.view(b, -1)
        cities.scatter_(1, g.unsqueeze(1), (act | cities.gather(1, g.unsqueeze(1)).squeeze(1)).unsqueeze(1))
        state.generals[:, q] = torch.where(standing, torch.full_like(general, -1), general)
