"""What the lab's request log (one JSON object per WinRM HTTP request) says about a run."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cwh.lab.winrm import RequestLog


@dataclass
class HostRequests:
    total: int = 0
    actions: Counter = field(default_factory=Counter)  # Create, Command, ...; None = auth legs
    first: float | None = None  # arrival of the first request
    collected: float | None = None  # end of the last Receive: the facts are in the suite's hands

    @property
    def commands(self) -> int:
        return self.actions.get("Command", 0)

    @property
    def deletes_missing(self) -> int:
        """Shells created but never deleted (the client stopped before its Delete arrived)."""
        return max(0, self.actions.get("Create", 0) - self.actions.get("Delete", 0))

    @property
    def with_deletes(self) -> int:
        """Requests counting the Delete a shell should have had: what the host costs when the
        client tears down completely."""
        return self.total + self.deletes_missing

    @property
    def collect_seconds(self) -> float | None:
        if self.first is None or self.collected is None:
            return None
        return self.collected - self.first


@dataclass
class LogSummary:
    hosts: dict[str, HostRequests]
    expected_hosts: int

    @property
    def per_host(self) -> list[int]:
        return [h.total for h in self.hosts.values()]

    def requests(self) -> dict[str, Any]:
        counts = self.per_host
        complete = [h.with_deletes for h in self.hosts.values()]
        commands = [h.commands for h in self.hosts.values()]
        return {
            "hosts_seen": len(self.hosts),
            "total": sum(counts),
            "mean": round(statistics.fmean(counts), 2) if counts else None,
            "min": min(counts, default=None),
            "max": max(counts, default=None),
            # hosts whose shell was never deleted, and the figures with that Delete counted
            "deletes_missing": sum(1 for h in self.hosts.values() if h.deletes_missing),
            "complete_mean": round(statistics.fmean(complete), 2) if complete else None,
            "complete_max": max(complete, default=None),
            "commands_min": min(commands, default=None),
            "commands_max": max(commands, default=None),
            "commands_mean": round(statistics.fmean(commands), 2) if commands else None,
            "by_action": {str(k): v for k, v in sorted(
                sum((h.actions for h in self.hosts.values()), Counter()).items(),
                key=lambda kv: str(kv[0]))},
        }

    def collect_times(self) -> list[float]:
        return sorted(t for h in self.hosts.values()
                      if (t := h.collect_seconds) is not None)

    def span(self) -> float | None:
        """First request of any host to the last facts in: the fleet's collection phase."""
        firsts = [h.first for h in self.hosts.values() if h.first is not None]
        lasts = [h.collected for h in self.hosts.values() if h.collected is not None]
        return max(lasts) - min(firsts) if firsts and lasts else None


def summarize(path: Path, expected_hosts: int) -> LogSummary:
    hosts: dict[str, HostRequests] = defaultdict(HostRequests)
    for event in RequestLog.read(path) if path.exists() else []:
        host = hosts[str(event.get("endpoint"))]
        host.total += 1
        host.actions[event.get("action")] += 1
        start = float(event.get("ts", 0.0))
        host.first = start if host.first is None else min(host.first, start)
        if event.get("action") == "Receive":
            end = start + float(event.get("elapsed_ms") or 0.0) / 1000
            host.collected = end if host.collected is None else max(host.collected, end)
    return LogSummary(dict(hosts), expected_hosts)
