"""Validation of a published version before it is accepted: five checks, in order, stopping at the
first that fails.

1. ``loads``: the bytes are a safetensors file and the architecture builds from its config.
2. ``shapes``: the file holds exactly the tensors of the architecture (names, shapes, dtypes).
3. ``finite``: no NaN or Inf in any tensor.
4. ``legal_actions``: on real engine observations (generated 1v1 maps of several sizes and an FFA
   map, after some random play), every distribution puts probability exactly 0 on illegal actions,
   sums to 1, and values are finite.
5. ``sanity_match``: a few short games against the ``random`` bot, the policy in either seat,
   finish without an illegal move (winning is not required; the result is recorded).

Everything is seeded, so a version gets the same verdict on every server. Validation is plain
blocking code: the service runs it in a worker thread, bounded by ``timeout_s`` (checked between
steps and on every tick of the sanity games).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from generals_rl.agents.arena import play_games
from generals_rl.agents.base import Agent
from generals_rl.agents.neural import NeuralAgent
from generals_rl.agents.random import RandomAgent
from generals_rl.game.engine import EngineConfig, step
from generals_rl.game.generators import MapConfig, generate_maps
from generals_rl.game.maps import Maps, initial_state
from generals_rl.game.observations import Observation, observe
from generals_rl.services.model import weights
from generals_rl.services.model.domain import Check
from generals_rl.training.networks import PolicyNetwork


@dataclass(frozen=True)
class ValidationConfig:
    """How hard validation looks.

    Attributes:
        board_sides: square 1v1 boards the forward pass is checked on.
        ffa_players: players of one more FFA board (0: none).
        boards_per_size: games per board size.
        play_ticks: ticks of random play; observations are taken at the start, halfway and the end.
        sanity_games: games against ``random`` (half with the policy in each seat).
        sanity_side: side of the sanity games' maps.
        sanity_max_ticks: tick limit of a sanity game (then it is a draw).
        timeout_s: bound of the whole validation.
        seed: seeds maps, random play and the policy's sampling.
    """

    board_sides: tuple[int, ...] = (6, 9, 14)
    ffa_players: int = 3
    boards_per_size: int = 2
    play_ticks: int = 30
    sanity_games: int = 4
    sanity_side: int = 10
    sanity_max_ticks: int = 150
    timeout_s: float = 120.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.board_sides or min(self.board_sides) < 4:
            raise ValueError(f"board_sides needs sides of at least 4, got {self.board_sides}")
        if self.sanity_games < 0 or self.sanity_games % 2:
            raise ValueError(f"sanity_games must be an even number >= 0, got {self.sanity_games}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")


@dataclass(frozen=True)
class ValidationReport:
    """The checks run, in order; the version passes when every one passed."""

    checks: tuple[Check, ...]
    sanity: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    @property
    def reason(self) -> str:
        """Why it failed, in words (the first failed check); empty when it passed."""
        failed = [check for check in self.checks if not check.passed]
        return f"{failed[0].name}: {failed[0].detail}" if failed else ""


class _Timeout(Exception):
    """Validation ran over its bound."""


class _Failed(Exception):
    """A check failed; the message says how."""


Validator = Callable[[str, str, bytes], ValidationReport]
"""(architecture, config_json, safetensors bytes) -> report: what the core calls to validate."""


def validate(
    architecture: str, config_json: str, data: bytes, config: ValidationConfig | None = None
) -> ValidationReport:
    """Run the checks of the module docstring on a version's weights."""
    config = config or ValidationConfig()
    deadline = time.monotonic() + config.timeout_s
    checks: list[Check] = []

    def fail(name: str, detail: str) -> ValidationReport:
        return ValidationReport((*checks, Check(name, False, detail)))

    try:
        tensors = weights.decode(data)
        expected = weights.expected_tensors(architecture, config_json)
    except ValueError as error:
        return fail("loads", str(error))
    checks.append(Check("loads", True, f"{len(tensors)} tensors, {len(data)} bytes"))

    problems = weights.mismatches(tensors, expected)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return fail("shapes", "; ".join(problems[:3]) + more)
    checks.append(Check("shapes", True, f"every tensor of {architecture} with its shape and dtype"))

    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            what = "NaN" if bool(torch.isnan(tensor).any()) else "Inf"
            return fail("finite", f"{what} in {name}")
    checks.append(Check("finite", True, "no NaN or Inf"))

    try:
        network = weights.load_network(architecture, config_json, data)
        _check_deadline(deadline, config)
        checks.append(Check("legal_actions", True, _legal_actions(network, config, deadline)))
        if not config.sanity_games:
            return ValidationReport(tuple(checks))
        sanity, detail = _sanity_match(network, config, deadline)
        checks.append(Check("sanity_match", True, detail))
        return ValidationReport(tuple(checks), sanity)
    except _Failed as failure:
        return fail("sanity_match" if len(checks) == 4 else "legal_actions", str(failure))
    except _Timeout:
        name = "sanity_match" if len(checks) == 4 else "legal_actions"
        return fail(name, f"validation ran over its {config.timeout_s:g} s bound")
    except Exception as error:  # a forward pass that crashes is a verdict on the weights, not a bug here
        name = "sanity_match" if len(checks) == 4 else "legal_actions"
        return fail(name, f"{type(error).__name__}: {error}")


