"""A WS-Management (WinRM) endpoint on loopback that unmodified pywinrm talks to: the lab's stand-in
for a Windows host. See server.WinRMEndpoint."""

from .log import RequestLog
from .model import (
    CMD_LINE_LIMIT,
    CREATE_PROCESS_LIMIT,
    FAULTS,
    CommandHandler,
    CommandResult,
    Credential,
    EndpointConfig,
    LabProcess,
)
from .server import WinRMEndpoint

__all__ = [
    "CMD_LINE_LIMIT",
    "CREATE_PROCESS_LIMIT",
    "FAULTS",
    "CommandHandler",
    "CommandResult",
    "Credential",
    "EndpointConfig",
    "LabProcess",
    "RequestLog",
    "WinRMEndpoint",
]
