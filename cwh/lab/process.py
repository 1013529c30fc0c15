"""Start and stop the lab in a subprocess for a run (the plugin's side of `python -m cwh.lab`).

A separate process keeps the lab's work (NTLM, TLS, XML) off the interpreter that runs pytest,
the way a real server is another machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from cwh.errors import ConfigError


class LabServer:
    def __init__(self, inventory: str, limit: str | None, state_dir: Path,
                 request_log: Path | None) -> None:
        self.inventory = inventory
        self.limit = limit
        self.state_dir = state_dir
        self.request_log = request_log
        self.hosts: list[dict] = []
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 60.0) -> None:
        command = [sys.executable, "-m", "cwh.lab", "serve", "--inventory", self.inventory,
                   "--state-dir", str(self.state_dir)]
        if self.limit:
            command += ["--limit", self.limit]
        if self.request_log:
            command += ["--request-log", str(self.request_log)]
        root = Path(__file__).resolve().parents[2]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(root), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True, env=env)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        first = line[0].strip() if line else ""
        if first.startswith("READY "):
            self.hosts = json.loads(first[len("READY "):])
            return
        self.stop()
        if first.startswith("ERROR "):
            raise ConfigError(first[len("ERROR "):])
        raise ConfigError(f"the lab did not start within {timeout:.0f} s "
                          "(try: python -m cwh.lab serve --inventory " + self.inventory + ")")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
            process.wait(timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            process.kill()
            process.wait(timeout=5)
