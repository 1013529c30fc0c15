"""MS-WSMV 2.2.9.1 message encryption framing for NTLM ("HTTP-SPNEGO-session-encrypted").

A sealed body is one MIME-like part pair:

    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/HTTP-SPNEGO-session-encrypted\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plain length>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <uint32 LE signature length><signature><sealed bytes>--Encrypted Boundary--\\r\\n

The payload is binary, so it is located by structure (prefix, declared signature length, trailing
terminator) rather than by splitting on the boundary string.
"""

from __future__ import annotations

import re
import struct
from typing import Protocol

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'
_BOUNDARY = b"--Encrypted Boundary"
_PAYLOAD_HEADER = b"\tContent-Type: application/octet-stream\r\n"
_TERMINATOR = _BOUNDARY + b"--\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")
# NTLM's signature (MS-NLMP 2.2.2.9.1) is always 16 bytes; pywinrm splits at 16 too.
_NTLM_SIGNATURE_LENGTH = 16


class FramingError(Exception):
    pass


class SealingContext(Protocol):
    """The part of a pyspnego context used here."""

    def wrap(self, data: bytes, encrypt: bool = True, qop: int | None = None) -> object: ...
    def unwrap(self, data: bytes) -> object: ...


def is_encrypted(content_type: str | None) -> bool:
    return bool(content_type) and content_type.lower().lstrip().startswith("multipart/encrypted")


def unseal(context: SealingContext, content_type: str, body: bytes) -> bytes:
    if PROTOCOL.lower() not in content_type.lower():
        raise FramingError(f"unsupported encrypted content type: {content_type}")
    if not body.startswith(_BOUNDARY + b"\r\n"):
        raise FramingError("encrypted body does not start with the boundary")
    second = body.find(_BOUNDARY + b"\r\n", len(_BOUNDARY) + 2)
    if second < 0:
        raise FramingError("encrypted body has no payload part")
    header = body[len(_BOUNDARY) + 2 : second]
    length_match = _LENGTH.search(header)
    if not length_match:
        raise FramingError("encrypted body header lacks Length=")
    expected = int(length_match.group(1))
    payload_start = second + len(_BOUNDARY) + 2
    if body[payload_start : payload_start + len(_PAYLOAD_HEADER)] != _PAYLOAD_HEADER:
        raise FramingError("payload part lacks its octet-stream header")
    payload = body[payload_start + len(_PAYLOAD_HEADER) :]
    if not payload.endswith(_TERMINATOR):
        raise FramingError("encrypted body lacks the closing boundary")
    payload = payload[: -len(_TERMINATOR)]
    if len(payload) < 4:
        raise FramingError("payload too short")
    (sig_len,) = struct.unpack("<I", payload[:4])
    if sig_len != _NTLM_SIGNATURE_LENGTH or len(payload) < 4 + sig_len:
        raise FramingError(f"unexpected signature length {sig_len}")
    # pyspnego's NTLM unwrap takes signature + sealed data as one buffer.
    plain: bytes = context.unwrap(payload[4:]).data  # type: ignore[attr-defined]
    if len(plain) != expected:
        raise FramingError(f"decrypted length {len(plain)} != declared {expected}")
    return plain


def seal(context: SealingContext, plain: bytes) -> bytes:
    wrapped: bytes = context.wrap(plain, encrypt=True).data  # type: ignore[attr-defined]
    signature, sealed = wrapped[:_NTLM_SIGNATURE_LENGTH], wrapped[_NTLM_SIGNATURE_LENGTH:]
    return (
        _BOUNDARY + b"\r\n"
        b"\tContent-Type: " + PROTOCOL.encode() + b"\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
        + str(len(plain)).encode()
        + b"\r\n"
        + _BOUNDARY
        + b"\r\n"
        + _PAYLOAD_HEADER
        + struct.pack("<I", len(signature))
        + signature
        + sealed
        + _TERMINATOR
    )
