"""A sum tree over float64 priorities: O(log n) proportional sampling and updates, in batches.

Leaves hold the (already exponentiated) priorities of slots ``0 .. capacity - 1``; every inner node
holds the sum of its two children, node 1 the total. ``sample(u)`` finds, for each target ``u`` in
``[0, total)``, the leaf whose prefix-sum interval holds it, by walking down all targets at once
(one numpy step per level). ``update`` writes a batch of leaves and recomputes their ancestors
level by level from their children (never by adding deltas, so rounding never accumulates).

The tree grows by doubling when a slot beyond its capacity is written.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class SumTree:
    """Priorities of slots ``0 .. capacity - 1`` with their prefix sums (module docstring)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._leaves = 1
        while self._leaves < max(1, capacity):
            self._leaves *= 2
        self._tree = np.zeros(2 * self._leaves, dtype=np.float64)

    @property
    def capacity(self) -> int:
        """Slots the tree holds without growing."""
        return self._leaves

    @property
    def total(self) -> float:
        """Sum of every priority."""
        return float(self._tree[1])

    def get(self, slots: npt.ArrayLike) -> FloatArray:
        """Priorities of ``slots``."""
        index = np.asarray(slots, dtype=np.int64)
        return self._tree[self._leaves + index]

    def leaves(self, count: int) -> FloatArray:
        """A view of the priorities of slots ``0 .. count - 1``."""
        return self._tree[self._leaves : self._leaves + count]

    def update(self, slots: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Set the priorities of ``slots`` (a slot listed twice takes its last value)."""
        index = np.asarray(slots, dtype=np.int64).reshape(-1)
        if index.size == 0:
            return
        priorities = np.broadcast_to(np.asarray(values, dtype=np.float64), index.shape)
        if index.min() < 0:
            raise IndexError("negative slot")
        if np.any(~np.isfinite(priorities)) or np.any(priorities < 0):
            raise ValueError("priorities must be finite and >= 0")
        top = int(index.max())
        if top >= self._leaves:
            self._grow(top + 1)
        nodes = index + self._leaves
        self._tree[nodes] = priorities  # numpy assigns in order: the last duplicate wins
        nodes = np.unique(nodes // 2)
        while nodes[0] >= 1:
            self._tree[nodes] = self._tree[2 * nodes] + self._tree[2 * nodes + 1]
            if nodes[0] == 1:
                break
            nodes = np.unique(nodes // 2)

    def sample(self, targets: npt.ArrayLike) -> IntArray:
        """The slot of each target prefix sum in ``[0, total)`` (targets at or past the total, as
        rounding can make them, land on the last slot with a positive priority)."""
        if self.total <= 0:
            raise ValueError("cannot sample a sum tree whose priorities are all 0")
        remaining = np.array(targets, dtype=np.float64).reshape(-1)
        nodes = np.ones(remaining.shape, dtype=np.int64)
        tree = self._tree
        while nodes.size and nodes[0] < self._leaves:
            left = 2 * nodes
            left_sum = tree[left]
            # Go right past the left subtree's mass, unless the right subtree is empty (rounding).
            right = (remaining >= left_sum) & (tree[left + 1] > 0)
            right |= left_sum <= 0
            remaining = np.where(right, remaining - left_sum, remaining)
            nodes = left + right
        return nodes - self._leaves

    def _grow(self, needed: int) -> None:
        leaves = self._leaves
        while leaves < needed:
            leaves *= 2
        old = self._tree[self._leaves : 2 * self._leaves]
        self._leaves = leaves
        self._tree = np.zeros(2 * leaves, dtype=np.float64)
        self._tree[leaves : leaves + old.size] = old
        self._rebuild()

    def _rebuild(self) -> None:
        level = self._leaves
        while level > 1:
            parents = np.arange(level // 2, level)
            self._tree[parents] = self._tree[2 * parents] + self._tree[2 * parents + 1]
            level //= 2
