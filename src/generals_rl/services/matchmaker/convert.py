"""Proto <-> domain conversions the Matchmaker's servicer and its peer adapters share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.services.matchmaker.core import PlayerRef
from generals_rl.services.matchmaker.pairing import Kind
from generals_rl.v1 import common_pb2

KIND_TO_PROTO = {
    Kind.HUMAN: common_pb2.PLAYER_KIND_HUMAN,
    Kind.BOT: common_pb2.PLAYER_KIND_BOT,
    Kind.MODEL: common_pb2.PLAYER_KIND_MODEL,
}
KIND_FROM_PROTO = {v: k for k, v in KIND_TO_PROTO.items()}
MODE_FROM_PROTO = {common_pb2.GAME_MODE_1V1: "1v1", common_pb2.GAME_MODE_FFA: "ffa"}
MODE_TO_PROTO = {v: k for k, v in MODE_FROM_PROTO.items()}


def player_to_proto(player: PlayerRef) -> common_pb2.PlayerRef:
    return common_pb2.PlayerRef(kind=KIND_TO_PROTO[player.kind], id=player.id)


def player_from_proto(message: common_pb2.PlayerRef, what: str = "player") -> PlayerRef:
    """A domain player; ``InvalidArgument`` naming ``what`` for a kind-less one. The id is
    checked by the domain (``core.check_player``)."""
    kind = KIND_FROM_PROTO.get(message.kind)
    if kind is None:
        raise InvalidArgument(f"{what}: the kind must be human, bot or model")
    return PlayerRef(kind, message.id)


def kind_name(kind: int) -> str:
    """A PlayerKind value as the domain spells it (unknown values pass through to be rejected)."""
    known = KIND_FROM_PROTO.get(kind)  # type: ignore[call-overload]
    return known.value if known is not None else f"kind {kind}"


def mode_name(mode: int) -> str:
    """A GameMode value as the domain spells it (UNSPECIFIED and unknown values are rejected there)."""
    return MODE_FROM_PROTO.get(mode, f"mode {mode}")  # type: ignore[call-overload]


def timestamp(seconds: float | None) -> Timestamp | None:
    if seconds is None:
        return None
    stamp = Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def message_dict(message: Message) -> dict[str, Any]:
    """A message as a JSON object with proto field names (how the domain carries map settings)."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def parse_dict(data: Mapping[str, Any], message: Message) -> Message:
    """Fill ``message`` from a ``message_dict`` object."""
    return json_format.ParseDict(dict(data), message)
