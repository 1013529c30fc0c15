"""Gather each host's facts (one WinRM round trip) and runner probes once per run, in parallel.

Hosts are gathered in threads from the start of the run, before collection: which STIG rule
tests a host has depends on the benchmark of its OS, which only its facts tell. Facts are
handed out as soon as they arrive; probes (runner-side connections) start once the selected
tests are known (`start_probes`) and are handed out when they finish, so registry controls never
wait for a filtered port to time out. Under pytest-xdist the controller and every worker start
gathering every host, but a host is claimed by exactly one process through an O_EXCL file in a
directory the controller shares with its workers; the others read what the claimer wrote. So
each host costs one round trip per run however its tests are spread over workers.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from cwh.collect.collect import collect_host
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.collect.request import FactRequest
from cwh.identity import EXPECTED_VAR, check_identity, claim_for
from cwh.inventory import Target
from cwh.probes.runner import RunnerView
from cwh.transport.backend import host_for

# How long a process waits for another's probes of a host after that host's facts were
# published: the other process first collects every test (which waits for every host), then
# probes with its own timeouts.
PROBE_WAIT_SEC = 300


def confirm_identity(target: Target, facts: HostFacts) -> tuple[HostFacts, dict[str, Any] | None]:
    """The facts when the identity they carry is the target's, else a failure naming whose
    facts arrived (every control of the host is then Not_Reviewed); and the check, as data
    (None when no facts arrived at all)."""
    if not facts.ok:
        return facts, None
    try:
        identity, unavailable = facts.identity(), None
    except FactUnavailable as exc:
        identity, unavailable = None, str(exc)
    check = check_identity(claim_for(target.name, target.connection.address,
                                     target.var(EXPECTED_VAR)), identity, unavailable)
    if check.confirmed:
        return facts, check.to_dict()
    return HostFacts.failed(target.name, check.problem()), check.to_dict()


def without_host_access(target: Target) -> HostFacts:
    """The facts of a network-only host (cwh_access: network), which is never gathered over
    WinRM: a document with no section, so every host-side fact is unavailable (its controls
    are Not_Applicable) and no host error is reported."""
    return HostFacts(target.name, {"sections": {}, "host_access": "network"})


class _Host:
    """One host's results, each filled once (here or by another worker)."""

    def __init__(self) -> None:
        self.identity: dict[str, Any] | None = None  # set before facts
        self.facts: Future[HostFacts] = Future()
        self.runner: Future[RunnerView] = Future()
        self.local = False  # gathered by this process (else adopted from another worker)
        self.decided = threading.Event()  # set once we know which


