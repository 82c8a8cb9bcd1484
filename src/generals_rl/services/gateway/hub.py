"""Spectating: the views a player's WebSocket receives, passed on to everyone watching that game.

The Game Service streams a seat's view only to whoever holds the seat's token, so the gateway
relays what the players it serves see: each ``/ws/play`` connection publishes its seat's views
here, and each ``/ws/watch`` connection subscribes to a game (one seat's view, the spectator's
choice). A subscriber that reads slowly keeps only the newest view, as real-time play does.
Spectators of one gateway see the games played through that gateway.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

View = dict[str, Any]


class Subscription:
    """One spectator's mailbox: the newest view of its game, or the seat it asked for."""

    def __init__(self, game_id: str, seat: int | None) -> None:
        self.game_id = game_id
        self.seat = seat
        self._latest: View | None = None
        self._ready = asyncio.Event()

    def offer(self, view: View) -> None:
        if self.seat is None:
            self.seat = int(view["seat"])  # follow the first seat that shows up
        if view["seat"] != self.seat:
            return
        self._latest = view
        self._ready.set()

    async def next(self) -> View:
        await self._ready.wait()
        self._ready.clear()
        view, self._latest = self._latest, None
        assert view is not None
        return view


class Hub:
    """Live games' latest views by seat, and their spectators."""

    def __init__(self) -> None:
        self._latest: dict[str, dict[int, View]] = defaultdict(dict)
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def publish(self, view: View) -> None:
        game_id = view["game_id"]
        self._latest[game_id][int(view["seat"])] = view
        for subscription in list(self._subscribers.get(game_id, ())):
            subscription.offer(view)
        if view.get("done"):
            self._latest.pop(game_id, None)

    def withdraw(self, game_id: str, seat: int) -> None:
        """A player's connection closed: its seat's views are no longer relayed."""
        latest = self._latest.get(game_id)
        if latest is not None:
            latest.pop(seat, None)
            if not latest:
                del self._latest[game_id]

    def seats(self, game_id: str) -> list[int]:
        """Seats of ``game_id`` whose views this gateway relays now."""
        return sorted(self._latest.get(game_id, {}))

    def subscribe(self, game_id: str, seat: int | None = None) -> Subscription:
        subscription = Subscription(game_id, seat)
        self._subscribers[game_id].add(subscription)
        for view in self._latest.get(game_id, {}).values():
            subscription.offer(view)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.game_id)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.game_id]
