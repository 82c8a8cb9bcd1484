"""generals.io's move queue, one per seat of a seated game.

A client appends flat actions (``SubmitMoves``); each tick the server pops queued moves until it
finds one that is legal in the position the tick starts from (RULES 6: the player owns the
source, which holds at least 2 army, and the destination is not a mountain) or a pass (0), and
plays that one; moves that stopped being legal (the tile was lost, its army moved away) are
dropped on the way. An empty queue passes.

Appending checks every action first and queues nothing when one fails: an action out of the
action space, a move off the board, or a move whose source is neither the player's tile now nor
the destination of a move queued before it (a path being drawn) is ``InvalidArgument`` naming
the action; more than ``MAX_SUBMIT`` actions in one call, or a queue that would pass
``MAX_QUEUE``, is ``ResourceExhausted``.
"""

from __future__ import annotations

from collections import deque

import torch
from torch import Tensor

from generals_rl.game.engine import decode_actions
from generals_rl.services.common.errors import InvalidArgument, ResourceExhausted

MAX_SUBMIT = 256
"""Most actions one SubmitMoves call may append."""

MAX_QUEUE = 1024
"""Most actions a seat's queue may hold."""

PASS = 0


class MoveQueue:
    """The queued flat actions of one seat on an H x W board."""

    def __init__(self, height: int, width: int) -> None:
        self.height = height
        self.width = width
        self.num_actions = 1 + 8 * height * width
        self._actions: deque[int] = deque()
        self._ends: deque[int] = deque()  # destination tile of each queued action, -1 for a pass

    def __len__(self) -> int:
        return len(self._actions)

    def actions(self) -> tuple[int, ...]:
        """The queued actions, first to play first."""
        return tuple(self._actions)

    def submit(self, actions: list[int], owned: Tensor) -> int:
        """Append ``actions`` after checking them all against ``owned`` (bool (H*W,): the seat's
        tiles now). Returns the queue's new length; raises and queues nothing on a bad action."""
        if not actions:
            raise InvalidArgument("actions: give 1 to 256 flat actions")
        if len(actions) > MAX_SUBMIT:
            raise ResourceExhausted(f"actions: {len(actions)} moves in one call, at most {MAX_SUBMIT}")
        if len(self._actions) + len(actions) > MAX_QUEUE:
            raise ResourceExhausted(
                f"actions: the queue holds {len(self._actions)} moves; {len(actions)} more would pass "
                f"the limit of {MAX_QUEUE}"
            )
        for i, action in enumerate(actions):
            if not 0 <= action < self.num_actions:
                raise InvalidArgument(
                    f"actions[{i}] = {action} is out of range: flat actions lie in 0..{self.num_actions - 1}"
                )
        moves = decode_actions(torch.tensor(actions, dtype=torch.int64), self.height, self.width)
        is_move = moves.is_move.tolist()
        sources = moves.source.tolist()
        dests = moves.dest.tolist()
        owned_list = owned.tolist()
        ends = set(self._ends)
        new_ends: list[int] = []
        for i, action in enumerate(actions):
            if action == PASS:
                new_ends.append(-1)
                continue
            source = sources[i]
            row, col = divmod(source, self.width)
            if not is_move[i]:
                raise InvalidArgument(
                    f"actions[{i}] = {action}: the move from row {row}, col {col} leaves the board"
                )
            if not owned_list[source] and source not in ends:
                raise InvalidArgument(
                    f"actions[{i}] = {action}: the tile at row {row}, col {col} is not yours and no move "
                    "queued before it ends there"
                )
            ends.add(dests[i])
            new_ends.append(dests[i])
        self._actions.extend(actions)
        self._ends.extend(new_ends)
        return len(self._actions)

    def pop_playable(self, legal: Tensor) -> int:
        """The action to play this tick: queued actions are popped until one is a pass or legal
        under ``legal`` (bool (A,), the seat's action mask); 0 when the queue runs out."""
        if not self._actions:
            return PASS
        while self._actions:
            action = self._actions.popleft()
            self._ends.popleft()
            if action == PASS or bool(legal[action]):
                return action
        return PASS

    def clear(self) -> int:
        """Empty the queue; how many actions were removed."""
        count = len(self._actions)
        self._actions.clear()
        self._ends.clear()
        return count
