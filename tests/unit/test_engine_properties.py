"""Hypothesis properties of the batched engine, checked against a plain-Python model of RULES 2-14.

The model (``Game`` and ``model_step``) is written from RULES.md alone, one tile at a time, and
keeps a ledger of where army comes from and goes to. It gives the conservation law the engine
must obey every tick:

    total_after = total_before + growth - sum(2 * min(m, d)) - sum(a // 2)

summed over every tile of the board (neutral included): ``growth`` counts the +1s of RULES 5
(an owned general or city on a tick divisible by 50 gains 2), each move onto a tile that is not
the mover's team's removes ``2 * min(m, d)`` (``m`` sent, ``d`` defending: the smaller side is
wiped out and takes as much from the larger), moves onto the mover's team's tiles move army
without loss, and a general capture halves every other tile of the victim, ``a -> ceil(a / 2)``,
removing ``a // 2`` from each.

Games are drawn as small random states (not only reachable ones: the rules apply to any state),
on boards of at most 5x5, padded with mountains to a larger board in some tests.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generals_rl.game import PLANES, EngineConfig, GameState, encode_action, num_actions, observe, step
from generals_rl.game.engine import MAX_TICKS_LIMIT, eliminate
from generals_rl.game.maps import MAX_INITIAL_ARMY
from generals_rl.game.state import NEUTRAL

DIRS = ((-1, 0), (1, 0), (0, -1), (0, 1))
INT32_MAX = 2**31 - 1
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Move = tuple[int, int, int, bool]  # row, col, direction, half
Action = Move | int | None  # a move, a raw flat index (garbage), or a pass


@dataclass
class Game:
    """One game in plain Python, on its real h x w map (no padding)."""

    h: int
    w: int
    mountains: list[list[bool]]
    cities: list[list[bool]]
    owner: list[list[int]]
    armies: list[list[int]]
    generals: list[tuple[int, int] | None]
    alive: list[bool]
    teams: list[int]
    tick: int
    done: bool = False
    winner: int = -1
    ledger: dict[str, int] = field(default_factory=dict)

    @property
    def players(self) -> int:
        return len(self.generals)

    def total(self) -> int:
        return sum(map(sum, self.armies))


# The model of RULES 2-14


def model_order(g: Game, moves: list[Move | None], mode: str) -> list[int]:
    p = g.players
    if mode == "alternating":
        return list(range(p)) if g.tick % 2 == 0 else list(range(p))[::-1]
    # RULES 11, as generals-bots 2.5.0's compute_agent_order.
    if moves[0] is None or moves[1] is None:
        return [0, 1]
    src = [(m[0], m[1]) for m in moves if m]
    dst = [(m[0] + DIRS[m[2]][0], m[1] + DIRS[m[2]][1]) for m in moves if m]
    if any(not (0 <= r < g.h and 0 <= c < g.w) for r, c in dst):
        return [0, 1]  # a move off the board counts as a pass
    if dst[0] == src[1]:
        return [0, 1]
    if dst[1] == src[0]:
        return [1, 0]

    def owns(q: int) -> bool:
        r, c = dst[q]
        return g.owner[r][c] == q

    if owns(0) or owns(1):
        return [0, 1] if owns(0) else [1, 0]
    a0, a1 = (g.armies[r][c] for r, c in src)
    return [1, 0] if a1 > a0 else [0, 1]


def model_move(g: Game, p: int, mv: Move) -> None:
    r, c, d, half = mv
    nr, nc = r + DIRS[d][0], c + DIRS[d][1]
    if not (0 <= nr < g.h and 0 <= nc < g.w) or g.mountains[nr][nc]:
        return
    if g.owner[r][c] != p or g.armies[r][c] < 2:
        return
    army = g.armies[r][c]
    sent = army // 2 if half else army - 1
    g.armies[r][c] -= sent
    defender = g.owner[nr][nc]
    if defender >= 0 and g.teams[defender] == g.teams[p]:
        g.armies[nr][nc] += sent
        if defender != p and g.generals[defender] != (nr, nc):
            g.owner[nr][nc] = p
        return
    d_army = g.armies[nr][nc]
    g.ledger["combat"] += 2 * min(sent, d_army)
    if sent <= d_army:
        g.armies[nr][nc] = d_army - sent
        return
    g.armies[nr][nc] = sent - d_army
    g.owner[nr][nc] = p
    if defender >= 0 and g.generals[defender] == (nr, nc):
        for rr in range(g.h):
            for cc in range(g.w):
                if g.owner[rr][cc] == defender:
                    a = g.armies[rr][cc]
                    g.ledger["halved"] += a // 2
                    g.armies[rr][cc] = a - a // 2
                    g.owner[rr][cc] = p
        g.cities[nr][nc] = True
        g.generals[defender] = None
        g.alive[defender] = False


def model_step(game: Game, actions: list[Action], mode: str = "alternating", max_ticks: int = 2000) -> Game:
    g = copy.deepcopy(game)
    g.ledger = {"combat": 0, "halved": 0, "growth": 0}
    if g.done:
        return g
    moves = [a if isinstance(a, tuple) else None for a in actions]
    for p in model_order(g, moves, mode):
        mv = moves[p]
        if mv is not None and g.alive[p]:
            model_move(g, p, mv)
    g.tick += 1
    standing = {pos for pos in g.generals if pos is not None}
    for r in range(g.h):
        for c in range(g.w):
            if g.owner[r][c] < 0:
                continue
            gain = (g.tick % 2 == 0 and (g.cities[r][c] or (r, c) in standing)) + (g.tick % 50 == 0)
            g.armies[r][c] += gain
            g.ledger["growth"] += gain
    teams_left = {g.teams[q] for q in range(g.players) if g.alive[q]}
    if len(teams_left) == 1:
        g.done, g.winner = True, teams_left.pop()
    elif not teams_left or g.tick >= max_ticks:
        g.done = True
    return g


# Between the model and the engine


def to_state(games: list[Game], shape: tuple[int, int] | None = None) -> GameState:
    """One batch of ``games``, padded with mountains to ``shape`` (default: the largest)."""
    hh = shape[0] if shape else max(g.h for g in games)
    ww = shape[1] if shape else max(g.w for g in games)
    b = len(games)
    mountains = torch.ones(b, hh, ww, dtype=torch.bool)
    cities = torch.zeros(b, hh, ww, dtype=torch.bool)
    owner = torch.full((b, hh, ww), NEUTRAL, dtype=torch.int8)
    armies = torch.zeros(b, hh, ww, dtype=torch.int32)
    for i, g in enumerate(games):
        mountains[i, : g.h, : g.w] = torch.tensor(g.mountains)
        cities[i, : g.h, : g.w] = torch.tensor(g.cities)
        owner[i, : g.h, : g.w] = torch.tensor(g.owner)
        armies[i, : g.h, : g.w] = torch.tensor(g.armies)
    return GameState(
        armies=armies,
        owner=owner,
        mountains=mountains,
        cities=cities,
        generals=torch.tensor([[pos[0] * ww + pos[1] if pos else -1 for pos in g.generals] for g in games]),
        alive=torch.tensor([g.alive for g in games]),
        teams=torch.tensor([g.teams for g in games]),
        tick=torch.tensor([g.tick for g in games]),
        done=torch.tensor([g.done for g in games]),
        winner=torch.tensor([g.winner for g in games]),
        map_size=torch.tensor([[g.h, g.w] for g in games]),
    )


def from_state(state: GameState, i: int = 0) -> Game:
    h, w = (int(v) for v in state.map_size[i])
    ww = state.width
    return Game(
        h=h,
        w=w,
        mountains=state.mountains[i, :h, :w].tolist(),
        cities=state.cities[i, :h, :w].tolist(),
        owner=state.owner[i, :h, :w].tolist(),
        armies=state.armies[i, :h, :w].tolist(),
        generals=[divmod(x, ww) if x >= 0 else None for x in state.generals[i].tolist()],
        alive=state.alive[i].tolist(),
        teams=state.teams[i].tolist(),
        tick=int(state.tick[i]),
        done=bool(state.done[i]),
        winner=int(state.winner[i]),
    )


def flat(action: Action, height: int, width: int) -> int:
    if action is None:
        return 0
    if isinstance(action, int):
        return action
    r, c, d, half = action
    return int(encode_action(r * width + c, d, half, height * width))


def actions_tensor(per_game: list[list[Action]], height: int, width: int) -> torch.Tensor:
    return torch.tensor([[flat(a, height, width) for a in row] for row in per_game])


def same_game(engine: Game, model: Game) -> bool:
    keys = (
        "h",
        "w",
        "mountains",
        "cities",
        "owner",
        "armies",
        "generals",
        "alive",
        "teams",
        "tick",
        "done",
        "winner",
    )
    return all(getattr(engine, k) == getattr(model, k) for k in keys)


# Strategies


@st.composite
def games(draw: st.DrawFn, players: st.SearchStrategy[int] | None = None, max_side: int = 5) -> Game:
    p = draw(players if players is not None else st.integers(2, 4))
    h = draw(st.integers(1 if p <= 3 else 2, max_side))
    w = draw(st.integers(max(2, -(-p // h)), max_side))
    n = h * w
    spots = draw(st.permutations(range(n)))[:p]
    kinds = draw(st.lists(st.sampled_from("....#c"), min_size=n, max_size=n))
    big = st.integers(0, 12) | st.integers(0, 1000)
    mountains = [[False] * w for _ in range(h)]
    cities = [[False] * w for _ in range(h)]
    owner = [[NEUTRAL] * w for _ in range(h)]
    armies = [[0] * w for _ in range(h)]
    for t in range(n):
        r, c = divmod(t, w)
        if t in spots:
            continue
        if kinds[t] == "#":
            mountains[r][c] = True
            continue
        cities[r][c] = kinds[t] == "c"
        owner[r][c] = draw(st.sampled_from([NEUTRAL, NEUTRAL, *range(p)]))
        armies[r][c] = draw(big)
    generals: list[tuple[int, int] | None] = []
    alive = []
    for q, t in enumerate(spots):
        r, c = divmod(t, w)
        fate = draw(st.sampled_from(["alive"] * 6 + ["captured", "left"]))
        armies[r][c] = draw(big)
        if fate == "captured":  # its general became a city of someone else
            generals.append(None)
            cities[r][c] = True
            owner[r][c] = draw(st.sampled_from([NEUTRAL, *range(p)]))
            owner = [[NEUTRAL if o == q else o for o in row] for row in owner]
        else:  # "left": eliminated, not yet neutralized (RULES 14, as replays record it)
            generals.append((r, c))
            owner[r][c] = q
        alive.append(fate == "alive")
    teams = draw(st.sampled_from([list(range(p)), [0, 1] * (p // 2) + [0] * (p % 2)])) if p >= 3 else [0, 1]
    tick = draw(st.sampled_from([0, 1, 48, 49, 98, 99]) | st.integers(0, 300))
    return Game(h, w, mountains, cities, owner, armies, generals, alive, teams, tick)


def action_for(g: Game) -> st.SearchStrategy[Action]:
    """A pass, a move from an owned tile (legal or not), any move at all, or a garbage index."""
    owned = [(r, c) for r in range(g.h) for c in range(g.w) if g.owner[r][c] >= 0]
    anywhere = st.tuples(st.integers(0, g.h - 1), st.integers(0, g.w - 1), st.integers(0, 3), st.booleans())
    options: list[st.SearchStrategy[Action]] = [st.none(), anywhere, st.sampled_from([-7, -1, 10**6, 2**40])]
    if owned:
        from_owned = st.tuples(st.sampled_from(owned), st.integers(0, 3), st.booleans()).map(
            lambda t: (t[0][0], t[0][1], t[1], t[2])
        )
        options += [from_owned, from_owned, from_owned]
    return st.one_of(*options)


# Properties


@SETTINGS
@given(data=st.data(), mode=st.sampled_from(["alternating", "alternating", "generals-bots"]))
def test_engine_matches_the_rules_model_and_conserves_army(data: st.DataObject, mode: str) -> None:
    players = st.just(2) if mode == "generals-bots" else None
    model = data.draw(games(players))
    max_ticks = data.draw(st.sampled_from([2000, model.tick + 1, model.tick + 2]))
    config = EngineConfig(move_order=mode, max_ticks=max_ticks)
    state = to_state([model])
    for _ in range(3):
        actions = [data.draw(action_for(model)) for _ in range(model.players)]
        before_total = model.total()
        model = model_step(model, actions, mode, max_ticks)
        state = step(state, actions_tensor([actions], state.height, state.width), config)
        engine = from_state(state)
        assert same_game(engine, model), (actions, engine, model)
        assert int(state.armies.min()) >= 0
        ledger = model.ledger
        law = before_total + ledger["growth"] - ledger["combat"] - ledger["halved"]
        assert int(state.armies.sum()) == law


@SETTINGS
@given(data=st.data())
def test_single_move_conservation_law_on_the_engine_alone(data: st.DataObject) -> None:
    g = data.draw(games(st.just(2)).filter(lambda g: g.alive == [True, True]))
    state = to_state([g])
    moves = observe(state).action_mask[0, 0].nonzero().flatten().tolist()
    action = data.draw(st.sampled_from(moves))
    after = step(state, torch.tensor([[action, 0]]))
    # m and d from the state before: with one mover nothing else touches the two tiles.
    n = state.num_tiles
    half, direction, src = (action - 1) // (4 * n), (action - 1) // n % 4, (action - 1) % n
    if action == 0:
        combat = halved = 0
    else:
        r, c = divmod(src, state.width)
        dst = (r + DIRS[direction][0]) * state.width + c + DIRS[direction][1]
        a = int(state.armies.view(-1)[src])
        m = a // 2 if half else a - 1
        d = int(state.armies.view(-1)[dst])
        defender = int(state.owner.view(-1)[dst])
        combat = 0 if defender == 0 else 2 * min(m, d)
        halved = 0
        if defender == 1 and m > d and int(state.generals[0, 1]) == dst:
            victim = (state.owner.view(-1) == 1) & (torch.arange(n) != dst)
            halved = int((state.armies.view(-1)[victim] // 2).sum())
    t = int(after.tick)
    structures = after.cities | after.general_tiles()
    owned = after.owner >= 0
    growth = int((owned & structures).sum()) * (t % 2 == 0) + int(owned.sum()) * (t % 50 == 0)
    assert int(after.armies.sum()) == int(state.armies.sum()) + growth - combat - halved


@SETTINGS
@given(g=games(max_side=5), pad=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_fog_equals_brute_force_chebyshev(g: Game, pad: tuple[int, int]) -> None:
    state = to_state([g], (g.h + pad[0], g.w + pad[1]))
    obs = observe(state)
    hh, ww = state.height, state.width
    standing = {pos for pos in g.generals if pos is not None}
    for p in range(g.players):
        planes = {name: obs.planes[0, p, i].tolist() for i, name in enumerate(PLANES)}
        armies = obs.armies[0, p].tolist()
        for r in range(hh):
            for c in range(ww):
                inside = r < g.h and c < g.w
                seen = not inside or any(
                    0 <= r + dr < g.h and 0 <= c + dc < g.w and g.owner[r + dr][c + dc] == p
                    for dr in (-1, 0, 1)
                    for dc in (-1, 0, 1)
                )
                mountain = not inside or g.mountains[r][c]
                city = inside and g.cities[r][c]
                who = g.owner[r][c] if inside else NEUTRAL
                mate = who >= 0 and who != p and g.teams[who] == g.teams[p]
                assert planes["fog"][r][c] == (not seen)
                assert planes["obstacle_in_fog"][r][c] == (not seen and (mountain or city))
                assert armies[r][c] == (g.armies[r][c] if seen and inside else 0)
                assert planes["mine"][r][c] == (who == p)
                assert planes["ally"][r][c] == (seen and mate)
                assert planes["enemy"][r][c] == (seen and who >= 0 and who != p and not mate)
                assert planes["neutral"][r][c] == (seen and who < 0 and not mountain)
                assert planes["mountain"][r][c] == (seen and mountain)
                assert planes["city"][r][c] == (seen and city)
                assert planes["general"][r][c] == (seen and (r, c) in standing)


@SETTINGS
@given(data=st.data(), count=st.integers(2, 4))
def test_batch_equals_games_one_by_one(data: st.DataObject, count: int) -> None:
    p = data.draw(st.integers(2, 3))
    models = [data.draw(games(st.just(p), max_side=4)) for _ in range(count)]
    mode = "generals-bots" if p == 2 and data.draw(st.booleans()) else "alternating"
    config = EngineConfig(move_order=mode)
    batch = to_state(models, (data.draw(st.integers(4, 6)), data.draw(st.integers(4, 6))))
    singles = [to_state([m]) for m in models]
    for _ in range(2):
        per_game = [[data.draw(action_for(m)) for _ in range(p)] for m in models]
        batch = step(batch, actions_tensor(per_game, batch.height, batch.width), config)
        singles = [
            step(s, actions_tensor([acts], s.height, s.width), config)
            for s, acts in zip(singles, per_game, strict=True)
        ]
        models = [from_state(s) for s in singles]
        for i, single in enumerate(models):
            assert same_game(from_state(batch, i), single)
        torch.testing.assert_close(
            torch.cat([observe(s).scalars for s in singles]), observe(batch).scalars, rtol=0, atol=0
        )


def _no_op(state: GameState, player: int, action: int) -> bool:
    actions = torch.zeros(1, state.num_players, dtype=torch.int64)
    actions[0, player] = action
    moved = step(state, actions)
    still = step(state, torch.zeros_like(actions))
    return all(torch.equal(v, getattr(still, k)) for k, v in moved.tensors().items())


@SETTINGS
@given(data=st.data())
def test_mask_allows_exactly_the_actions_that_act(data: st.DataObject) -> None:
    """Every action the mask allows plays as the rules say; every one it forbids is a no-op.

    All 1 + 8*H*W actions of one player at once: a batch of copies of the game, one action each."""
    g = data.draw(games(max_side=3))
    player = data.draw(st.integers(0, g.players - 1))
    state = to_state([g], (g.h + data.draw(st.integers(0, 1)), g.w))
    n_actions = num_actions(state.height, state.width)
    mask = observe(state).action_mask[0, player]
    copies = GameState.cat([state] * n_actions)
    actions = torch.zeros(n_actions, g.players, dtype=torch.int64)
    actions[:, player] = torch.arange(n_actions)
    moved = step(copies, actions)
    still = step(state, torch.zeros(1, g.players, dtype=torch.int64))
    for a in range(n_actions):
        game_a = from_state(moved, a)
        unchanged = same_game(game_a, from_state(still))
        if a == 0 or not bool(mask[a]):
            assert unchanged, a
            continue
        code = a - 1
        half, direction, tile = (
            code >= 4 * state.num_tiles,
            code // state.num_tiles % 4,
            code % state.num_tiles,
        )
        mv = (tile // state.width, tile % state.width, direction, bool(half))
        expected = model_step(g, [mv if q == player else None for q in range(g.players)])
        assert same_game(game_a, expected), (a, mv)
        assert not unchanged


@SETTINGS
@given(g=games(), data=st.data())
def test_illegal_moves_are_no_ops(g: Game, data: st.DataObject) -> None:
    state = to_state([g], (g.h + 1, g.w + 1))
    width = state.width
    p = data.draw(st.integers(0, g.players - 1))
    tiles = [(r, c) for r in range(g.h + 1) for c in range(g.w + 1)]
    illegal = []
    for r, c in tiles:
        for d in range(4):
            nr, nc = r + DIRS[d][0], c + DIRS[d][1]
            inside = r < g.h and c < g.w
            ok_src = inside and g.owner[r][c] == p and g.armies[r][c] >= 2 and g.alive[p] and not g.done
            ok_dst = 0 <= nr < g.h and 0 <= nc < g.w and not g.mountains[nr][nc]
            if not (ok_src and ok_dst):
                illegal += [(r, c, d, False), (r, c, d, True)]
    candidates = [*illegal, -1, num_actions(state.height, width), 10**9]
    chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=6))
    for action in chosen:
        assert _no_op(state, p, flat(action, state.height, width)), action


@SETTINGS
@given(g=games(), data=st.data())
def test_eliminated_players_cannot_move(g: Game, data: st.DataObject) -> None:
    state = to_state([g])
    leaver = data.draw(st.integers(0, g.players - 1))
    leaving = torch.zeros(1, g.players, dtype=torch.bool)
    leaving[0, leaver] = True
    for neutralize in (False, True):
        out = eliminate(state, leaving, neutralize=neutralize)
        assert not bool(observe(out).action_mask[0, leaver, 1:].any())
        owned = [(r, c) for r in range(g.h) for c in range(g.w) if g.owner[r][c] == leaver]
        for r, c in owned[:3]:
            for d in range(4):
                assert _no_op(out, leaver, flat((r, c, d, False), out.height, out.width))


def _touched(mv: Move) -> set[tuple[int, int]]:
    r, c, d, _ = mv
    return {(r, c), (r + DIRS[d][0], c + DIRS[d][1])}


@SETTINGS
@given(data=st.data())
def test_move_orders_agree_when_the_moves_do_not_meet(data: st.DataObject) -> None:
    """Moves on disjoint tiles commute (both orders, both parities give the same game), unless
    one takes a general: that reaches every tile of the victim and ends its moves."""
    g = data.draw(games(st.just(2)))
    moves = [data.draw(action_for(g)) for _ in range(2)]
    m0, m1 = moves
    if isinstance(m0, tuple) and isinstance(m1, tuple) and _touched(m0) & _touched(m1):
        moves[1] = None
    for p, mv in enumerate(moves):
        if isinstance(mv, tuple) and g.generals[1 - p] in _touched(mv):
            moves[p] = None
    state = to_state([g])
    acts = actions_tensor([moves], state.height, state.width)
    alternating = from_state(step(state, acts))
    bots = from_state(step(state, acts, EngineConfig(move_order="generals-bots")))
    assert same_game(alternating, bots)
    flipped = state.replace(tick=state.tick + 1)  # the other parity: growth may differ, moves not
    a = step(flipped, acts)
    b = step(flipped, acts, EngineConfig(move_order="generals-bots"))
    assert same_game(from_state(a), from_state(b))


@SETTINGS
@given(data=st.data())
def test_both_reinforcing_commutes(data: st.DataObject) -> None:
    """Two players each moving onto their own tiles cannot meet, so the order (which RULES 11
    leaves unclear when both reinforce) cannot matter."""
    g = data.draw(games(st.just(2)))
    moves: list[Action] = []
    for p in range(2):
        own = [
            (r, c, d, half)
            for r in range(g.h)
            for c in range(g.w)
            for d in range(4)
            for half in (False, True)
            if g.owner[r][c] == p
            and 0 <= r + DIRS[d][0] < g.h
            and 0 <= c + DIRS[d][1] < g.w
            and g.owner[r + DIRS[d][0]][c + DIRS[d][1]] == p
        ]
        moves.append(data.draw(st.sampled_from(own)) if own else None)
    state = to_state([g])
    acts = actions_tensor([moves], state.height, state.width)
    for tick in (0, 1):
        at = state.replace(tick=torch.tensor([tick]))
        orders = [
            from_state(step(at, acts, EngineConfig(move_order=m))) for m in ("alternating", "generals-bots")
        ]
        assert same_game(orders[0], orders[1])


def test_int32_cannot_overflow_within_the_tick_limit() -> None:
    """The bound behind MAX_TICKS_LIMIT.

    No rule adds army except growth: moves keep or destroy it, captures halve it, and a neutral
    tile never gains (city regeneration stops at 40). So a tile holds at most its starting
    garrison (<= MAX_INITIAL_ARMY, neutral) or the sum of all player armies, which is at most the
    generals' 1 each plus growth: per tile at most +1 on each even tick and +1 every 50 ticks.
    """
    ticks = MAX_TICKS_LIMIT
    growth_per_tile = ticks // 2 + ticks // 50
    tiles = 64 * 64  # the largest board engine.MAX_TICKS_LIMIT is documented for
    bound = max(MAX_INITIAL_ARMY, 8 + tiles * growth_per_tile)
    assert bound < INT32_MAX
    # The largest board for which the bound still holds: far above any generals.io map.
    assert (INT32_MAX - 8) // growth_per_tile > 200 * 200


def test_engine_config_validation() -> None:
    for bad in (0, -1, MAX_TICKS_LIMIT + 1):
        try:
            EngineConfig(max_ticks=bad)
        except ValueError as err:
            assert "max_ticks" in str(err)
        else:
            raise AssertionError(f"max_ticks={bad} accepted")
    assert EngineConfig(max_ticks=1).max_ticks == 1
    assert EngineConfig(max_ticks=MAX_TICKS_LIMIT).max_ticks == MAX_TICKS_LIMIT
    try:
        EngineConfig(move_order="random")  # type: ignore[arg-type]
    except ValueError as err:
        assert "move_order" in str(err)
    else:
        raise AssertionError("move_order='random' accepted")


def test_largest_armies_survive_a_full_game_at_the_tick_limit() -> None:
    """A whole board owned by one player, every tile a city, from a huge army, up to the limit:
    growth is exact (no wrap-around) at the far end of the bound."""
    g = Game(
        h=1,
        w=3,
        mountains=[[False] * 3],
        cities=[[False, True, False]],
        owner=[[0, 0, 1]],
        armies=[[MAX_INITIAL_ARMY, 2 * 10**9, 1]],
        generals=[(0, 0), (0, 2)],
        alive=[True, True],
        teams=[0, 1],
        tick=MAX_TICKS_LIMIT - 50,
    )
    state = to_state([g])
    config = EngineConfig(max_ticks=MAX_TICKS_LIMIT)
    for _ in range(50):
        state = step(state, torch.zeros(1, 2, dtype=torch.int64), config)
    assert state.armies[0, 0].tolist() == [MAX_INITIAL_ARMY + 26, 2 * 10**9 + 26, 27]
    assert bool(state.done[0]) and int(state.tick[0]) == MAX_TICKS_LIMIT
