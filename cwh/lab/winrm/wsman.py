"""The WinRS (cmd shell) operations: one decrypted SOAP request in, one response or fault out."""

from __future__ import annotations

import base64
import binascii
import math
import threading
from dataclasses import dataclass

from . import soap
from .model import CMD_LINE_LIMIT, CREATE_PROCESS_LIMIT, CommandHandler, LabProcess
from .shells import ShellTable, Stopped
from .soap import NS_SHELL, SoapError, SoapRequest, child, q

DEFAULT_OPERATION_TIMEOUT_S = 60.0  # WinRM MaxTimeoutms default
DEFAULT_MAX_ENVELOPE = 512000  # WinRM MaxEnvelopeSizekb default (500)
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


class WsmanService:
    def __init__(
        self,
        machine: str,
        handler: CommandHandler,
        *,
        receive_chunk_bytes: int | None,
        slow_receive: bool,
        stopping: threading.Event,
    ) -> None:
        self._machine = machine
        self._handler = handler
        self._chunk_cap = receive_chunk_bytes
        self._slow_receive = slow_receive
        self._stopping = stopping
        self.shells = ShellTable()
        self.address = ""  # set once the endpoint knows its URL

    def stop(self) -> None:
        self.shells.stop()

    def handle(self, data: bytes, principal: str) -> Reply:
        """Raises Stopped when the endpoint stops while the request waits."""
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

    def _op_create(self, request: SoapRequest, principal: str) -> Reply:
        if request.resource_uri != soap.CMD_RESOURCE_URI:
            raise SoapError(
                soap.FAULT_INVALID_RESOURCE_URI,
                "w:DestinationUnreachable",
                f"The lab serves only the cmd shell, not {request.resource_uri}.",
            )
        shell = self.shells.create(principal)
        body_shell = child(request.body, NS_SHELL, "Shell")
        return Reply(
            200,
            soap.response(request, soap.create_body(shell.id, self.address, principal, body_shell)),
            "Create",
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
        skip = request.options.get("WINRS_SKIP_CMD_SHELL", "FALSE").strip().upper() == "TRUE"
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
        command = self.shells.add_command(request.shell_id, process)
        return Reply(
            200,
            soap.response(request, soap.command_body(command.id)),
            "Command",
            command_length=len(command_line),
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
        if self._slow_receive:
            self.shells.require_shell(request.shell_id)
            # A hung command: every poll runs out its OperationTimeout, forever.
            if self._stopping.wait(timeout):
                raise Stopped
            raise soap.timed_out()
        max_bytes = self._receive_budget(request, command_id or "")
        chunk = self.shells.receive(request.shell_id, command_id, timeout, max_bytes)
        body = soap.receive_body(
            command_id or "",
            base64.b64encode(chunk.stdout).decode("ascii"),
            base64.b64encode(chunk.stderr).decode("ascii"),
            chunk.exit_code,
        )
        return Reply(200, soap.response(request, body), "Receive", stdout_bytes=len(chunk.stdout))

    def _receive_budget(self, request: SoapRequest, command_id: str) -> int:
        """Output bytes that fit in one Receive response under the client's MaxEnvelopeSize."""
        max_env = request.max_envelope_size or DEFAULT_MAX_ENVELOPE
        skeleton = soap.response(request, soap.receive_body(command_id, "A", "A", 0))
        # Each of two streams rounds up to a 4-char base64 quantum; the skeleton has one char each.
        room = max_env - len(skeleton) - _ENVELOPE_SLACK
        budget = max(_MIN_CHUNK, math.floor(room / 4) * 3)
        if self._chunk_cap is not None:
            budget = min(budget, self._chunk_cap)
        return budget
