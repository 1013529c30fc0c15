"""The baseline: what stock testinfra does, one remote command per control, each over a new
WinRM connection and a new shell, built from the suite's own pieces so only the round trips
differ. Per control: a fresh PowerShellSession (new HTTP session, so new TCP connection and new
authentication), Create, Command, Send (the collector limited to that control's facts: the same
PowerShell the suite sends, narrowed with request_for([control])), Receive, then Delete.

Stock testinfra's winrm backend also sends a Signal (cleanup_command) per command and passes the
command on the command line; this baseline sends no Signal, so it understates the stock
request count by one per control. Hosts run side by side (as many as `concurrency`), each
host's controls one after the other, as testinfra runs one host's tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from cwh.catalog.model import Control
from cwh.collect.document import DocumentError, parse_output
from cwh.collect.request import request_for
from cwh.collect.script import build_collector
from cwh.errors import HostError
from cwh.inventory import Target
from cwh.transport.session import PowerShellSession


@dataclass
class BaselineResult:
    hosts: int
    controls: int
    concurrency: int
    wall_seconds: float = 0.0
    commands: int = 0
    failures: list[str] = field(default_factory=list)
    host_seconds: dict[str, float] = field(default_factory=dict)


def run_control(target: Target, control: Control) -> str | None:
    """One control the stock way; None when its facts came back, else the error."""
    session = PowerShellSession(target.connection)
    try:
        stdout, stderr, code = session.run_script(build_collector(request_for([control]).to_json()))
        parse_output(stdout, stderr, code)
        return None
    except (HostError, DocumentError) as exc:
        return f"{target.name} {control.id}: {exc}"
    except Exception as exc:  # a bug must show up as a failure, not vanish in a thread
        return f"{target.name} {control.id}: {exc.__class__.__name__}: {exc}"
    finally:
        session.close()  # Delete: the shell dies with its connection


def run_baseline(targets: Iterable[Target], controls: list[Control], *,
                 concurrency: int = 32) -> BaselineResult:
    targets = list(targets)
    result = BaselineResult(len(targets), len(controls), concurrency)
    stop = threading.Event()
    lock = threading.Lock()

    def one_host(target: Target) -> None:
        started = time.monotonic()
        for control in controls:
            if stop.is_set():
                return
            problem = run_control(target, control)
            with lock:
                result.commands += 1
                if problem:
                    result.failures.append(problem)
        with lock:
            result.host_seconds[target.name] = time.monotonic() - started

    pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="bench-baseline")
    started = time.monotonic()
    try:
        wait([pool.submit(one_host, t) for t in targets])
    finally:
        stop.set()  # on Ctrl-C: no new commands; the lab's stop ends the ones in flight
        pool.shutdown(wait=True, cancel_futures=True)
    result.wall_seconds = time.monotonic() - started
    return result
