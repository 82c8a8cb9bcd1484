"""Retries without duplicates: how far each writer's messages got into a table.

An actor tags each RecordExperience message with its ``writer_id`` and a ``sequence`` that grows
by message; after a failed or cut stream it resends from its oldest message not acknowledged.
The table keeps, per writer, the newest sequence it saw and how many of that message's items it
inserted (a message may go in parts when the rate limiter lets only some of it through), so:

- a message of an older sequence was inserted whole: all of it is skipped;
- the newest message again: only its items not inserted yet go in;
- a newer sequence: all of it goes in.

The progress of each part is logged with its items (the chunk's ``extra``) and checkpointed with
the table's state, so a restart restores it exactly with the items it describes. Only the
``MAX_WRITERS`` writers heard from most recently are remembered (actors take a new id when they
start, so old ids are of dead actors).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generals_rl.services.common.errors import InvalidArgument

MAX_WRITERS = 4096
MAX_WRITER_ID = 128


@dataclass(frozen=True)
class Tag:
    """One message's writer and sequence."""

    writer: str
    sequence: int

    def extra(self, done: int) -> dict[str, Any]:
        """What a log part says of its message's progress (the chunk's ``extra``)."""
        return {"writer": self.writer, "sequence": self.sequence, "done": done}


def tag_of(writer_id: str, sequence: int) -> Tag | None:
    """The message's tag (``None``: untagged, inserted every time); ``InvalidArgument`` when the
    id is too long or comes without a sequence."""
    if not writer_id:
        return None
    if len(writer_id) > MAX_WRITER_ID:
        raise InvalidArgument(f"writer_id is at most {MAX_WRITER_ID} characters, got {len(writer_id)}")
    if sequence < 1:
        raise InvalidArgument(f"a message with a writer_id needs a sequence >= 1, got {sequence}")
    return Tag(writer_id, sequence)


class Writers:
    """Per writer, (newest sequence, items of it inserted) (module docstring)."""

    def __init__(self) -> None:
        self._progress: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._progress)

    def done(self, tag: Tag | None, count: int) -> int:
        """Items of the message ``tag`` (of ``count`` items) inserted already."""
        if tag is None or tag.writer not in self._progress:
            return 0
        sequence, done = self._progress[tag.writer]
        if tag.sequence < sequence:
            return count
        return min(done, count) if tag.sequence == sequence else 0

    def advance(self, tag: Tag, done: int) -> None:
        """The message ``tag`` has ``done`` items inserted (never moves a writer back)."""
        current = self._progress.get(tag.writer)
        if current is None or (tag.sequence, done) > current:
            self._progress[tag.writer] = (tag.sequence, done)
        self._progress.move_to_end(tag.writer)
        while len(self._progress) > MAX_WRITERS:
            self._progress.popitem(last=False)

    def replay(self, extras: Iterable[Mapping[str, Any]]) -> None:
        """Take back the progress logged in chunks' ``extra`` (others are ignored)."""
        for extra in extras:
            if "writer" in extra:
                self.advance(Tag(str(extra["writer"]), int(extra["sequence"])), int(extra["done"]))

    def to_json(self) -> list[list[Any]]:
        """Oldest writer first: [[writer, sequence, done], ...]."""
        return [[writer, sequence, done] for writer, (sequence, done) in self._progress.items()]

    def load_json(self, value: Iterable[Any]) -> None:
        self._progress.clear()
        for writer, sequence, done in value:
            self._progress[str(writer)] = (int(sequence), int(done))