def _check_deadline(deadline: float, config: ValidationConfig) -> None:
    if time.monotonic() > deadline:
        raise _Timeout


def _boards(config: ValidationConfig) -> list[tuple[str, Maps]]:
    n, seed = config.boards_per_size, config.seed
    boards = [
        (f"{side}x{side}", generate_maps(n, MapConfig().with_side(side), seed=seed))
        for side in config.board_sides
    ]
    if config.ffa_players:
        maps = generate_maps(n, MapConfig.ffa(config.ffa_players), seed=seed)
        h, w = maps.shape
        boards.append((f"{config.ffa_players}-player {h}x{w}", maps))
    return boards


def _observations(maps: Maps, config: ValidationConfig, deadline: float) -> list[Observation]:
    """Every player's views at the start, halfway and at the end of some random play."""
    state = initial_state(maps)
    players = [RandomAgent(config.seed + p) for p in range(maps.num_players)]
    engine = EngineConfig(max_ticks=max(1, config.play_ticks + 1))
    views: list[Observation] = []
    for tick in range(config.play_ticks + 1):
        obs = observe(state)
        if tick in (0, config.play_ticks // 2, config.play_ticks):
            views += [obs.player(p) for p in range(maps.num_players)]
        if tick == config.play_ticks:
            break
        actions = torch.stack([agent.act(obs.player(p)) for p, agent in enumerate(players)], dim=1)
        state = step(state, actions, engine)
        _check_deadline(deadline, config)
    return views


def _legal_actions(network: PolicyNetwork, config: ValidationConfig, deadline: float) -> str:
    """What was checked, in words; ``_Failed`` says what went wrong."""
    count, names = 0, []
    for name, maps in _boards(config):
        names.append(name)
        for obs in _observations(maps, config, deadline):
            with torch.inference_mode():
                out = network(obs)
            problem = _distribution_problem(out.logits, out.value, obs.action_mask)
            if problem:
                raise _Failed(f"{problem} on a {name} board")
            count += obs.action_mask.shape[0]
            _check_deadline(deadline, config)
    return f"{count} observations on {', '.join(names)} boards: probability only on legal actions, sums 1"


def _distribution_problem(logits: Tensor, value: Tensor, mask: Tensor) -> str:
    n, a = mask.shape
    if tuple(logits.shape) != (n, a) or tuple(value.shape) != (n,):
        return f"output shapes {tuple(logits.shape)} and {tuple(value.shape)}, expected {(n, a)} and {(n,)}"
    probs = torch.softmax(logits.double(), dim=1)
    if not bool(torch.isfinite(probs).all()):
        return "probabilities that are NaN or Inf (logits overflow)"
    if bool((probs[~mask] != 0).any()):
        return "probability on illegal actions"
    total = probs.sum(dim=1)
    if bool(((total - 1).abs() > 1e-6).any()):
        return f"probabilities summing to {float(total[(total - 1).abs().argmax()]):.6f}, not 1"
    if not bool(torch.isfinite(value).all()):
        return "values that are NaN or Inf"
    return ""


class _Checked(Agent):
    """The policy as an agent that records any action its own mask forbids."""

    def __init__(self, inner: NeuralAgent) -> None:
        super().__init__(0)
        self.inner, self.name = inner, "model"  # type: ignore[misc]
        self.illegal = 0

    def act(self, obs: Observation) -> Tensor:
        actions = self.inner.act(obs)
        legal = obs.action_mask.gather(1, actions.unsqueeze(1)).squeeze(1)
        self.illegal += int((~legal).sum())
        return actions


def _sanity_match(
    network: PolicyNetwork, config: ValidationConfig, deadline: float
) -> tuple[dict[str, int], str]:
    """Games against ``random``: (games, wins, draws, losses, longest game) and a description."""
    half = config.sanity_games // 2
    engine = EngineConfig(max_ticks=config.sanity_max_ticks)
    maps = generate_maps(half, MapConfig().with_side(config.sanity_side), seed=config.seed + 1)
    wins = draws = ticks = illegal = 0
    for seat in (0, 1):
        policy = _Checked(NeuralAgent(network, seed=config.seed + seat))
        opponent = RandomAgent(config.seed)
        agents: Sequence[Agent] = (policy, opponent) if seat == 0 else (opponent, policy)
        result = play_games(agents, maps, engine, on_tick=lambda _s, _a: _check_deadline(deadline, config))
        wins += result.wins(seat)
        draws += result.draws
        ticks = max(ticks, int(result.ticks.max()))
        illegal += policy.illegal
    if illegal:
        raise _Failed(f"{illegal} illegal moves in {config.sanity_games} games vs random")
    games = config.sanity_games
    losses = games - wins - draws
    sanity = {"games": games, "wins": wins, "draws": draws, "losses": losses, "max_ticks": ticks}
    detail = (
        f"won {wins}, drew {draws}, lost {losses} of {games} games vs random "
        f"({config.sanity_side}x{config.sanity_side}, at most {config.sanity_max_ticks} ticks)"
    )
    return sanity, detail
