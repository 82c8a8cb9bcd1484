"""Policies that act on observations: the scripted bots and (later) neural policies."""

from __future__ import annotations

from collections.abc import Callable

from generals_rl.agents.base import Agent, sample_legal
from generals_rl.agents.expander import ExpanderAgent
from generals_rl.agents.gatherer import GathererAgent
from generals_rl.agents.raider import RaiderAgent
from generals_rl.agents.random import RandomAgent

BOTS: dict[str, Callable[[int | None], Agent]] = {
    "random": RandomAgent,
    "expander": ExpanderAgent,
    "gatherer": GathererAgent,
    "raider": RaiderAgent,
}
"""The scripted bots by name; the fixed opponents of every evaluation."""


def make_agent(spec: str, seed: int | None = None) -> Agent:
    """An agent from its name (``random``, ``expander``, ``gatherer``, ``raider``)."""
    try:
        factory = BOTS[spec]
    except KeyError:
        raise ValueError(f"unknown agent {spec!r}: choose one of {', '.join(sorted(BOTS))}") from None
    return factory(seed)


__all__ = [
    "BOTS",
    "Agent",
    "ExpanderAgent",
    "GathererAgent",
    "RaiderAgent",
    "RandomAgent",
    "make_agent",
    "sample_legal",
]
