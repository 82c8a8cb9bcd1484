"""What every service shares: the server builder (health, reflection, metrics, logs, graceful
shutdown), domain errors mapped to status codes, the tensor codec, and client channels."""

from generals_rl.services.common.channels import channel
from generals_rl.services.common.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
    from_rpc_error,
)
from generals_rl.services.common.logging import configure_logging
from generals_rl.services.common.server import Server, ServerConfig, Service, bind

__all__ = [
    "AlreadyExists",
    "DeadlineExceeded",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "Server",
    "ServerConfig",
    "Service",
    "ServiceError",
    "Unauthenticated",
    "Unavailable",
    "bind",
    "channel",
    "configure_logging",
    "from_rpc_error",
]
