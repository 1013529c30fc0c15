"""Which IIS configuration is in force on the host, and whether all of it was read.

CWH-WEB-01 and CWH-WEB-03 are judged on what IIS applies, not on applicationHost.config alone:
a site's or application's web.config (or one in any folder below it) can re-allow OPTIONS or
turn removeServerHeader off again, and with shared configuration (redirection.config enabled)
another server's applicationHost.config is the one in force. Whatever part of that could not
be read makes the verdict Not_Reviewed, with the file and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.judge.verdict import Evidence, Status, Verdict, not_reviewed
from cwh.parse.iis import (
    IisConfigError,
    RequestFiltering,
    SiteRequestFiltering,
    parse_redirection,
    parse_request_filtering,
    parse_web_config_filtering,
)

SOURCE = "applicationHost.config, redirection.config and the sites' web.config files (collector)"


@dataclass(frozen=True)
class IisConfiguration:
    """The server-level section, every lower level (applicationHost.config `<location>` tags
    and web.config files), and the web.config files read, for the evidence."""

    server: RequestFiltering
    levels: tuple[SiteRequestFiltering, ...]
    web_configs: tuple[str, ...]


def virtual_path(entry: Mapping[str, Any]) -> str:
    """"Default Web Site" + application "/app" + virtual directory "/img" + folder "sub\\x"
    -> "Default Web Site/app/img/sub/x": the configuration path a web.config applies to."""
    parts = [str(entry.get("site") or "")]
    for key in ("application", "virtual_directory", "relative_dir"):
        parts += [p for p in str(entry.get(key) or "").replace("\\", "/").split("/") if p]
    return "/".join(parts)


def _site_levels(iis: Mapping[str, Any]) -> tuple[list[SiteRequestFiltering], list[str]] | str:
    """The web.config levels, or why the sites' configuration cannot be trusted."""
    if "site_configs" not in iis:
        return "the collector did not read the sites' web.config files"
    if iis.get("site_configs_error"):
        return f"the sites' web.config files could not be listed: {iis['site_configs_error']}"
    levels: list[SiteRequestFiltering] = []
    read: list[str] = []
    for entry in as_list(iis.get("site_configs")):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("site"), str):
            return "the collector's list of web.config files is malformed"
        where = entry.get("path") or entry.get("physical_path") or virtual_path(entry)
        if entry.get("error") or not isinstance(entry.get("text"), str):
            return (f"the configuration of {virtual_path(entry)} ({where}) could not be read: "
                    f"{entry.get('error') or 'no text returned'}")
        try:
            levels += parse_web_config_filtering(entry["text"], virtual_path(entry), str(where))
        except IisConfigError as exc:
            return f"the configuration of {virtual_path(entry)} could not be read: {exc}"
        read.append(str(where))
    return levels, read


def _shared_configuration(iis: Mapping[str, Any]) -> str:
    """Why the local applicationHost.config is not the one in force ("" when it is)."""
    if "redirection_exists" not in iis:
        return "the collector did not read redirection.config (shared configuration unknown)"
    if not iis.get("redirection_exists"):
        return ""
    text = iis.get("redirection_text")
    if not isinstance(text, str):
        return "redirection.config exists but was not read (shared configuration unknown)"
    try:
        redirection = parse_redirection(text)
    except IisConfigError as exc:
        return f"redirection.config could not be read: {exc}"
    if redirection.enabled:
        return (f"shared configuration is enabled (redirection.config points at "
                f"{redirection.path or '(no path)'}): the applicationHost.config in force "
                "there was not read")
    return ""


def iis_configuration(facts: HostFacts) -> IisConfiguration | Verdict:
    """The configuration in force, or the verdict when IIS is absent or it cannot be read."""
    try:
        iis = facts.iis()
    except FactUnavailable as exc:
        return not_reviewed(f"could not tell whether IIS is installed: {exc}")
    if not iis["installed"]:
        return Verdict(Status.NOT_APPLICABLE, "IIS is not installed on this server (the live "
                       "web checks CWH-WEB-02/04 still run)", observed="IIS absent",
                       evidence=(Evidence("W3SVC service and applicationHost.config (collector)",
                                          str(iis.get("config_path")), "absent"),))
    text = iis.get("config_text")
    if not isinstance(text, str):
        return not_reviewed("IIS is installed but applicationHost.config was not read")
    try:
        server = parse_request_filtering(text)
    except IisConfigError as exc:
        return not_reviewed(f"applicationHost.config could not be read: {exc}")
    shared = _shared_configuration(iis)
    if shared:
        return _unreadable(shared, iis)
    sites = _site_levels(iis)
    if isinstance(sites, str):
        return _unreadable(sites, iis)
    levels, read = sites
    return IisConfiguration(server, (*server.site_overrides, *levels), tuple(read))


def _unreadable(reason: str, iis: Mapping[str, Any]) -> Verdict:
    return not_reviewed(reason, evidence=(Evidence(
        SOURCE, str(iis.get("config_path")), "not available",
        "the configuration IIS applies, every level of it read", reason),))
