"""The WinRS (cmd shell) operations: one decrypted SOAP request in, one response or fault out."""

from __future__ import annotations

import base64
import binascii
import codecs
import math
import threading
from dataclasses import dataclass
from typing import Any

from . import soap
from .model import (
    CMD_LINE_LIMIT,
    CREATE_PROCESS_LIMIT,
    DEFAULT_MAX_ENVELOPE_KB,
    CommandHandler,
    LabProcess,
)
from .shells import ShellTable, Stopped
from .soap import NS_SHELL, SoapError, SoapRequest, child, q

DEFAULT_OPERATION_TIMEOUT_S = 60.0  # WinRM MaxTimeoutms default
DEFAULT_MAX_ENVELOPE = DEFAULT_MAX_ENVELOPE_KB * 1024
# Room left for rounding and attribute noise when sizing Receive output against MaxEnvelopeSize.
_ENVELOPE_SLACK = 64
_MIN_CHUNK = 1024


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    action: str | None  # short action name for the log
    fault_code: int | None = None
    command_length: int | None = None
    stdout_bytes: int | None = None
    error: str | None = None  # why a request was refused, for the log
    winrs: dict[str, Any] | None = None  # the WinRS options in force, for the log


class WsmanService:
    def __init__(
        self,
        machine: str,
        handler: CommandHandler,
        *,
        receive_chunk_bytes: int | None,
        slow_receive: bool,
        stopping: threading.Event,
        max_envelope_bytes: int = DEFAULT_MAX_ENVELOPE,
        console_stdin: bool = False,
    ) -> None:
        self._machine = machine
        self._handler = handler
        self._chunk_cap = receive_chunk_bytes
        self._slow_receive = slow_receive
        self._max_envelope = max_envelope_bytes
        self._force_console_stdin = console_stdin
        self._stopping = stopping
        self.shells = ShellTable()
        self.address = ""  # set once the endpoint knows its URL

    def stop(self) -> None:
        self.shells.stop()

    def handle(self, data: bytes, principal: str) -> Reply:
        """Raises Stopped when the endpoint stops while the request waits."""
        if len(data) > self._max_envelope:
            return self._too_large(data)
        request: SoapRequest | None = None
        try:
            request = soap.parse_request(data)
            action = request.short_action
            handler = getattr(self, f"_op_{action.lower()}", None)
            if request.action not in soap.ACTIONS or handler is None:
                raise SoapError(
                    soap.FAULT_ACTION_NOT_SUPPORTED,
                    "a:ActionNotSupported",
                    f"The action {request.action} is not supported by the service.",
                )
            return handler(request, principal)
        except SoapError as err:
            relates = request.message_id if request else None
            return Reply(
                500,
                soap.fault(err, relates, self._machine),
                request.short_action if request else None,
                fault_code=err.code,
            )

    def _too_large(self, data: bytes) -> Reply:
        """Windows answers HTTP 413 with no SOAP fault and does not process the request."""
        try:
            action: str | None = soap.parse_request(data).short_action
        except SoapError:
            action = None
        return Reply(
            413,
            b"",
            action,
            error=f"{len(data)}-byte envelope over MaxEnvelopeSizekb "
            f"({self._max_envelope} bytes): {soap.REQUEST_TOO_LARGE_TEXT}",
        )

    def _op_create(self, request: SoapRequest, principal: str) -> Reply:
        if request.resource_uri != soap.CMD_RESOURCE_URI:
            raise SoapError(
                soap.FAULT_INVALID_RESOURCE_URI,
                "w:DestinationUnreachable",
                f"The lab serves only the cmd shell, not {request.resource_uri}.",
            )
        body_shell = child(request.body, NS_SHELL, "Shell")
        outputs = tuple((soap.text_of(child(body_shell, NS_SHELL, "OutputStreams"))
                         or "stdout stderr").split())
        codepage = _codepage(request.options.get("WINRS_CODEPAGE"))
        noprofile = _flag(request.options, "WINRS_NOPROFILE")
        shell = self.shells.create(
            principal, output_streams=outputs, codepage=codepage, noprofile=noprofile
        )
        return Reply(
            200,
            soap.response(request, soap.create_body(shell.id, self.address, principal, body_shell)),
            "Create",
            winrs={"codepage": codepage, "noprofile": noprofile},
        )

    def _op_delete(self, request: SoapRequest, principal: str) -> Reply:
        self.shells.delete(request.shell_id)
        return Reply(200, soap.response(request, ""), "Delete")

    def _op_command(self, request: SoapRequest, principal: str) -> Reply:
        self.shells.require_shell(request.shell_id)
        line = child(request.body, NS_SHELL, "CommandLine")
        if line is None:
            raise soap.invalid_parameter("rsp:CommandLine is required")
        command_el = line.find(q(NS_SHELL, "Command"))
        command_line = command_el.text or "" if command_el is not None else ""
        for argument in line.findall(q(NS_SHELL, "Arguments")):
            command_line += " " + (argument.text or "")
        skip = _flag(request.options, "WINRS_SKIP_CMD_SHELL")
        # Absent (pypsrp sends none), stdin is a pipe; TRUE gives the process a console instead.
        console = _flag(request.options, "WINRS_CONSOLEMODE_STDIN") or self._force_console_stdin
        limit = CREATE_PROCESS_LIMIT if skip else CMD_LINE_LIMIT
        process: LabProcess | None = None
        if len(command_line) <= limit:
            try:
                process = self._handler.start(command_line, skip_cmd_shell=skip)
            except Exception as exc:  # a broken lab handler must surface as a fault
                raise SoapError(
                    soap.FAULT_PROVIDER_FAILURE,
                    "w:InternalError",
                    f"lab handler failed: {type(exc).__name__}: {exc}",
                    receiver=True,
                ) from exc
        # Over the limit the process is never started and the command "succeeds" with no output,
        # which is what cmd.exe / CreateProcess failures look like through WinRS.
        command = self.shells.add_command(request.shell_id, process, console_stdin=console)
        return Reply(
            200,
            soap.response(request, soap.command_body(command.id)),
            "Command",
            command_length=len(command_line),
            winrs={"skip_cmd_shell": skip, "console_mode_stdin": console},
        )

    def _op_send(self, request: SoapRequest, principal: str) -> Reply:
        send = child(request.body, NS_SHELL, "Send")
        streams = [] if send is None else send.findall(q(NS_SHELL, "Stream"))
        if not streams:
            raise soap.invalid_parameter("rsp:Send needs an rsp:Stream")
        for stream in streams:
            if stream.get("Name", "stdin") != "stdin":
                raise soap.invalid_parameter(f"cannot send to stream {stream.get('Name')}")
            try:
                data = base64.b64decode((stream.text or "").strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise soap.invalid_parameter("stdin stream is not base64") from exc
            end = stream.get("End", "false").strip().lower() == "true"
            self.shells.send(request.shell_id, stream.get("CommandId"), data, end)
        return Reply(200, soap.response(request, soap.send_body()), "Send")

    def _op_signal(self, request: SoapRequest, principal: str) -> Reply:
        signal = child(request.body, NS_SHELL, "Signal")
        command_id = None if signal is None else signal.get("CommandId")
        self.shells.signal(request.shell_id, command_id)
        return Reply(200, soap.response(request, soap.signal_body()), "Signal")

    def _op_receive(self, request: SoapRequest, principal: str) -> Reply:
        receive = child(request.body, NS_SHELL, "Receive")
        desired = None if receive is None else receive.find(q(NS_SHELL, "DesiredStream"))
        command_id = None if desired is None else desired.get("CommandId")
        timeout = request.operation_timeout_s or DEFAULT_OPERATION_TIMEOUT_S
        shell = self.shells.require_shell(request.shell_id)
        streams = _desired_streams(soap.text_of(desired), shell.output_streams)
        if self._slow_receive:
            # A hung command: every poll runs out its OperationTimeout, forever.
            if self._stopping.wait(timeout):
                raise Stopped
            raise soap.timed_out()
        max_bytes = self._receive_budget(request, command_id or "", streams)
        chunk = self.shells.receive(request.shell_id, command_id, timeout, max_bytes, streams)
        body = soap.receive_body(
            command_id or "",
            base64.b64encode(chunk.stdout).decode("ascii"),
            base64.b64encode(chunk.stderr).decode("ascii"),
            chunk.exit_code,
            streams,
        )
        return Reply(
            200,
            soap.response(request, body),
            "Receive",
            stdout_bytes=len(chunk.stdout),
            winrs={"streams": " ".join(streams)},
        )

    def _receive_budget(
        self, request: SoapRequest, command_id: str, streams: tuple[str, ...]
    ) -> int:
        """Output bytes that fit in one Receive response under the client's MaxEnvelopeSize,
        which Windows lowers to its own MaxEnvelopeSizekb when the client asks for more."""
        max_env = min(request.max_envelope_size or self._max_envelope, self._max_envelope)
        skeleton = soap.response(request, soap.receive_body(command_id, "A", "A", 0, streams))
        # Each of two streams rounds up to a 4-char base64 quantum; the skeleton has one char each.
        room = max_env - len(skeleton) - _ENVELOPE_SLACK
        budget = max(_MIN_CHUNK, math.floor(room / 4) * 3)
        if self._chunk_cap is not None:
            budget = min(budget, self._chunk_cap)
        return budget


def _flag(options: dict[str, str], name: str) -> bool:
    """A WinRS boolean option: TRUE or FALSE in any case (pypsrp writes True/False)."""
    value = options.get(name)
    if value is None:
        return False
    if value.strip().upper() not in ("TRUE", "FALSE"):
        raise soap.invalid_parameter(f"The option {name} must be TRUE or FALSE, not {value!r}.")
    return value.strip().upper() == "TRUE"


def _codepage(value: str | None) -> int:
    """WINRS_CODEPAGE: absent, the OEM code page of an en-US console; else a code page the
    console can be set to (as `chcp` would accept it)."""
    if value is None:
        return 437
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= 65535:
        raise soap.code_page_not_supported(value)
    try:
        codecs.lookup(f"cp{int(text)}")
    except LookupError:
        raise soap.code_page_not_supported(value) from None
    return int(text)


def _desired_streams(text: str | None, offered: tuple[str, ...]) -> tuple[str, ...]:
    """The streams a Receive asks for, in the shell's order; none named means all of them."""
    names = (text or "").split()
    unknown = [name for name in names if name not in offered]
    if unknown:
        raise soap.invalid_parameter(
            f"The stream {unknown[0]} is not an output stream of this shell "
            f"({' '.join(offered)})."
        )
    return tuple(name for name in offered if name in names) if names else offered
