"""WS-Management SOAP envelopes: parsing requests and rendering responses and faults.

Requests are matched by namespace URI, never by prefix (pywinrm says `env:`, Windows says `s:`).
Responses are rendered as text so the Receive path can measure an envelope before filling it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDR = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
NS_MSWSMAN = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"

CMD_RESOURCE_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

ACTIONS = {
    f"{NS_TRANSFER}/Create": "Create",
    f"{NS_TRANSFER}/Delete": "Delete",
    f"{NS_SHELL}/Command": "Command",
    f"{NS_SHELL}/Send": "Send",
    f"{NS_SHELL}/Receive": "Receive",
    f"{NS_SHELL}/Signal": "Signal",
}

STATE_RUNNING = f"{NS_SHELL}/CommandState/Running"
STATE_DONE = f"{NS_SHELL}/CommandState/Done"

# WSManFault codes (winerror.h ERROR_WSMAN_*).
FAULT_TIMED_OUT = 2150858793
FAULT_SHELL_NOT_FOUND = 2150858843
FAULT_ACTION_NOT_SUPPORTED = 2150858771
FAULT_INVALID_PARAMETER = 2150858810
FAULT_INVALID_XML = 2150858819
FAULT_INVALID_RESOURCE_URI = 2150858811
FAULT_PROVIDER_FAILURE = 2150858755
FAULT_CODE_PAGE_NOT_SUPPORTED = 2150859072  # ERROR_WINRS_CODE_PAGE_NOT_SUPPORTED
# A request over MaxEnvelopeSizekb gets HTTP 413 with no SOAP fault (pywinrm raises
# WinRMTransportError 413, as Ansible users report); Windows' own client turns that status into
# ERROR_WSMAN_HTTP_REQUEST_TOO_LARGE_STATUS, 0x80338111, with this text.
REQUEST_TOO_LARGE_CODE = 2150859025
REQUEST_TOO_LARGE_TEXT = (
    "The WinRM client sent a request to the remote WS-Management service and was notified that "
    "the request size exceeded the configured MaxEnvelopeSize quota."
)


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


class SoapError(Exception):
    """A request the server answers with a WS-Management fault."""

    def __init__(self, code: int, subcode: str, reason: str, *, receiver: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.receiver = receiver


def timed_out() -> SoapError:
    return SoapError(
        FAULT_TIMED_OUT,
        "w:TimedOut",
        "The WS-Management service cannot complete the operation within the time specified in "
        "OperationTimeout.",
        receiver=True,
    )


def shell_not_found(shell_id: str | None) -> SoapError:
    return SoapError(
        FAULT_SHELL_NOT_FOUND,
        "w:InvalidSelectors",
        f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the "
        "shell was not found on the server. Possible causes are: the specified ShellId is "
        "incorrect or the shell no longer exists on the server. Provide the correct ShellId or "
        "create a new shell and retry the operation.",
    )


def invalid_parameter(reason: str) -> SoapError:
    return SoapError(FAULT_INVALID_PARAMETER, "w:InvalidParameter", reason)


def code_page_not_supported(value: str) -> SoapError:
    return SoapError(
        FAULT_CODE_PAGE_NOT_SUPPORTED,
        "w:InvalidParameter",
        f"The WinRS client cannot process the request. The server cannot set Code Page "
        f"({value}). You may want to use the CHCP command to change the client Code Page to 437 "
        "and receive the results in English.",
    )


_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float:
    """ISO 8601 duration (xs:duration, as in w:OperationTimeout `PT20S`) in seconds."""
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"not an xs:duration: {text!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


@dataclass(frozen=True)
class SoapRequest:
    action: str
    message_id: str | None
    resource_uri: str | None
    shell_id: str | None
    options: dict[str, str] = field(default_factory=dict)
    operation_timeout_s: float | None = None
    max_envelope_size: int | None = None
    body: Element | None = None

    @property
    def short_action(self) -> str:
        return ACTIONS.get(self.action) or self.action.rstrip("/").rsplit("/", 1)[-1]


def _text(element: Element | None) -> str | None:
    return None if element is None else (element.text or "").strip()


def text_of(element: Element | None) -> str | None:
    """An element's stripped text, None when the element is absent."""
    return _text(element)


def parse_request(data: bytes) -> SoapRequest:
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # defusedxml raises several unrelated types for hostile or broken XML
        raise SoapError(
            FAULT_INVALID_XML, "w:SchemaValidationError", f"malformed XML: {exc}"
        ) from exc
    if root.tag != q(NS_SOAP, "Envelope"):
        raise SoapError(FAULT_INVALID_XML, "w:SchemaValidationError", "not a SOAP 1.2 envelope")
    header = root.find(q(NS_SOAP, "Header"))
    if header is None:
        raise SoapError(FAULT_INVALID_XML, "w:SchemaValidationError", "missing SOAP header")
    action = _text(header.find(q(NS_ADDR, "Action")))
    if not action:
        raise SoapError(
            2150858769, "a:MessageInformationHeaderRequired", "the a:Action header is required"
        )
    shell_id = None
    options: dict[str, str] = {}
    for selector in header.iter(q(NS_WSMAN, "Selector")):
        if selector.get("Name") == "ShellId":
            shell_id = (selector.text or "").strip()
    for option in header.iter(q(NS_WSMAN, "Option")):
        name = option.get("Name")
        if name:
            options[name] = (option.text or "").strip()
    timeout = None
    timeout_text = _text(header.find(q(NS_WSMAN, "OperationTimeout")))
    if timeout_text:
        try:
            timeout = parse_duration(timeout_text)
        except ValueError as exc:
            raise SoapError(2150858881, "w:InvalidTimeout", str(exc)) from exc
    max_env = None
    max_env_text = _text(header.find(q(NS_WSMAN, "MaxEnvelopeSize")))
    if max_env_text:
        try:
            max_env = int(max_env_text)
        except ValueError as exc:
            raise SoapError(2150858823, "w:EncodingLimit", "bad MaxEnvelopeSize") from exc
    return SoapRequest(
        action=action,
        message_id=_text(header.find(q(NS_ADDR, "MessageID"))),
        resource_uri=_text(header.find(q(NS_WSMAN, "ResourceURI"))),
        shell_id=shell_id,
        options=options,
        operation_timeout_s=timeout,
        max_envelope_size=max_env,
        body=root.find(q(NS_SOAP, "Body")),
    )


