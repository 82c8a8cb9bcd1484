"""Policy weights as safetensors files: encode a network or state dict, decode and load one back.

The file holds the network's ``state_dict`` exactly (names, shapes, dtypes); the architecture id and
its config travel beside it in ``PolicyMetadata``, so ``load_network`` rebuilds the network with
``generals_rl.training.networks.build`` and loads the tensors strictly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import Tensor

from generals_rl.training.networks import ARCHITECTURES, PolicyNetwork, build

TensorSpec = tuple[tuple[int, ...], torch.dtype]


def encode(weights: PolicyNetwork | Mapping[str, Tensor]) -> bytes:
    """The safetensors bytes of a network's ``state_dict`` (or of a state dict), on the CPU."""
    state = weights.state_dict() if isinstance(weights, torch.nn.Module) else weights
    tensors = {name: tensor.detach().to("cpu").contiguous() for name, tensor in state.items()}
    return save_safetensors(tensors)


def decode(data: bytes) -> dict[str, Tensor]:
    """The tensors of a safetensors file; ``ValueError`` when it is not one."""
    try:
        return load_safetensors(data)
    except Exception as error:  # safetensors raises its own SafetensorError, and others on odd input
        raise ValueError(f"not a safetensors file: {error}") from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def known_architectures() -> Mapping[str, object]:
    """The architecture ids this process can build (``training.networks.ARCHITECTURES``)."""
    return ARCHITECTURES


def expected_tensors(architecture: str, config: str | Mapping[str, Any]) -> dict[str, TensorSpec]:
    """Name -> (shape, dtype) of the state dict the architecture builds from ``config``, without
    allocating its weights (built on the meta device); ``ValueError`` for a config it rejects."""
    if architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        raise ValueError(f"unknown architecture {architecture!r}: choose one of {known}")
    try:
        with torch.device("meta"):
            network = build(architecture, config if isinstance(config, str) else dict(config))
    except Exception as error:  # a config value of the wrong type fails deep inside torch
        message = str(error).removeprefix(f"bad config for {architecture}: ")
        raise ValueError(f"bad config for {architecture}: {message}") from None
    return {name: (tuple(t.shape), t.dtype) for name, t in network.state_dict().items()}


def load_network(architecture: str, config: str | Mapping[str, Any], data: bytes) -> PolicyNetwork:
    """The network of ``architecture`` with the weights of a safetensors file, in eval mode on the CPU.
    ``ValueError`` when the file does not hold exactly the tensors the architecture expects."""
    tensors = decode(data)
    expected = expected_tensors(architecture, config)
    problems = mismatches(tensors, expected)
    if problems:
        raise ValueError(f"the weights do not fit {architecture}: {'; '.join(problems[:3])}")
    with torch.device("meta"):
        network = build(architecture, config if isinstance(config, str) else dict(config))
    network.load_state_dict(tensors, strict=True, assign=True)
    return network.eval()


def mismatches(tensors: Mapping[str, Tensor], expected: Mapping[str, TensorSpec]) -> list[str]:
    """What differs between the tensors of a file and the ones an architecture expects, in words."""
    problems = [f"missing {name}" for name in expected if name not in tensors]
    problems += [f"unexpected {name}" for name in tensors if name not in expected]
    for name, (shape, dtype) in expected.items():
        tensor = tensors.get(name)
        if tensor is None:
            continue
        if tuple(tensor.shape) != shape:
            problems.append(f"{name} has shape {tuple(tensor.shape)}, expected {shape}")
        elif tensor.dtype != dtype:
            problems.append(f"{name} is {_dtype(tensor.dtype)}, expected {_dtype(dtype)}")
    return problems


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
