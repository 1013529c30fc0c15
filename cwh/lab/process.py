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
import time
from pathlib import Path

from cwh.errors import ConfigError


class LabServer:
    def __init__(self, inventory: str, limit: str | None, state_dir: Path,
                 request_log: Path | None, *, new_session: bool = False) -> None:
        self.inventory = inventory
        self.limit = limit
        self.state_dir = state_dir
        self.request_log = request_log
        # A session of its own keeps Ctrl-C away from the lab, so whoever started it can stop
        # it in order (the benchmark does).
        self.new_session = new_session
        self.hosts: list[dict] = []
        self.start_seconds: float | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
        started = time.monotonic()
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL, text=True, env=env,
                                         start_new_session=self.new_session)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        first = line[0].strip() if line else ""
        if first.startswith("READY "):
            self.hosts = json.loads(first[len("READY "):])
            self.start_seconds = time.monotonic() - started
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
