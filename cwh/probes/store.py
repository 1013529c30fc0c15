"""Runner views per host, with their probes started in parallel as soon as the host's facts are
in (the web URL and relay port come from the host's web.config)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from cwh.collect.collect import FactStore
from cwh.inventory import Target
from cwh.probes.runner import RunnerView


class ProbeStore:
    def __init__(self, targets: Iterable[Target], facts: FactStore,
                 plans: dict[str, set[str]], max_workers: int = 64) -> None:
        self._targets = {t.name: t for t in targets}
        self._facts = facts
        self._plans = plans
        self._views: dict[str, RunnerView] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="cwh-probe")

    def get(self, name: str) -> RunnerView:
        with self._lock:
            if name not in self._views:
                self._views[name] = RunnerView(self._targets[name], self._facts.get(name))
            return self._views[name]

    def _prefetch_host(self, name: str) -> None:
        view = self.get(name)  # the facts are in: this does not wait
        for probe in sorted(self._plans.get(name, ())):
            self._pool.submit(view.run_named, probe)

    def prefetch(self) -> None:
        """Start each host's probes as soon as its facts arrive, without tying up a thread."""
        for name, probes in self._plans.items():
            if probes:
                self._facts.when_ready(name, self._prefetch_host)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