class Gatherer:
    def __init__(self, targets: Iterable[Target], requests: dict[str, FactRequest],
                 probes: dict[str, set[str]] | None = None, share_dir: Path | None = None,
                 max_hosts: int = 32, max_probes: int = 64) -> None:
        """`probes` given here starts them as each host's facts arrive; None waits for
        start_probes (the selection is known only after collection)."""
        self._targets = {t.name: t for t in targets}
        self._requests = requests
        self._probes: dict[str, set[str]] = {}
        self._probes_known = threading.Event()
        self._share = share_dir
        self._host_pool = ThreadPoolExecutor(max_hosts, thread_name_prefix="cwh-host")
        self._probe_pool = ThreadPoolExecutor(max_probes, thread_name_prefix="cwh-probe")
        self._hosts = {name: _Host() for name in requests}
        self._adopting: dict[str, threading.Lock] = {n: threading.Lock() for n in requests}
        self._probing = threading.Lock()  # orders start_probes against facts arriving
        self._facts_in: set[str] = set()  # local hosts whose facts are in, probes not started
        if probes is not None:
            self.start_probes(probes)

    @property
    def hosts(self) -> list[str]:
        return list(self._hosts)

    # --- gathering -------------------------------------------------------------------------

    def start(self) -> None:
        for name in self._hosts:
            self._host_pool.submit(self._gather, name)

    def start_probes(self, probes: dict[str, set[str]]) -> None:
        """The probes each host's selected tests need; the hosts this process gathers run them
        once their facts are in (the others adopt them from the share). Only the first call
        counts: every process learns the same selection."""
        with self._probing:
            if self._probes_known.is_set():
                return
            self._probes = {name: set(found) for name, found in probes.items()}
            self._probes_known.set()
            ready, self._facts_in = self._facts_in, set()
        for name in sorted(ready):
            self._host_pool.submit(self._probe, name)

    def _gather(self, name: str) -> None:
        host = self._hosts[name]
        try:
            host.local = self._share is None or self._claim(name)
        except OSError:
            # The shared directory is not there (a remote xdist worker, a cleaned /tmp):
            # gather here, at the cost of one more round trip, rather than wait forever.
            host.local = True
        finally:
            host.decided.set()
        if not host.local:
            return  # another worker gathers it; facts() and runner() adopt its results
        target = self._targets[name]
        if target.network_only:  # network-only targets are not gathered over WinRM
            facts = without_host_access(target)
        else:
            try:
                facts = collect_host(target, self._requests[name])
            except Exception as exc:  # a bug here must surface as Not_Reviewed, never pass
                facts = HostFacts.failed(name, f"{name}: fact collection crashed: "
                                               f"{exc.__class__.__name__}: {exc}")
            facts, host.identity = confirm_identity(target, facts)
        host.facts.set_result(facts)
        self._publish(name, ".facts", {"document": facts.document, "error": facts.error,
                                       "identity": host.identity})
        # The one command is done: delete the shell now, overlapped with the other hosts,
        # rather than host after host at the end of the run (where xdist cuts workers short).
        # After the facts are out, so a slow Delete delays no test; best effort.
        self._close_shell(name)
        # The selection (and so the probes) is usually known only once collection ends, which
        # itself waits for every host's facts: then start_probes starts them.
        with self._probing:
            if not self._probes_known.is_set():
                self._facts_in.add(name)
                return
        self._probe(name)

    def _probe(self, name: str) -> None:
        host, target = self._hosts[name], self._targets[name]
        runner = RunnerView(target, host.facts.result())
        # Probes wait on the network (timeouts, filtered ports): run them side by side.
        wait([self._probe_pool.submit(runner.run_named, probe)
              for probe in sorted(self._probes.get(name, ()))])
        host.runner.set_result(runner)
        self._publish(name, ".probes", runner.export())

    # --- sharing between xdist workers -----------------------------------------------------

    def _path(self, name: str, suffix: str) -> Path:
        assert self._share is not None
        return self._share / f"{name.encode().hex()}{suffix}"

    def _claim(self, name: str) -> bool:
        try:
            os.close(os.open(self._path(name, ".claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                             0o600))
        except FileExistsError:
            return False
        return True

    def _publish(self, name: str, suffix: str, payload: Any) -> None:
        if self._share is None:
            return
        tmp = self._path(name, suffix + ".tmp")
        try:
            with open(tmp, "wb") as handle:
                pickle.dump(payload, handle)
            tmp.replace(self._path(name, suffix))
        except OSError:
            # The other workers then wait out their deadline and report this host
            # Not_Reviewed; this worker's own tests already have the results.
            return

    def _wait_for(self, name: str, suffix: str) -> Any:
        """What the claiming worker published, or None when it never came."""
        target = self._targets[name]
        # Counted from when the other worker claimed the host (its claim file's time), not
        # from this call: tests run one after another, and a worker that died must cost the
        # run one timeout, not one per host; a host still queued over there is not cut short.
        # Probes start once that worker has collected (after every host's facts are in):
        # counted from its facts.
        since, budget = (".claim", target.connection.command_timeout_sec + 120) \
            if suffix == ".facts" else (".facts", PROBE_WAIT_SEC)
        try:
            started = self._path(name, since).stat().st_mtime
        except OSError:
            return None  # the share is gone: nobody will publish
        deadline = started + budget
        path = self._path(name, suffix)
        while not path.exists():
            if time.time() > deadline or not path.parent.is_dir():
                return None
            time.sleep(0.02)
        with open(path, "rb") as handle:
            return pickle.load(handle)  # written by this run's own workers, mode 0700 dir

    def _adopt(self, name: str) -> None:
        host = self._hosts[name]
        with self._adopting[name]:
            if not host.facts.done():
                payload = self._wait_for(name, ".facts")
                if payload is None:
                    facts = HostFacts.failed(name, f"{name}: the worker gathering this host "
                                                   "did not finish in time")
                elif payload["document"] is None:
                    facts = HostFacts.failed(name, payload["error"])
                else:
                    facts = HostFacts(name, payload["document"])
                host.identity = payload.get("identity") if payload else None
                host.facts.set_result(facts)

    def _adopt_probes(self, name: str) -> None:
        host = self._hosts[name]
        self._adopt(name)
        with self._adopting[name]:
            if not host.runner.done():
                runner = RunnerView(self._targets[name], host.facts.result())
                runner.adopt(self._wait_for(name, ".probes") or {})
                host.runner.set_result(runner)

    # --- reading ---------------------------------------------------------------------------

    def facts(self, name: str) -> HostFacts:
        host = self._hosts[name]
        host.decided.wait()
        if not host.local:
            self._adopt(name)
        return host.facts.result()

    def identity(self, name: str) -> dict[str, Any] | None:
        """How the host's identity compared with the inventory (IdentityCheck.to_dict)."""
        self.facts(name)
        return self._hosts[name].identity

    def runner(self, name: str) -> RunnerView:
        host = self._hosts[name]
        host.decided.wait()
        if not host.local:
            self._adopt_probes(name)
        return host.runner.result()

    def _close_shell(self, name: str) -> None:
        if self._targets[name].network_only:
            return  # never had a shell
        with contextlib.suppress(Exception):
            host_for(self._targets[name].connection).backend.close()

    def close(self) -> None:
        self._host_pool.shutdown(wait=True, cancel_futures=True)
        self._probe_pool.shutdown(wait=False, cancel_futures=True)
        # Shells are deleted as each host finishes; this catches one a test opened again
        # through its testinfra host (no request at all when there is no shell).
        for name, host in self._hosts.items():
            if host.local:
                self._close_shell(name)
