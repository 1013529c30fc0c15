"""Parse `netsh http show sslcert`: the certificates http.sys serves, one block per binding.

The output is console text meant for people. English Windows starts it with a blank line,
`SSL Certificate bindings:`, a dashed line and a blank line; each binding is a block of padded
`Label   : value` lines, blocks separated by blank lines; a host without bindings prints the header
only. Newer builds add lines ("Disable HTTP2", "Disable Legacy TLS Versions", ...): ignored. Current
builds also print http.sys's extended properties inside each block, each group opened by a bare
`Extended Properties:` line followed by `PropertyId : 0` and its settings: accepted, and never
read as the binding's own fields.

netsh localises both the header and the labels ("SSL-Zertifikatbindungen:", "Zertifikathash"), and
its errors ("The parameter is incorrect.") are plain text too. Anything without the English header
raises NetshParseError instead of being read as "no bindings": an empty answer would pass a check
that a certificate is *not* bound, and guessing at foreign labels risks a false pass either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_OUTPUT_CHARS = 8 * 1024 * 1024
"""Largest output accepted (characters); a host with hundreds of bindings prints ~1 MB."""

HEADER = "SSL Certificate bindings:"

Kind = Literal["ip", "hostname", "ccs"]

_ENDPOINT_LABELS: dict[str, Kind] = {
    "ip:port": "ip",
    "hostname:port": "hostname",
    "central certificate store": "ccs",
}
# A label, at least one space, a colon, then the value: "IP:port      : 0.0.0.0:443". The label may
# hold a colon itself ("IP:port"), so the separator is the first colon preceded by whitespace.
_LINE = re.compile(r"^(?P<label>\S(?:.*?\S)?)\s+:(?:\s+(?P<value>.*?))?\s*$")
_EXTENDED = "extended properties:"
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
_NULL = "(null)"


class NetshParseError(ValueError):
    """The text is not English `netsh http show sslcert` output."""


@dataclass(frozen=True)
class SslBinding:
    """One http.sys certificate binding, as netsh printed it.

    `endpoint` is the value as printed ("0.0.0.0:443", "[::]:8040", "sc.example.com:443"; for a
    Central Certificate Store binding just the port). `cert_hash` is the thumbprint in lowercase
    hex; it, `app_id` and `store` are None when netsh prints "(null)" or leaves the line out.
    """

    endpoint: str
    kind: Kind
    port: int
    cert_hash: str | None
    app_id: str | None
    store: str | None

    @property
    def wildcard(self) -> bool:
        """True for the all-addresses IP bindings 0.0.0.0:port and [::]:port."""
        return self.kind == "ip" and self.endpoint.rsplit(":", 1)[0] in ("0.0.0.0", "[::]")


def parse_sslcert(text: str) -> list[SslBinding]:
    """Every binding in the output, in order; [] for the header alone; NetshParseError else."""
    if not isinstance(text, str):
        raise NetshParseError(f"netsh output: expected text, got {type(text).__name__}")
    if len(text) > MAX_OUTPUT_CHARS:
        raise NetshParseError(f"netsh output is {len(text)} characters, over the "
                              f"{MAX_OUTPUT_CHARS} cap; refused")
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    start = _header_end(lines)
    blocks: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(lines[start:], start=start + 1):
        if line:
            blocks[-1].append((number, line))
        elif blocks[-1]:
            blocks.append([])
    return [_binding(block) for block in blocks if block]


def _header_end(lines: list[str]) -> int:
    """Index of the first line after the header and its dashes; NetshParseError if not there."""
    for index, line in enumerate(lines):
        if not line:
            continue
        if line != HEADER:
            raise NetshParseError(
                "the netsh http show sslcert output is not recognised (localized Windows or a "
                f"netsh error?): it starts with {line[:80]!r}, not {HEADER!r}")
        index += 1
        if index < len(lines) and lines[index] and set(lines[index]) == {"-"}:
            index += 1
        return index
    raise NetshParseError("the netsh http show sslcert output is empty: expected at least the "
                          f"{HEADER!r} header")


def _binding(block: list[tuple[int, str]]) -> SslBinding:
    fields: dict[str, str] = {}
    labels: list[str] = []
    extended = False  # inside an Extended Properties group: its lines are not binding fields
    for number, line in block:
        if line.lower() == _EXTENDED and labels:
            extended = True
            continue
        match = _LINE.match(line)
        if match is None:
            raise NetshParseError(f"netsh output line {number} is not 'Label : value': "
                                  f"{line[:80]!r}")
        if extended:
            continue
        labels.append(match.group("label").lower())
        fields.setdefault(labels[-1], match.group("value") or "")
    first_number, first_line = block[0]
    label = labels[0]
    kind = _ENDPOINT_LABELS.get(label)
    if kind is None:
        raise NetshParseError(f"netsh output line {first_number} starts a binding with "
                              f"{first_line[:80]!r}, not IP:port, Hostname:port or Central "
                              "Certificate Store")
    endpoint = fields[label]
    port = _port(endpoint.rpartition(":")[2], first_number)
    if kind != "ccs" and not endpoint.rpartition(":")[0]:
        raise NetshParseError(f"netsh output line {first_number}: {endpoint[:80]!r} has no host")
    cert_hash = _optional(fields.get("certificate hash"))
    if cert_hash is not None:
        if not _HEX.match(cert_hash) or len(cert_hash) % 2:
            raise NetshParseError(f"netsh output: the certificate hash {cert_hash[:80]!r} for "
                                  f"{endpoint} is not hex")
        cert_hash = cert_hash.lower()
    return SslBinding(endpoint=endpoint, kind=kind, port=port, cert_hash=cert_hash,
                      app_id=_optional(fields.get("application id")),
                      store=_optional(fields.get("certificate store name")))


def _port(text: str, number: int) -> int:
    if not text.isdigit() or not text.isascii() or not 1 <= int(text) <= 65535:
        raise NetshParseError(f"netsh output line {number}: port {text[:20]!r} is not 1-65535")
    return int(text)


def _optional(value: str | None) -> str | None:
    if value is None or value == "" or value == _NULL:
        return None
    return value


def binding_for_port(bindings: list[SslBinding], port: int) -> SslBinding | None:
    """The binding that serves `port`, or None.

    Preference: a specific IP, then the 0.0.0.0 / [::] wildcard, then a hostname (SNI) binding,
    then a Central Certificate Store one; within each, the order netsh printed. A listener on a
    wildcard host can be reached through any of them; the judge sees the one a client most
    likely meets when it connects by address.
    """
    def rank(binding: SslBinding) -> int:
        if binding.kind == "ip":
            return 1 if binding.wildcard else 0
        return 2 if binding.kind == "hostname" else 3

    matching = [binding for binding in bindings if binding.port == port]
    return min(matching, key=rank) if matching else None
