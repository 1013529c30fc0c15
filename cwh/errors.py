"""Errors the suite reports to users as one readable line (never a traceback)."""

from __future__ import annotations


class CwhError(Exception):
    """A problem the user can fix; `str()` is the whole message, on one line."""


class ConfigError(CwhError):
    """Bad inventory, catalog, waiver file or option: stops the run before anything connects."""


class HostError(CwhError):
    """A host could not be audited (unreachable, wrong password, timeout, unusable output).

    Every control of that host becomes Not_Reviewed with this message; other hosts go on.
    """

    def __init__(self, host: str, problem: str, fix: str = "") -> None:
        self.host = host
        self.problem = problem
        self.fix = fix
        message = f"{host}: {problem}"
        if fix:
            message += f" ({fix})"
        super().__init__(message)
