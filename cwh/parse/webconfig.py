"""Parse ScreenConnect's web.config: root `appSettings` and the listener URIs it holds.

The collector hands over the file's text as the host has it, so the XML is treated as hostile: it is
parsed with defusedxml only, a DTD (the carrier of entity bombs and external references) is refused,
and the size is capped. `load_config_xml` is shared with the applicationHost.config parser, which is
the same .NET/IIS configuration format.

`appSettings` follows .NET's `KeyValueConfigurationCollection`: keys compare case-insensitively, a
later `add` for the same key replaces the earlier one, `remove` and `clear` act in document order.
A missing root `appSettings` is an error, never "no settings": several checks pass when a key is
*absent*, so an empty answer for a file we could not read would be a false pass.

Listener URIs are http.sys URL prefixes (`http://+:8040/`); `relay://` is ScreenConnect's own relay
listener in the same form.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import defusedxml.ElementTree as DefusedET
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

if TYPE_CHECKING:  # the type only; input is never handed to xml.etree directly
    from xml.etree.ElementTree import Element

MAX_CONFIG_CHARS = 8 * 1024 * 1024
"""Largest config text accepted (characters): a stock applicationHost.config is ~70 KB."""

DEFAULT_PORTS = {"http": 80, "https": 443}
"""Ports implied by a scheme; `relay://` has none, so its port must be written."""

_URI = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<host>\[[^\]/]*\]|[^:/\[\]]*)"
    r"(?::(?P<port>[^/]*))?"
    r"(?P<path>/.*)?$",
    re.DOTALL,
)
_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                       r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$")
_PORT = re.compile(r"^[1-9][0-9]{0,4}$")
_PATH_CHARS = re.compile(r"^/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$")


class WebConfigError(ValueError):
    """The text is not a usable web.config."""


class ListenUriError(WebConfigError):
    """A listener value is not an http.sys-style URL prefix this parser can vouch for."""


@dataclass(frozen=True)
class ListenUri:
    """One listener URI, taken apart; `raw` is the value exactly as the file has it.

    `wildcard`: the host is `+`, `*`, `0.0.0.0` or `[::]` (every interface).
    `loopback`: the host is an IP literal in 127.0.0.0/8 or `::1`. A *name* such as `localhost`
    is never counted: http.sys matches a named prefix against the request's Host header, whatever
    interface the connection arrived on, so `http://localhost:8040/` still answers remote clients
    that send `Host: localhost`. `host_kind` tells the two apart for the evidence.
    """

    raw: str
    scheme: str
    host: str
    port: int
    path: str
    host_kind: str  # "strong-wildcard" (+), "weak-wildcard" (*), "ip", "name"
    wildcard: bool
    loopback: bool


def load_config_xml(text: str, *, name: str,
                    error: type[ValueError] = WebConfigError) -> Element:
    """Parse a .NET/IIS config file's text safely and return its `<configuration>` root.

    Every refusal is raised as `error` with a message naming `name` (the file), so a caller's
    ParseError reaches the report as one readable line instead of a defusedxml traceback.
    """
    if not isinstance(text, str):
        raise error(f"{name}: expected text, got {type(text).__name__}")
    if len(text) > MAX_CONFIG_CHARS:
        raise error(f"{name} is {len(text)} characters, over the {MAX_CONFIG_CHARS} cap; refused")
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise error(f"{name} is empty")
    try:
        root = DefusedET.fromstring(text, forbid_dtd=True, forbid_entities=True,
                                    forbid_external=True)
    except DTDForbidden as exc:
        raise error(_why_dtd(text, name, exc)) from None
    # With forbid_dtd, a DOCTYPE is refused before any entity in it; these two stay as a guard.
    except EntitiesForbidden as exc:
        raise error(_entity_message(name, exc)) from None
    except ExternalReferenceForbidden as exc:
        raise error(f"{name} refers to an external resource ({exc.sysid!r}); refused") \
            from None
    except DefusedET.ParseError as exc:
        raise error(f"{name} is not well-formed XML: {exc}") from None
    except UnicodeError as exc:
        raise error(f"{name} holds characters XML cannot carry: {exc.reason}") from None
    if root.tag != "configuration":
        raise error(f"{name}: the root element is <{_short(root.tag)}>, not <configuration>")
    return root


def _why_dtd(text: str, name: str, dtd: DTDForbidden) -> str:
    """Say what the refused DTD carried: parse again with the DTD allowed but entities and
    external references still forbidden, so the second pass stops at the first declaration."""
    try:
        DefusedET.fromstring(text, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as exc:
        return _entity_message(name, exc)
    except ExternalReferenceForbidden as exc:
        return f"{name} refers to an external resource ({exc.sysid!r}); refused"
    except (DefusedET.ParseError, UnicodeError, ValueError):
        pass
    where = f" referring to {dtd.sysid!r}" if dtd.sysid else ""
    return f"{name} declares a DTD (<!DOCTYPE {_short(dtd.name or '')}>){where}; " \
           "a config file never has one; refused"


def _entity_message(name: str, exc: EntitiesForbidden) -> str:
    if exc.sysid or exc.pubid:
        return (f"{name} declares an external entity {_short(exc.name or '')!r} "
                f"({exc.sysid or exc.pubid!r}); refused")
    return f"{name} declares entities (possible XML bomb); refused"


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def parse_app_settings(text: str) -> dict[str, str]:
    """The effective root `configuration/appSettings`, key -> value.

    A missing section raises WebConfigError rather than returning {}: "no settings" would let
    every "absent is fine" check pass. Per-page `<location path="Host.aspx">` settings are not
    included.
    """
    root = load_config_xml(text, name="web.config")
    sections = root.findall("appSettings")
    if len(sections) > 1:
        raise WebConfigError("web.config has more than one root <appSettings> section; "
                             ".NET refuses such a file")
    for location in root.findall("location"):
        if location.get("path", "").strip() in ("", ".") and location.find("appSettings") \
                is not None:
            raise WebConfigError(
                "web.config has <appSettings> inside a <location> without a page path: those "
                "settings apply to the whole application and are not merged here; refused")
    if not sections:
        raise WebConfigError("web.config has no root <appSettings> section")
    section = sections[0]
    for attribute in ("configSource", "file"):
        if section.get(attribute) is not None:
            raise WebConfigError(
                f"web.config <appSettings {attribute}={section.get(attribute)!r}> keeps "
                "settings in another file, which was not read; refused")
    settings: dict[str, tuple[str, str]] = {}  # lowercased key -> (key as written, value)
    for number, child in enumerate(section, start=1):
        if child.tag == "clear":
            settings.clear()
        elif child.tag in ("add", "remove"):
            key = child.get("key")
            if key is None:
                raise WebConfigError(
                    f"web.config <appSettings>: <{child.tag}> number {number} has no key")
            if child.tag == "remove":
                settings.pop(key.lower(), None)
            else:
                settings.pop(key.lower(), None)  # keep the later spelling and place
                settings[key.lower()] = (key, child.get("value", ""))
        else:
            raise WebConfigError(
                f"web.config <appSettings> holds an unknown element <{_short(str(child.tag))}>")
    return dict(settings.values())


def app_setting(settings: dict[str, str], key: str) -> str | None:
    """Look a key up the way .NET does (case-insensitively); None when absent."""
    for name, value in settings.items():
        if name.lower() == key.lower():
            return value
    return None


def parse_listen_uri(value: str) -> ListenUri:
    """Take a listener URI (`http://+:8040/`, `https://[::]:443/sc/`, `relay://+:8041/`) apart.

    Surrounding whitespace is dropped as System.Uri does; anything else that is not a clean
    prefix (unknown scheme, user info, query, control or non-ASCII characters, a port that is
    not 1-65535) raises ListenUriError, since a guess could turn a finding into a pass.
    """
    if not isinstance(value, str):
        raise ListenUriError(f"listener URI: expected text, got {type(value).__name__}")
    shown = _short(repr(value), 80)
    cleaned = value.strip(" \t\r\n")
    if not cleaned:
        raise ListenUriError("listener URI is empty")
    if not cleaned.isascii() or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in cleaned):
        raise ListenUriError(f"listener URI {shown} holds spaces, control or non-ASCII "
                             "characters")
    match = _URI.match(cleaned)
    if match is None:
        raise ListenUriError(f"listener URI {shown} is not scheme://host:port/")
    scheme = match.group("scheme").lower()
    if scheme not in ("http", "https", "relay"):
        raise ListenUriError(f"listener URI {shown}: unknown scheme {scheme!r}")
    host = match.group("host")
    host_kind, wildcard, loopback = _classify_host(host, shown)
    port_text = match.group("port")
    if port_text is None:
        if scheme not in DEFAULT_PORTS:
            raise ListenUriError(f"listener URI {shown}: {scheme}:// needs an explicit port")
        port = DEFAULT_PORTS[scheme]
    elif _PORT.match(port_text) and int(port_text) <= 65535:
        port = int(port_text)
    else:
        raise ListenUriError(f"listener URI {shown}: port {port_text!r} is not 1-65535")
    path = match.group("path") or "/"
    if not _PATH_CHARS.match(path):
        raise ListenUriError(f"listener URI {shown}: the path {path!r} is not a plain path")
    return ListenUri(raw=value, scheme=scheme, host=host, port=port, path=path,
                     host_kind=host_kind, wildcard=wildcard, loopback=loopback)


def _classify_host(host: str, shown: str) -> tuple[str, bool, bool]:
    """(host_kind, wildcard, loopback) for the host part, or ListenUriError."""
    if host == "+":
        return "strong-wildcard", True, False
    if host == "*":
        return "weak-wildcard", True, False
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ListenUriError(f"listener URI {shown}: {host!r} is not an IPv6 "
                                 "address") from None
        mapped = address.ipv4_mapped
        if mapped is not None:
            return "ip", mapped.is_unspecified, mapped.is_loopback
        return "ip", address.is_unspecified, address.is_loopback
    if not host:
        raise ListenUriError(f"listener URI {shown} has no host")
    if re.fullmatch(r"[0-9.]+", host):
        try:
            address4 = ipaddress.IPv4Address(host)
        except ValueError:
            raise ListenUriError(f"listener URI {shown}: {host!r} is not an IPv4 "
                                 "address") from None
        return "ip", address4.is_unspecified, address4.is_loopback
    if not _HOSTNAME.match(host):
        raise ListenUriError(f"listener URI {shown}: {host!r} is not a host name")
    return "name", False, False
