"""The protobuf wire format of the Replay Service's two bulk messages, without copying tensor bytes.

``RecordExperienceRequest`` (actors to server) and ``ExperienceBatch`` (server to learners) are
almost all tensor data. The generated classes copy that data three times on each side (into the
message, out of it as ``bytes``, and again into the wire buffer); these functions read and write
the same wire format directly: ``decode_record`` and ``decode_batch`` return tensors whose
``data`` are ``memoryview`` slices of the received buffer, and ``encode_record`` and
``encode_batch`` write the wire bytes with one ``bytes.join`` over the tensors' buffers.

Decoding follows protobuf's rules, so any valid encoder's output reads the same as with the
generated classes (tests compare them): fields in any order, unknown fields skipped, a field with
an unexpected wire type treated as unknown, the last value of a scalar field winning, an embedded
message given twice merged (its payloads parsed as one), repeated integers packed or not, map
entries with the last value of a key winning. Malformed bytes raise ``WireError``, and so do
groups (the deprecated wire types 3 and 4), which no field of these messages uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Buffer = bytes | bytearray | memoryview

VARINT, I64, LEN, I32 = 0, 1, 2, 5
_MASK64 = (1 << 64) - 1


class WireError(ValueError):
    """The bytes are not a valid encoding of the message."""


@dataclass(frozen=True)
class WireTensor:
    """A ``generals_rl.v1.Tensor`` whose data is a view of the wire buffer (duck-types the
    message for ``tensors.check``)."""

    dtype: int = 0
    shape: tuple[int, ...] = ()
    data: Buffer = b""


@dataclass(frozen=True)
class WireTrajectories:
    """``generals_rl.v1.Trajectories``; ``None`` for a message field that is not set."""

    armies: WireTensor | None = None
    planes: WireTensor | None = None
    scalars: WireTensor | None = None
    action_mask: WireTensor | None = None
    has_observations: bool = False
    actions: WireTensor | None = None
    behaviour_log_probs: WireTensor | None = None
    rewards: WireTensor | None = None
    dones: WireTensor | None = None
    truncated: WireTensor | None = None
    extras: dict[str, WireTensor] = field(default_factory=dict)


@dataclass(frozen=True)
class WireRecord:
    """``generals_rl.v1.RecordExperienceRequest``."""

    table: str = ""
    policy_version: int = 0
    trajectories: WireTrajectories | None = None
    priorities: WireTensor | None = None
    writer_id: str = ""
    sequence: int = 0


@dataclass(frozen=True)
class WireBatch:
    """``generals_rl.v1.ExperienceBatch``."""

    keys: tuple[int, ...] = ()
    trajectories: WireTrajectories | None = None
    policy_versions: WireTensor | None = None
    probabilities: WireTensor | None = None
    importance_weights: WireTensor | None = None
    times_sampled: WireTensor | None = None
    table_size: int = 0


# decoding


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & _MASK64, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint longer than 10 bytes")


Fields = dict[int, list[tuple[int, int | memoryview]]]


def _fields(buf: Buffer) -> Fields:
    """Every field of one message: number -> [(wire type, value)] in order."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    pos, end = 0, len(view)
    out: Fields = {}
    while pos < end:
        key, pos = _varint(view, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: int | memoryview
        if wire == VARINT:
            value, pos = _varint(view, pos)
        elif wire == LEN:
            size, pos = _varint(view, pos)
            if size > end - pos:
                raise WireError("truncated length-delimited field")
            value, pos = view[pos : pos + size], pos + size
        elif wire in (I64, I32):
            width = 8 if wire == I64 else 4
            if width > end - pos:
                raise WireError("truncated fixed-width field")
            value, pos = view[pos : pos + width], pos + width
        else:
            raise WireError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append((wire, value))
    return out


def _last_int(fields: Fields, number: int, *, signed: bool = False) -> int:
    value = 0
    for wire, v in fields.get(number, ()):
        if wire == VARINT:
            assert isinstance(v, int)
            value = v
    if signed and value >= 1 << 63:
        value -= 1 << 64
    return value


def _message(fields: Fields, number: int) -> memoryview | None:
    """An embedded message field: its payload (several occurrences merged), None if absent."""
    parts = [v for wire, v in fields.get(number, ()) if wire == LEN]
    if not parts:
        return None
    if len(parts) == 1:
        assert isinstance(parts[0], memoryview)
        return parts[0]
    return memoryview(b"".join(parts))  # type: ignore[arg-type]


def _bytes(fields: Fields, number: int) -> memoryview:
    value = memoryview(b"")
    for wire, v in fields.get(number, ()):
        if wire == LEN:
            assert isinstance(v, memoryview)
            value = v
    return value


def _string(fields: Fields, number: int) -> str:
    try:
        return str(_bytes(fields, number), "utf-8")
    except UnicodeDecodeError:
        raise WireError(f"field {number}: a string that is not valid UTF-8") from None


def _repeated_ints(fields: Fields, number: int, *, signed: bool) -> tuple[int, ...]:
    values: list[int] = []
    for wire, v in fields.get(number, ()):
        if wire == VARINT:
            assert isinstance(v, int)
            values.append(v)
        elif wire == LEN:
            assert isinstance(v, memoryview)
            pos = 0
            while pos < len(v):
                item, pos = _varint(v, pos)
                values.append(item)
    if signed:
        values = [x - (1 << 64) if x >= 1 << 63 else x for x in values]
    return tuple(values)


def _tensor(payload: memoryview | None) -> WireTensor | None:
    if payload is None:
        return None
    fields = _fields(payload)
    dtype = _last_int(fields, 1) & 0xFFFFFFFF  # an enum is an int32
    return WireTensor(
        dtype=dtype - (1 << 32) if dtype >= 1 << 31 else dtype,
        shape=_repeated_ints(fields, 2, signed=True),
        data=_bytes(fields, 3),
    )


def _trajectories(payload: memoryview | None) -> WireTrajectories | None:
    if payload is None:
        return None
    fields = _fields(payload)
    observations = _message(fields, 1)
    obs = _fields(observations) if observations is not None else {}
    extras: dict[str, WireTensor] = {}
    for wire, entry in fields.get(7, ()):
        if wire != LEN:
            continue
        assert isinstance(entry, memoryview)
        parts = _fields(entry)
        extras[_string(parts, 1)] = _tensor(_message(parts, 2)) or WireTensor()
    return WireTrajectories(
        armies=_tensor(_message(obs, 1)),
        planes=_tensor(_message(obs, 2)),
        scalars=_tensor(_message(obs, 3)),
        action_mask=_tensor(_message(obs, 4)),
        has_observations=observations is not None,
        actions=_tensor(_message(fields, 2)),
        behaviour_log_probs=_tensor(_message(fields, 3)),
        rewards=_tensor(_message(fields, 4)),
        dones=_tensor(_message(fields, 5)),
        truncated=_tensor(_message(fields, 6)),
        extras=extras,
    )


def decode_record(buf: Buffer) -> WireRecord:
    """A ``RecordExperienceRequest`` from its wire bytes; ``WireError`` if malformed."""
    fields = _fields(buf)
    return WireRecord(
        table=_string(fields, 1),
        policy_version=_last_int(fields, 2, signed=True),
        trajectories=_trajectories(_message(fields, 3)),
        priorities=_tensor(_message(fields, 4)),
        writer_id=_string(fields, 5),
        sequence=_last_int(fields, 6),
    )


def decode_batch(buf: Buffer) -> WireBatch:
    """An ``ExperienceBatch`` from its wire bytes; ``WireError`` if malformed."""
    fields = _fields(buf)
    return WireBatch(
        keys=_repeated_ints(fields, 1, signed=False),
        trajectories=_trajectories(_message(fields, 2)),
        policy_versions=_tensor(_message(fields, 3)),
        probabilities=_tensor(_message(fields, 4)),
        importance_weights=_tensor(_message(fields, 5)),
        times_sampled=_tensor(_message(fields, 6)),
        table_size=_last_int(fields, 7),
    )


# encoding


def _encode_varint(value: int) -> bytes:
    value &= _MASK64
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Message:
    """Pieces of one message's encoding, and their total length."""

    __slots__ = ("length", "pieces")

    def __init__(self) -> None:
        self.pieces: list[Buffer] = []
        self.length = 0

    def raw(self, piece: Buffer) -> None:
        self.pieces.append(piece)
        self.length += len(piece) if not isinstance(piece, memoryview) else piece.nbytes

    def varint(self, number: int, value: int) -> None:
        if value:
            self.raw(_encode_varint(number << 3 | VARINT) + _encode_varint(value))

    def bytes_field(self, number: int, parts: Sequence[Buffer], length: int) -> None:
        self.raw(_encode_varint(number << 3 | LEN) + _encode_varint(length))
        for part in parts:
            self.raw(part)

    def packed(self, number: int, values: Iterable[int]) -> None:
        body = b"".join(_encode_varint(v) for v in values)
        if body:
            self.bytes_field(number, (body,), len(body))

    def message(self, number: int, inner: _Message) -> None:
        self.bytes_field(number, inner.pieces, inner.length)


@dataclass(frozen=True)
class TensorParts:
    """A tensor to encode: dtype, shape, and its data as buffers to concatenate."""

    dtype: int
    shape: tuple[int, ...]
    parts: Sequence[Buffer]


def _nbytes(part: Buffer) -> int:
    return part.nbytes if isinstance(part, memoryview) else len(part)


def _tensor_message(t: TensorParts) -> _Message:
    m = _Message()
    m.varint(1, t.dtype)
    m.packed(2, t.shape)
    length = sum(_nbytes(p) for p in t.parts)
    if length:
        m.bytes_field(3, t.parts, length)
    return m


OBSERVATION_FIELDS = ("armies", "planes", "scalars", "action_mask")
STEP_FIELDS = ("actions", "behaviour_log_probs", "rewards", "dones", "truncated")


def _trajectories_message(tensors: Mapping[str, TensorParts]) -> _Message:
    """Trajectories from tensors named ``observations.<field>``, ``<step field>`` and
    ``extras.<name>`` (absent names are left unset)."""
    obs = _Message()
    for number, name in enumerate(OBSERVATION_FIELDS, 1):
        if f"observations.{name}" in tensors:
            obs.message(number, _tensor_message(tensors[f"observations.{name}"]))
    m = _Message()
    m.message(1, obs)
    for number, name in enumerate(STEP_FIELDS, 2):
        if name in tensors:
            m.message(number, _tensor_message(tensors[name]))
    for name, tensor in tensors.items():
        if name.startswith("extras."):
            entry = _Message()
            key = name.removeprefix("extras.").encode("utf-8")
            entry.bytes_field(1, (key,), len(key))
            entry.message(2, _tensor_message(tensor))
            m.message(7, entry)
    return m


def encode_record(
    table: str,
    policy_version: int,
    tensors: Mapping[str, TensorParts],
    priorities: TensorParts | None = None,
    *,
    writer_id: str = "",
    sequence: int = 0,
) -> bytes:
    """The wire bytes of a ``RecordExperienceRequest`` (tensor names as ``_trajectories_message``)."""
    m = _Message()
    name = table.encode("utf-8")
    if name:
        m.bytes_field(1, (name,), len(name))
    m.varint(2, policy_version)
    m.message(3, _trajectories_message(tensors))
    if priorities is not None:
        m.message(4, _tensor_message(priorities))
    writer = writer_id.encode("utf-8")
    if writer:
        m.bytes_field(5, (writer,), len(writer))
    m.varint(6, sequence)
    return b"".join(m.pieces)


def encode_batch(
    keys: Sequence[int],
    tensors: Mapping[str, TensorParts],
    *,
    policy_versions: TensorParts,
    probabilities: TensorParts,
    importance_weights: TensorParts,
    times_sampled: TensorParts,
    table_size: int,
) -> bytes:
    """The wire bytes of an ``ExperienceBatch``."""
    m = _Message()
    m.packed(1, keys)
    m.message(2, _trajectories_message(tensors))
    m.message(3, _tensor_message(policy_versions))
    m.message(4, _tensor_message(probabilities))
    m.message(5, _tensor_message(importance_weights))
    m.message(6, _tensor_message(times_sampled))
    m.varint(7, table_size)
    return b"".join(m.pieces)