_ENVELOPE_OPEN = (
    f'<s:Envelope xml:lang="en-US" xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDR}" xmlns:x="{NS_TRANSFER}" '
    f'xmlns:w="{NS_WSMAN}" xmlns:rsp="{NS_SHELL}" xmlns:p="{NS_MSWSMAN}">'
)


def envelope(action: str, relates_to: str | None, body: str) -> bytes:
    relates = f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>" if relates_to else ""
    return (
        f"{_ENVELOPE_OPEN}<s:Header>"
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>{relates}"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def response(request: SoapRequest, body: str) -> bytes:
    return envelope(request.action + "Response", request.message_id, body)


def fault(error: SoapError, relates_to: str | None, machine: str) -> bytes:
    code = "s:Receiver" if error.receiver else "s:Sender"
    body = (
        f"<s:Fault><s:Code><s:Value>{code}</s:Value>"
        f"<s:Subcode><s:Value>{escape(error.subcode)}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(error.reason)}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="{NS_FAULT}" Code={quoteattr(str(error.code))} '
        f"Machine={quoteattr(machine)}><f:Message>{escape(error.reason)}</f:Message>"
        f"</f:WSManFault></s:Detail></s:Fault>"
    )
    return envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


def create_body(shell_id: str, address: str, owner: str, request_shell: Element | None) -> str:
    streams_in = _text(child(request_shell, NS_SHELL, "InputStreams")) or "stdin"
    streams_out = _text(child(request_shell, NS_SHELL, "OutputStreams")) or "stdout stderr"
    sid = escape(shell_id)
    # pywinrm takes the first element with Name="ShellId"; pypsrp reads rsp:Shell/rsp:ShellId.
    return (
        f"<x:ResourceCreated><a:Address>{escape(address)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{CMD_RESOURCE_URI}</w:ResourceURI>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{sid}</w:Selector></w:SelectorSet>'
        f"</a:ReferenceParameters></x:ResourceCreated>"
        f"<rsp:Shell><rsp:ShellId>{sid}</rsp:ShellId>"
        f"<rsp:ResourceUri>{CMD_RESOURCE_URI}</rsp:ResourceUri>"
        f"<rsp:Owner>{escape(owner)}</rsp:Owner><rsp:ClientIP>127.0.0.1</rsp:ClientIP>"
        f"<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
        f"<rsp:InputStreams>{escape(streams_in)}</rsp:InputStreams>"
        f"<rsp:OutputStreams>{escape(streams_out)}</rsp:OutputStreams>"
        f"<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S"
        f"</rsp:ShellInactivity></rsp:Shell>"
    )


def command_body(command_id: str) -> str:
    cid = escape(command_id)
    return f"<rsp:CommandResponse><rsp:CommandId>{cid}</rsp:CommandId></rsp:CommandResponse>"


def send_body() -> str:
    return "<rsp:SendResponse/>"


def signal_body() -> str:
    return "<rsp:SignalResponse/>"


def receive_body(
    command_id: str,
    stdout: str,
    stderr: str,
    exit_code: int | None,
    streams: tuple[str, ...] = ("stdout", "stderr"),
) -> str:
    """`stdout`/`stderr` are base64 text. `exit_code` None means the command is still running;
    otherwise this is the final response and the `streams` the client asked for (its
    DesiredStream) are closed with End="true"."""
    cid = quoteattr(command_id)
    parts = ["<rsp:ReceiveResponse>"]
    if stdout:
        parts.append(f'<rsp:Stream Name="stdout" CommandId={cid}>{stdout}</rsp:Stream>')
    if stderr:
        parts.append(f'<rsp:Stream Name="stderr" CommandId={cid}>{stderr}</rsp:Stream>')
    if exit_code is None:
        parts.append(f'<rsp:CommandState CommandId={cid} State="{STATE_RUNNING}"/>')
    else:
        for name in streams:
            parts.append(f"<rsp:Stream Name={quoteattr(name)} CommandId={cid} End=\"true\">"
                         "</rsp:Stream>")
        parts.append(
            f'<rsp:CommandState CommandId={cid} State="{STATE_DONE}">'
            f"<rsp:ExitCode>{int(exit_code)}</rsp:ExitCode></rsp:CommandState>"
        )
    parts.append("</rsp:ReceiveResponse>")
    return "".join(parts)


def child(parent: Element | None, ns: str, tag: str) -> Element | None:
    return None if parent is None else parent.find(q(ns, tag))
