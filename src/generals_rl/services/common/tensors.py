"""``torch.Tensor`` / ``numpy.ndarray`` <-> ``generals_rl.v1.Tensor``: raw little-endian bytes
with a dtype and a shape, never lists of numbers.

    msg = encode(obs.armies)                                   # torch or numpy in, message out
    actions = to_torch(msg, name="actions", dtypes=INT_DTYPES, shape=(batch, None))
    rewards = to_numpy(msg, name="rewards", dtypes=(DTYPE_FLOAT32,))

Decoding checks the message first and raises ``InvalidArgument`` naming the field when the dtype
is unknown, a dimension is negative, there are more than ``MAX_DIMS`` dimensions, the byte length
does not match the shape, a bool byte is neither 0 nor 1, or the dtype or shape differs from the
one expected. numpy has no bfloat16: ``to_numpy`` widens it exactly to float32 (``encode`` takes
ml_dtypes' bfloat16 arrays, whose dtype is named ``bfloat16``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from generals_rl.services.common.errors import InvalidArgument
from generals_rl.v1 import common_pb2

MAX_DIMS = 8
"""Most dimensions a tensor may have (common.proto)."""


@dataclass(frozen=True)
class DTypeInfo:
    """One wire dtype: its enum value, name, element size and torch / numpy counterparts."""

    code: common_pb2.DType
    name: str
    itemsize: int
    torch: torch.dtype
    numpy: np.dtype | None  # little-endian; None where numpy has no such type (bfloat16)


_TABLE = (
    (common_pb2.DTYPE_BOOL, "bool", torch.bool, np.dtype("?")),
    (common_pb2.DTYPE_UINT8, "uint8", torch.uint8, np.dtype("u1")),
    (common_pb2.DTYPE_INT8, "int8", torch.int8, np.dtype("i1")),
    (common_pb2.DTYPE_INT16, "int16", torch.int16, np.dtype("<i2")),
    (common_pb2.DTYPE_INT32, "int32", torch.int32, np.dtype("<i4")),
    (common_pb2.DTYPE_INT64, "int64", torch.int64, np.dtype("<i8")),
    (common_pb2.DTYPE_FLOAT16, "float16", torch.float16, np.dtype("<f2")),
    (common_pb2.DTYPE_BFLOAT16, "bfloat16", torch.bfloat16, None),
    (common_pb2.DTYPE_FLOAT32, "float32", torch.float32, np.dtype("<f4")),
    (common_pb2.DTYPE_FLOAT64, "float64", torch.float64, np.dtype("<f8")),
)
DTYPES: dict[int, DTypeInfo] = {
    code: DTypeInfo(code, name, torch.empty((), dtype=t).element_size(), t, n) for code, name, t, n in _TABLE
}
"""Every wire dtype by its ``generals_rl.v1.DType`` value."""

_BY_TORCH = {info.torch: info for info in DTYPES.values()}
_BY_NUMPY_NAME = {info.name: info for info in DTYPES.values()}

INT_DTYPES = (common_pb2.DTYPE_INT32, common_pb2.DTYPE_INT64)
"""The dtypes accepted for actions and indices."""

FLOAT_DTYPES = (common_pb2.DTYPE_FLOAT32, common_pb2.DTYPE_FLOAT64)
"""The dtypes accepted for priorities and other reals."""


def dtype_name(code: int) -> str:
    """``int32`` for DTYPE_INT32, ...; the raw number for values this version does not know."""
    info = DTYPES.get(code)
    return info.name if info is not None else f"dtype {code}"


def from_torch(tensor: torch.Tensor) -> common_pb2.Tensor:
    """The message of a torch tensor of any supported dtype, on any device (copied to the CPU)."""
    info = _BY_TORCH.get(tensor.dtype)
    if info is None:
        raise ValueError(f"tensors of {tensor.dtype} cannot be sent; supported: {_supported()}")
    flat = tensor.detach().to("cpu").contiguous().reshape(-1)
    if info.numpy is None:  # bfloat16: numpy cannot hold it, its int16 view can
        flat = flat.view(torch.int16)
    data = flat.numpy().tobytes()
    return common_pb2.Tensor(dtype=info.code, shape=list(tensor.shape), data=data)


def from_numpy(array: np.ndarray) -> common_pb2.Tensor:
    """The message of a numpy array (any byte order; bfloat16 from ml_dtypes included)."""
    info = _BY_NUMPY_NAME.get(array.dtype.name)
    if info is None:
        raise ValueError(f"arrays of {array.dtype} cannot be sent; supported: {_supported()}")
    if info.numpy is None:
        data = np.ascontiguousarray(array).view(np.uint16).astype("<u2", copy=False).tobytes()
    else:
        data = np.ascontiguousarray(array, dtype=info.numpy).tobytes()
    return common_pb2.Tensor(dtype=info.code, shape=list(array.shape), data=data)


def encode(value: torch.Tensor | np.ndarray) -> common_pb2.Tensor:
    """The message of a torch tensor or a numpy array."""
    if isinstance(value, torch.Tensor):
        return from_torch(value)
    if isinstance(value, np.ndarray):
        return from_numpy(value)
    raise TypeError(f"expected a torch.Tensor or numpy.ndarray, got {type(value).__name__}")


def check(
    message: common_pb2.Tensor,
    *,
    name: str = "tensor",
    dtypes: Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
) -> tuple[DTypeInfo, tuple[int, ...]]:
    """Validate a message (module docstring); returns its dtype and shape.

    ``dtypes`` lists the accepted dtypes (any when None); ``shape`` the expected shape, ``None``
    matching any size of that dimension (any shape when None). Raises ``InvalidArgument``.
    """
    info = DTYPES.get(message.dtype)
    if info is None:
        raise InvalidArgument(f"{name}: unknown or missing dtype ({dtype_name(message.dtype)})")
    if dtypes is not None and message.dtype not in dtypes:
        wanted = " or ".join(dtype_name(d) for d in dtypes)
        raise InvalidArgument(f"{name}: dtype must be {wanted}, got {info.name}")
    dims = tuple(int(d) for d in message.shape)
    if len(dims) > MAX_DIMS:
        raise InvalidArgument(f"{name}: {len(dims)} dimensions, at most {MAX_DIMS} allowed")
    if any(d < 0 for d in dims):
        raise InvalidArgument(f"{name}: negative dimension in shape {dims}")
    if shape is not None and (
        len(shape) != len(dims) or any(w is not None and w != d for w, d in zip(shape, dims, strict=True))
    ):
        pattern = tuple("*" if w is None else w for w in shape)
        raise InvalidArgument(f"{name}: shape must be {pattern}, got {dims}".replace("'*'", "*"))
    needed = int(np.prod(dims, dtype=object)) * info.itemsize
    if len(message.data) != needed:
        raise InvalidArgument(
            f"{name}: {len(message.data)} bytes of data, but shape {dims} of {info.name} needs {needed}"
        )
    if info.code == common_pb2.DTYPE_BOOL and needed and np.frombuffer(message.data, np.uint8).max() > 1:
        raise InvalidArgument(f"{name}: bool data must be bytes 0 or 1")
    return info, dims


def to_torch(
    message: common_pb2.Tensor,
    *,
    name: str = "tensor",
    dtypes: Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Check (as ``check``) and decode a message into a new, writable torch tensor."""
    info, dims = check(message, name=name, dtypes=dtypes, shape=shape)
    if not message.data:
        out = torch.empty(dims, dtype=info.torch)
    else:
        out = torch.frombuffer(bytearray(message.data), dtype=info.torch).reshape(dims)
    return out if device is None else out.to(device)


def to_numpy(
    message: common_pb2.Tensor,
    *,
    name: str = "tensor",
    dtypes: Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    copy: bool = True,
) -> np.ndarray:
    """Check (as ``check``) and decode a message into a numpy array in native byte order;
    ``copy=False`` returns a read-only view of the message's bytes where possible (no copy).
    bfloat16 comes back widened to float32 (exact)."""
    info, dims = check(message, name=name, dtypes=dtypes, shape=shape)
    if info.numpy is None:
        bits = np.frombuffer(message.data, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(dims)
    array = np.frombuffer(message.data, dtype=info.numpy).reshape(dims)
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array.copy() if copy else array


def _supported() -> str:
    return ", ".join(info.name for info in DTYPES.values())
