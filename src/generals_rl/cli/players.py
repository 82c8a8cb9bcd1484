"""Model players named on the command line: ``model:<version>`` (``model:3``) or ``model:<alias>``
(``model:latest``, ``model:champion``, ``model:candidate``), for ``grl play`` and ``grl match``.

A name is resolved at the edge, against a Model Service or the local storage (``cli.model``'s
registry, as ``grl model`` reads it): ``grl play`` loads the version's network into a
``NeuralAgent``; ``grl match`` turns an alias into the version number the Matchmaker and the Game
Service take (``model:17``, never an alias, is what gets rated).
"""

from __future__ import annotations

from collections.abc import Sequence

import typer

from generals_rl.agents.neural import NeuralAgent
from generals_rl.cli.model import Registry
from generals_rl.services.common.errors import ServiceError
from generals_rl.services.model.domain import Selector, VersionInfo, select
from generals_rl.training.networks import PolicyNetwork

PREFIX = "model:"


def model_selector(name: str) -> Selector | None:
    """The version a ``model:<version|alias>`` name selects; None for other names (bots);
    ``typer.BadParameter`` for a malformed one."""
    if not name.startswith(PREFIX):
        return None
    try:
        return select(name.removeprefix(PREFIX))
    except ServiceError as error:
        raise typer.BadParameter(f"{name!r}: {error} (write model:<version> or model:<alias>)") from None


async def resolve_names(names: Sequence[str], registry: Registry) -> list[str]:
    """``names`` with every ``model:<alias>`` replaced by ``model:<version>`` it points at now."""
    out = []
    for name in names:
        selector = model_selector(name)
        if selector is not None and selector.alias:
            name = f"{PREFIX}{(await registry.get_version(selector)).version}"
        out.append(name)
    return out


async def model_agents(
    names: Sequence[str], registry: Registry, seeds: Sequence[int | None]
) -> dict[int, NeuralAgent]:
    """A ``NeuralAgent`` for each seat whose name is a model (by seat index); one network per
    version, shared by its seats."""
    networks: dict[Selector, tuple[VersionInfo, PolicyNetwork]] = {}
    agents = {}
    for seat, name in enumerate(names):
        selector = model_selector(name)
        if selector is None:
            continue
        if selector not in networks:
            fetched = await registry.fetch(selector)
            assert fetched is not None  # only None with if_newer_than
            networks[selector] = fetched
        info, network = networks[selector]
        label = f"{PREFIX}{info.version}" + (f" ({selector.alias})" if selector.alias else "")
        agents[seat] = NeuralAgent(network, seeds[seat], name=label)
    return agents
