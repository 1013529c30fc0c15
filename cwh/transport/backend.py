"""A testinfra backend for Windows over WinRM that speaks PowerShell.

testinfra's own winrm backend is NTLM-only, opens a shell per command and quotes for POSIX
shells. This one takes every pywinrm transport, keeps one shell per host, treats commands as
PowerShell and quotes arguments as PowerShell literals. testinfra has no plugin API for
backends, so it is registered in testinfra's BACKENDS dict (hence the pinned testinfra).
"""

from __future__ import annotations

from typing import Any

import testinfra
import testinfra.backend
from testinfra.backend.base import BaseBackend, CommandResult

from cwh.inventory import ConnectionSettings
from cwh.transport.delivery import ps_literal
from cwh.transport.session import PowerShellSession

NAME = "cwhwinrm"


class WinRMPowerShellBackend(BaseBackend):
    NAME = NAME

    def __init__(self, hostname: str, *args: Any, settings: ConnectionSettings,
                 **kwargs: Any) -> None:
        kwargs.pop("connection", None)
        super().__init__(hostname, *args, **kwargs)
        self.settings = settings
        self.session = PowerShellSession(settings)
        self._encoding = "utf-8"  # the shell runs with code page 65001; never probe the host

    @staticmethod
    def quote(command: str, *args: str) -> str:
        if args:
            return command % tuple(ps_literal(a) for a in args)
        return command

    def get_command(self, command: str, *args: str) -> str:
        return self.quote(command, *args)  # sudo has no meaning here

    def get_pytest_id(self) -> str:
        return f"{NAME}://{self.settings.name}:{self.settings.port}"

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        """Run `command` as a PowerShell script; HostError on transport failure."""
        script = self.get_command(command, *args)
        stdout, stderr, code = self.session.run_script(script)
        return self.result(code, self.encode(script), stdout, stderr)

    def close(self) -> None:
        self.session.close()


def register() -> None:
    testinfra.backend.BACKENDS[NAME] = f"{__name__}.WinRMPowerShellBackend"


def host_for(settings: ConnectionSettings) -> testinfra.host.Host:
    """The testinfra Host for a target (cached by testinfra per process)."""
    register()
    return testinfra.get_host(f"{NAME}://{settings.name}", settings=settings)
