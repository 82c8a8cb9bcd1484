"""Player refs (``model:17``) to the SQL store's player ids and back, remembered once known.

A ref is a player row of that kind and name (the ref's id); the row's id is whatever the first writer
gave it (the Game Service may create rows too: ``PlayerStore.ensure`` is keyed by kind and name). A
model player must name a version of the model registry and is linked to it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable

from generals_rl.services.elo.domain import PlayerRef
from generals_rl.storage import ConflictError, Database, NotFoundError
from generals_rl.storage.records import PlayerKind

_PAGE = 1000
_ONE_BY_ONE = 20  # more unknown ids than this: read every player a page at a time


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

    def ensure(self, ref: PlayerRef) -> str:
        """The player's id, its row created if missing. A model player is linked to its version when the
        model registry has it, and created without the link when not (as the Game Service does)."""
        found = self.find(ref)
        if found is not None:
            return found
        players = self.database.players
        if ref.kind == "model":
            with contextlib.suppress(NotFoundError, ConflictError):
                return self._remember(ref, players.ensure("model", ref.id, model_version=int(ref.id)).id)
        return self._remember(ref, players.ensure(_kind(ref), ref.id).id)

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
        while len(missing) > _ONE_BY_ONE:
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
