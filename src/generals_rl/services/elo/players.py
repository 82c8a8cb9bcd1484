"""Player refs (``model:17``) to the SQL store's player ids and back, remembered once known.

A ref is a player row of that kind and name (the ref's id); the row's id is whatever the first writer
gave it (the Game Service may create rows too: ``PlayerStore.ensure`` is keyed by kind and name). A
model player must name a version of the model registry and is linked to it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from generals_rl.services.common.errors import NotFound
from generals_rl.services.elo.domain import PlayerRef
from generals_rl.storage import Database, NotFoundError
from generals_rl.storage.records import PlayerKind

_PAGE = 1000


class PlayerDirectory:
    """Looks up and creates player rows by ref; ids never change, so they are remembered."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._ids: dict[PlayerRef, str] = {}
        self._refs: dict[str, PlayerRef] = {}
        self._lock = threading.Lock()

    def _remember(self, ref: PlayerRef, player_id: str) -> str:
        with self._lock:
            self._ids[ref] = player_id
            self._refs[player_id] = ref
        return player_id

    def find(self, ref: PlayerRef) -> str | None:
        """The player's id, ``None`` if no row exists (creates nothing)."""
        if ref in self._ids:
            return self._ids[ref]
        player = self.database.players.find(_kind(ref), ref.id)
        return None if player is None else self._remember(ref, player.id)

    def check_models(self, refs: Iterable[PlayerRef]) -> None:
        """``NotFound`` unless every model ref names a registered model version."""
        for ref in refs:
            if ref.kind == "model" and ref not in self._ids:
                try:
                    self.database.models.get_version(int(ref.id))
                except NotFoundError:
                    raise NotFound(
                        f"unknown player {ref}: the model registry has no version {ref.id}"
                    ) from None

    def ensure(self, ref: PlayerRef) -> str:
        """The player's id, its row created if missing (models linked to their version)."""
        found = self.find(ref)
        if found is not None:
            return found
        version = int(ref.id) if ref.kind == "model" else None
        return self._remember(ref, self.database.players.ensure(_kind(ref), ref.id, model_version=version).id)

    def ref(self, player_id: str) -> PlayerRef:
        """The ref of a stored player id."""
        if player_id not in self._refs:
            player = self.database.players.get(player_id)
            self._remember(PlayerRef(player.kind, player.name), player.id)
        return self._refs[player_id]

    def refs(self, player_ids: Iterable[str]) -> dict[str, PlayerRef]:
        """Refs of many ids: players not remembered yet are read a page at a time, not one by one."""
        wanted = set(player_ids)
        missing = wanted - self._refs.keys()
        offset = 0
        while len(missing) > 1:
            page = self.database.players.list(limit=_PAGE, offset=offset)
            for player in page:
                self._remember(PlayerRef(player.kind, player.name), player.id)
            missing -= {p.id for p in page}
            if len(page) < _PAGE:
                break
            offset += _PAGE
        return {player_id: self.ref(player_id) for player_id in wanted}


def _kind(ref: PlayerRef) -> PlayerKind:
    return ref.kind  # type: ignore[return-value]  # checked by domain.check_player
