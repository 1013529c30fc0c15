"""Parse IIS's applicationHost.config for `system.webServer/security/requestFiltering`.

CWH-WEB-01 (`removeServerHeader="true"`) and CWH-WEB-03 (`OPTIONS` denied) read the *server-level*
section: the one directly under `<configuration>` or under a `<location>` whose path is empty or
`.`, which IIS treats as the same level. A `<location path="Default Web Site">` is a site-level
override; it is reported beside the server-level result, never merged into it, so the evidence
shows where a setting really lives.

Absent attributes stay None: IIS's defaults (`removeServerHeader` false, `allowUnlisted` true) are
the judge's business, and a missing section is reported as missing rather than as a setting.
Whatever IIS itself would refuse to load (a duplicate section, a duplicate verb, a bad boolean)
raises IisConfigError, because the running server's state is then unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from cwh.parse.webconfig import load_config_xml

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

_NAME = "applicationHost.config"
_SECTION = "system.webServer/security/requestFiltering"
_SERVER_PATHS = ("", ".")


class IisConfigError(ValueError):
    """The text is not a usable applicationHost.config."""


@dataclass(frozen=True)
class Verb:
    """One `<verbs><add verb=... allowed=...>` entry; `allowed` absent means true (IIS default)."""

    name: str
    allowed: bool


@dataclass(frozen=True)
class SiteRequestFiltering:
    """requestFiltering under `<location path="...">`: what that level changes, as written.

    `verbs` are the entries this level adds; `verbs_cleared` says a `<clear/>` drops what it
    inherits from the server level, `verbs_removed` names inherited entries it `<remove>`s.
    """

    path: str
    remove_server_header: bool | None
    allow_unlisted_verbs: bool | None
    verbs: tuple[Verb, ...]
    verbs_cleared: bool
    verbs_removed: tuple[str, ...]


@dataclass(frozen=True)
class RequestFiltering:
    """The server-level requestFiltering section and the site-level overrides beside it.

    `found` is False when no server-level section exists; every setting is then None or empty.
    `source` says where the section was read (an XPath-like string), for the evidence.
    """

    found: bool
    source: str | None
    remove_server_header: bool | None
    allow_unlisted_verbs: bool | None
    verbs: tuple[Verb, ...]
    site_overrides: tuple[SiteRequestFiltering, ...]

    def as_evidence(self) -> dict[str, Any]:
        """Everything above as JSON-ready data (lists, not tuples), for a verdict's evidence."""
        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(item) for item in value]
            return value
        return plain(asdict(self))

    def verb(self, name: str) -> Verb | None:
        """The server-level entry for a verb (matched case-insensitively), None when unlisted."""
        for verb in self.verbs:
            if verb.name.lower() == name.lower():
                return verb
        return None


@dataclass(frozen=True)
class _Section:
    remove_server_header: bool | None
    allow_unlisted_verbs: bool | None
    verbs: tuple[Verb, ...]
    verbs_cleared: bool
    verbs_removed: tuple[str, ...]


def parse_request_filtering(text: str) -> RequestFiltering:
    """Read requestFiltering from applicationHost.config text; raises IisConfigError."""
    root = load_config_xml(text, name=_NAME, error=IisConfigError)
    if root.find("system.applicationHost") is None:
        raise IisConfigError(f"the text has no <system.applicationHost>: not an {_NAME}")
    server: list[tuple[str, Element]] = []
    sites: dict[str, tuple[str, Element]] = {}
    for element in root.findall(_SECTION):
        server.append((f"configuration/{_SECTION}", element))
    for location in root.findall("location"):
        path = location.get("path")
        for element in location.findall(_SECTION):
            if path is None or path.strip() in _SERVER_PATHS:
                shown = "location" if path is None else f"location[@path={path!r}]"
                server.append((f"configuration/{shown}/{_SECTION}", element))
                continue
            key = path.strip().strip("/").lower()
            if key in sites:
                raise IisConfigError(f"{_NAME} defines requestFiltering twice for "
                                     f"<location path={path!r}>; IIS refuses a duplicate section")
            sites[key] = (path, element)
    if len(server) > 1:
        where = ", ".join(source for source, _ in server)
        raise IisConfigError(f"{_NAME} defines the server-level requestFiltering section "
                             f"{len(server)} times ({where}); IIS refuses a duplicate section")
    overrides = tuple(_site(path, element) for path, element in sites.values())
    if not server:
        return RequestFiltering(found=False, source=None, remove_server_header=None,
                                allow_unlisted_verbs=None, verbs=(), site_overrides=overrides)
    source, element = server[0]
    section = _read_section(element, source)
    return RequestFiltering(found=True, source=source,
                            remove_server_header=section.remove_server_header,
                            allow_unlisted_verbs=section.allow_unlisted_verbs,
                            verbs=section.verbs, site_overrides=overrides)


def _site(path: str, element: Element) -> SiteRequestFiltering:
    section = _read_section(element, f"location[@path={path!r}]")
    return SiteRequestFiltering(path=path, remove_server_header=section.remove_server_header,
                                allow_unlisted_verbs=section.allow_unlisted_verbs,
                                verbs=section.verbs, verbs_cleared=section.verbs_cleared,
                                verbs_removed=section.verbs_removed)


def _read_section(element: Element, where: str) -> _Section:
    if element.get("configSource") is not None:
        raise IisConfigError(f"{_NAME}: requestFiltering at {where} is kept in another file "
                             f"(configSource={element.get('configSource')!r}), which was not "
                             "read; refused")
    remove_header = _bool(element, "removeServerHeader", where)
    verbs_elements = element.findall("verbs")
    if len(verbs_elements) > 1:
        raise IisConfigError(f"{_NAME}: requestFiltering at {where} has more than one <verbs>")
    if not verbs_elements:
        return _Section(remove_header, None, (), False, ())
    verbs_element = verbs_elements[0]
    allow_unlisted = _bool(verbs_element, "allowUnlisted", f"{where}/verbs")
    entries: dict[str, Verb] = {}  # lowercased verb -> entry, in the order IIS applies them
    removed: dict[str, str] = {}  # inherited entries removed (lowercased -> as written)
    cleared = False
    for child in verbs_element:
        if child.tag == "clear":
            entries.clear()
            removed.clear()
            cleared = True
            continue
        if child.tag not in ("add", "remove"):
            raise IisConfigError(f"{_NAME}: <verbs> at {where} holds an unknown element "
                                 f"<{str(child.tag)[:60]}>")
        name = child.get("verb")
        if not name:
            raise IisConfigError(f"{_NAME}: a <verbs><{child.tag}> at {where} has no verb")
        key = name.lower()
        if child.tag == "remove":
            if entries.pop(key, None) is None and not cleared:
                removed[key] = name
            continue
        if key in entries:
            raise IisConfigError(f"{_NAME}: verb {name!r} is added twice at {where}; IIS "
                                 "refuses a duplicate collection entry")
        allowed = _bool(child, "allowed", f"{where}/verbs/add[@verb={name!r}]")
        entries[key] = Verb(name=name, allowed=True if allowed is None else allowed)
    return _Section(remove_header, allow_unlisted, tuple(entries.values()), cleared,
                    tuple(removed.values()))


def _bool(element: Element, attribute: str, where: str) -> bool | None:
    """An IIS boolean attribute: "true"/"false" in any case; None when absent."""
    raw = element.get(attribute)
    if raw is None:
        return None
    if raw.lower() == "true":
        return True
    if raw.lower() == "false":
        return False
    raise IisConfigError(f"{_NAME}: {attribute}={raw[:60]!r} at {where} is not true or false")
