"""The lab endpoint's public types: configuration, credentials, the command-handler contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# What cmd.exe accepts on one command line (characters, excluding the terminating NUL).
CMD_LINE_LIMIT = 8191
# What CreateProcess accepts when WINRS_SKIP_CMD_SHELL bypasses cmd.exe.
CREATE_PROCESS_LIMIT = 32767

# Windows' MaxEnvelopeSizekb: the default on current Windows, and the smallest value it accepts.
DEFAULT_MAX_ENVELOPE_KB = 500
MIN_MAX_ENVELOPE_KB = 32

# console_stdin: every command gets a console for stdin, as Windows gives one to a client that
# sends WINRS_CONSOLEMODE_STDIN=TRUE (pywinrm's default): Send succeeds, the process reads nothing.
FAULTS = frozenset({"refuse", "hang", "http500", "slow_receive", "drop_after_auth",
                    "console_stdin"})
AUTH_METHODS = frozenset({"ntlm", "basic"})


@dataclass(frozen=True)
class Credential:
    user: str
    password: str
    domain: str = ""  # NTLM domain ("" = domain-less)

    def __post_init__(self) -> None:
        # The NTLM acceptor reads credentials from a colon-separated flat file, one per line.
        for label, value in (("user", self.user), ("domain", self.domain)):
            if any(c in value for c in ":\r\n\\"):
                raise ValueError(f"credential {label} must not contain ':', '\\\\' or newlines")
        if not self.user:
            raise ValueError("credential user must not be empty")


@dataclass(frozen=True)
class CommandResult:
    stdout: bytes
    stderr: bytes = b""
    exit_code: int = 0
    runtime_s: float = 0.0  # time before the output becomes available (hung or slow commands)


class LabProcess(Protocol):
    # True: output only after the client closes stdin (Send End="true"),
    # like powershell reading $input
    reads_stdin: bool

    def run(self, stdin: bytes) -> CommandResult: ...


class CommandHandler(Protocol):
    def start(self, command_line: str, *, skip_cmd_shell: bool) -> LabProcess: ...


@dataclass(frozen=True)
class EndpointConfig:
    name: str  # inventory host name, used in the request log
    address: str  # any 127.x.y.z works on Linux without root
    port: int  # 0 = pick a free port
    scheme: str = "http"
    auth: frozenset[str] = frozenset({"ntlm"})
    credentials: tuple[Credential, ...] = ()
    cert_file: str | None = None
    key_file: str | None = None
    latency_ms: int = 0  # added before every HTTP response, including 401s
    receive_chunk_bytes: int | None = None  # cap on output bytes per Receive response
    fault: str | None = None  # one of FAULTS
    # WSMan:\localhost\MaxEnvelopeSizekb: larger requests get HTTP 413, and no response is
    # ever larger than this, whatever MaxEnvelopeSize the client asks for.
    max_envelope_kb: int = DEFAULT_MAX_ENVELOPE_KB

    def __post_init__(self) -> None:
        # Accept any iterable for the collection fields so callers can pass sets and lists.
        object.__setattr__(self, "auth", frozenset(self.auth))
        object.__setattr__(self, "credentials", tuple(self.credentials))
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {sorted(FAULTS)}")
        if self.scheme not in ("http", "https"):
            raise ValueError(f"scheme must be 'http' or 'https', not {self.scheme!r}")
        if not self.auth <= AUTH_METHODS:
            raise ValueError(f"unknown auth methods {sorted(self.auth - AUTH_METHODS)}")
        if self.scheme == "https" and not (self.cert_file and self.key_file):
            raise ValueError("https endpoints need cert_file and key_file")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port out of range: {self.port}")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if not isinstance(self.max_envelope_kb, int) or \
                not MIN_MAX_ENVELOPE_KB <= self.max_envelope_kb <= 0xFFFFFFFF:
            raise ValueError(f"max_envelope_kb must be an integer from {MIN_MAX_ENVELOPE_KB} "
                             f"(Windows' minimum), not {self.max_envelope_kb!r}")
        if self.receive_chunk_bytes is not None and self.receive_chunk_bytes < 1:
            raise ValueError("receive_chunk_bytes must be positive")
        for cred in self.credentials:
            if not isinstance(cred, Credential):
                raise TypeError(
                    f"credentials must be Credential objects, not {type(cred).__name__}"
                )
