"""Parse IIS configuration files for `system.webServer/security/requestFiltering`.

CWH-WEB-01 (`removeServerHeader="true"`) and CWH-WEB-03 (`OPTIONS` denied) read the *server-level*
section: the one directly under `<configuration>` or under a `<location>` whose path is empty or
`.`, which IIS treats as the same level. A `<location path="Default Web Site">` is a site-level
override; it is reported beside the server-level result, never merged into it, so the evidence
shows where a setting really lives.

Absent attributes stay None: IIS's defaults (`removeServerHeader` false, `allowUnlisted` true) are
the judge's business, and a missing section is reported as missing rather than as a setting.
Whatever IIS itself would refuse to load (a duplicate section, a duplicate verb, a bad boolean)
raises IisConfigError, because the running server's state is then unknown.

A site's or application's web.config holds the same section at its own level (and under its own
`<location>` tags): `parse_web_config_filtering` reads those levels, named by the virtual path
the file serves. `parse_redirection` reads redirection.config, which says whether another
applicationHost.config (shared configuration) is the one in force.
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
    """requestFiltering below the server level: what that level changes, as written.

    `path` is the configuration path it applies to ("Default Web Site", "Site/app"); `source`
    the file it was read from (applicationHost.config's `<location>` tags, or a web.config).
    `verbs` are the entries this level adds; `verbs_cleared` says a `<clear/>` drops what it
    inherits, `verbs_removed` names inherited entries it `<remove>`s.
    """

    path: str
    remove_server_header: bool | None
    allow_unlisted_verbs: bool | None
    verbs: tuple[Verb, ...]
    verbs_cleared: bool
    verbs_removed: tuple[str, ...]
    source: str = _NAME


@dataclass(frozen=True)
class Redirection:
    """redirection.config: shared configuration on (`enabled`) and where it points."""

    enabled: bool
    path: str | None


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
    overrides = tuple(_site(path, element, _NAME) for path, element in sites.values())
    if not server:
        return RequestFiltering(found=False, source=None, remove_server_header=None,
                                allow_unlisted_verbs=None, verbs=(), site_overrides=overrides)
    source, element = server[0]
    section = _read_section(element, source, _NAME)
    return RequestFiltering(found=True, source=source,
                            remove_server_header=section.remove_server_header,
                            allow_unlisted_verbs=section.allow_unlisted_verbs,
                            verbs=section.verbs, site_overrides=overrides)


def _site(path: str, element: Element, name: str, where: str | None = None) -> \
        SiteRequestFiltering:
    section = _read_section(element, where or f"location[@path={path!r}]", name)
    return SiteRequestFiltering(path=path, remove_server_header=section.remove_server_header,
                                allow_unlisted_verbs=section.allow_unlisted_verbs,
                                verbs=section.verbs, verbs_cleared=section.verbs_cleared,
                                verbs_removed=section.verbs_removed, source=name)


def parse_web_config_filtering(text: str, virtual_path: str,
                               name: str = "web.config") -> tuple[SiteRequestFiltering, ...]:
    """The requestFiltering levels of a web.config that serves `virtual_path` ("Site/app"):
    its root section and each `<location path>` under it; IisConfigError for what IIS would
    refuse. `name` (the file's path) names the file in errors and in each level's source."""
    root = load_config_xml(text, name=name, error=IisConfigError)
    base = virtual_path.strip().strip("/")
    found: dict[str, SiteRequestFiltering] = {}
    candidates = [(base, element, f"configuration/{_SECTION}")
                  for element in root.findall(_SECTION)]
    for location in root.findall("location"):
        sub = (location.get("path") or "").strip().strip("/")
        path = base if sub in ("", ".") else f"{base}/{sub}"
        candidates += [(path, element, f"location[@path={location.get('path')!r}]")
                       for element in location.findall(_SECTION)]
    for path, element, where in candidates:
        if path.lower() in found:
            raise IisConfigError(f"{name} defines requestFiltering twice for {path!r}; IIS "
                                 "refuses a duplicate section")
        found[path.lower()] = _site(path, element, name, where)
    return tuple(found.values())


def parse_redirection(text: str) -> Redirection:
    """redirection.config's `<configurationRedirection enabled path>` (absent: not enabled).
    Its userName and password are never read into the result."""
    name = "redirection.config"
    root = load_config_xml(text, name=name, error=IisConfigError)
    elements = root.findall("configurationRedirection")
    if len(elements) > 1:
        raise IisConfigError(f"{name} has more than one <configurationRedirection>")
    if not elements:
        return Redirection(False, None)
    enabled = _bool(elements[0], "enabled", "configurationRedirection", name)
    return Redirection(enabled is True, elements[0].get("path"))


def _read_section(element: Element, where: str, name: str) -> _Section:
    if element.get("configSource") is not None:
        raise IisConfigError(f"{name}: requestFiltering at {where} is kept in another file "
                             f"(configSource={element.get('configSource')!r}), which was not "
                             "read; refused")
    remove_header = _bool(element, "removeServerHeader", where, name)
    verbs_elements = element.findall("verbs")
    if len(verbs_elements) > 1:
        raise IisConfigError(f"{name}: requestFiltering at {where} has more than one <verbs>")
    if not verbs_elements:
        return _Section(remove_header, None, (), False, ())
    verbs_element = verbs_elements[0]
    allow_unlisted = _bool(verbs_element, "allowUnlisted", f"{where}/verbs", name)
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
            raise IisConfigError(f"{name}: <verbs> at {where} holds an unknown element "
                                 f"<{str(child.tag)[:60]}>")
        verb = child.get("verb")
        if not verb:
            raise IisConfigError(f"{name}: a <verbs><{child.tag}> at {where} has no verb")
        key = verb.lower()
        if child.tag == "remove":
            if entries.pop(key, None) is None and not cleared:
                removed[key] = verb
            continue
        if key in entries:
            raise IisConfigError(f"{name}: verb {verb!r} is added twice at {where}; IIS "
                                 "refuses a duplicate collection entry")
        allowed = _bool(child, "allowed", f"{where}/verbs/add[@verb={verb!r}]", name)
        entries[key] = Verb(name=verb, allowed=True if allowed is None else allowed)
    return _Section(remove_header, allow_unlisted, tuple(entries.values()), cleared,
                    tuple(removed.values()))


def _bool(element: Element, attribute: str, where: str, name: str = _NAME) -> bool | None:
    """An IIS boolean attribute: "true"/"false" in any case; None when absent."""
    raw = element.get(attribute)
    if raw is None:
        return None
    if raw.lower() == "true":
        return True
    if raw.lower() == "false":
        return False
    raise IisConfigError(f"{name}: {attribute}={raw[:60]!r} at {where} is not true or false")
