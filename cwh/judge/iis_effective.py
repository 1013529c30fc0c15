"""The request filtering in force for each IIS configuration path, from every level that sets it.

IIS merges `system.webServer/security/requestFiltering` from the server level down: the
applicationHost.config section, its `<location path>` tags, then the web.config files of each
site, application and folder. A lower level can turn removeServerHeader off again, `<remove>`
or `<clear>` the OPTIONS deny, or set `allowUnlisted` back to true.

Two merge orders are evaluated, and a path is compliant only under both: levels by depth with
applicationHost.config before web.config at the same depth, and all applicationHost.config
levels before any web.config. Either is a reading of IIS's order; whichever is IIS's own, no
ordering question can turn a re-allowed OPTIONS into a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cwh.parse.iis import RequestFiltering, SiteRequestFiltering

_APPHOST = "applicationHost.config"


@dataclass(frozen=True)
class PathFiltering:
    """What a configuration path gets ("" is the server level) and which levels said so."""

    path: str
    remove_server_header: bool  # IIS's default (false) when no level sets it
    options_denied: bool
    sources: tuple[str, ...]


@dataclass
class _State:
    remove_server_header: bool | None
    allow_unlisted: bool | None
    verbs: dict[str, bool]

    def options_denied(self) -> bool:
        """An explicit OPTIONS entry decides; else the unlisted default (IIS: allowed)."""
        if "options" in self.verbs:
            return self.verbs["options"] is False
        return self.allow_unlisted is False


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.strip().lower().replace("\\", "/").split("/") if part)


def _apply(state: _State, level: SiteRequestFiltering) -> None:
    if level.remove_server_header is not None:
        state.remove_server_header = level.remove_server_header
    if level.allow_unlisted_verbs is not None:
        state.allow_unlisted = level.allow_unlisted_verbs
    if level.verbs_cleared:
        state.verbs = {}
    for removed in level.verbs_removed:
        state.verbs.pop(removed.lower(), None)
    state.verbs.update({verb.name.lower(): verb.allowed for verb in level.verbs})


def _orders(levels: Sequence[SiteRequestFiltering]) -> list[list[SiteRequestFiltering]]:
    def web_config(level: SiteRequestFiltering) -> int:
        return 0 if level.source == _APPHOST else 1
    indexed = list(enumerate(levels))
    by_depth = sorted(indexed, key=lambda x: (len(_segments(x[1].path)), web_config(x[1]), x[0]))
    apphost_first = sorted(indexed, key=lambda x: (web_config(x[1]), len(_segments(x[1].path)),
                                                   x[0]))
    return [[level for _, level in by_depth], [level for _, level in apphost_first]]


def _at(server: RequestFiltering, levels: list[SiteRequestFiltering],
        path: tuple[str, ...]) -> _State:
    state = _State(server.remove_server_header, server.allow_unlisted_verbs,
                   {verb.name.lower(): verb.allowed for verb in server.verbs})
    for level in levels:
        if _segments(level.path) == path[:len(_segments(level.path))]:
            _apply(state, level)
    return state


def effective_filtering(server: RequestFiltering,
                        levels: Sequence[SiteRequestFiltering]) -> list[PathFiltering]:
    """The server level ("") and every path a lower level names, each as IIS would serve it
    (compliant only if compliant under both merge orders)."""
    paths: dict[tuple[str, ...], str] = {(): ""}
    for level in levels:
        paths.setdefault(_segments(level.path), level.path.strip().strip("/"))
    results = []
    for segments, shown in paths.items():
        states = [_at(server, order, segments) for order in _orders(levels)]
        sources = tuple(dict.fromkeys(level.source for level in levels
                                      if _segments(level.path) == segments[:len(
                                          _segments(level.path))]))
        results.append(PathFiltering(
            path=shown,
            remove_server_header=all(s.remove_server_header is True for s in states),
            options_denied=all(s.options_denied() for s in states),
            sources=sources))
    return results
