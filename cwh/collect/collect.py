"""Collect one host's facts in one remote PowerShell execution, and keep them for the run.

Hosts are collected in parallel threads (the wait is network, not CPU); each host's facts are
gathered once and shared by every control of that host.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from cwh.collect.document import DocumentError, parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import FactRequest
from cwh.collect.script import build_collector
from cwh.errors import HostError
from cwh.inventory import Target
from cwh.transport.backend import host_for


def collect_host(target: Target, request: FactRequest) -> HostFacts:
    """Run the collector on one host through testinfra; never raises for host problems."""
    host = host_for(target.connection)
    started = time.monotonic()
    try:
        result = host.run(build_collector(request.to_json()))
        document = parse_output(result.stdout_bytes, result.stderr_bytes, result.rc)
    except HostError as exc:
        return HostFacts.failed(target.name, str(exc))
    except DocumentError as exc:
        return HostFacts.failed(target.name, f"{target.name}: unusable collector output: {exc}")
    document["_collection"] = {
        "seconds": round(time.monotonic() - started, 3),
        "endpoint": target.connection.endpoint,
        "transport": target.connection.transport,
        "sections_requested": sorted(request.sections),
    }
    return HostFacts(target.name, document)


class FactStore:
    """Facts per host, collected at most once per process, in parallel on first need."""

    def __init__(self, targets: Iterable[Target], requests: dict[str, FactRequest],
                 max_workers: int = 32) -> None:
        self._targets = {t.name: t for t in targets}
        self._requests = requests
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="cwh-collect")
        self._futures: dict[str, Future[HostFacts]] = {}
        self._lock = threading.Lock()

    def prefetch(self, names: Iterable[str] | None = None) -> None:
        for name in names if names is not None else self._targets:
            self._future(name)

    def _future(self, name: str) -> Future[HostFacts]:
        with self._lock:
            if name not in self._futures:
                self._futures[name] = self._pool.submit(
                    collect_host, self._targets[name], self._requests[name])
            return self._futures[name]

    def when_ready(self, name: str, callback: Callable[[str], None]) -> None:
        """Call `callback(name)` once the host's facts are in (or collection failed)."""
        self._future(name).add_done_callback(lambda _future: callback(name))

    def get(self, name: str) -> HostFacts:
        try:
            return self._future(name).result()
        except Exception as exc:  # a bug in collection must not pass anything: report it
            return HostFacts.failed(name, f"{name}: fact collection crashed: "
                                          f"{exc.__class__.__name__}: {exc}")

    def collected(self) -> dict[str, HostFacts]:
        return {name: f.result() for name, f in self._futures.items() if f.done()}

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for target in self._targets.values():
            if target.name in self._futures:
                host_for(target.connection).backend.close()
