"""Peak memory of a process tree, read from /proc (no psutil): the pytest process, its xdist
workers and the lab it starts as a child, sampled every `interval` seconds.

Peaks are of the sum of VmRSS over the live processes of the tree at one sample (so the figure
is what the tree held at once, not a sum of peaks reached at different times). Resident pages
shared between processes (libraries) count once per process, so the sum is an upper bound.
A sample can miss a spike shorter than the interval.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


def available() -> bool:
    return (PROC / "self" / "status").exists()


TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a live process has used so far."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _ppid_and_rss(pid: int) -> tuple[int, int] | None:
    """(parent pid, VmRSS in KiB) of a live process, None when it is gone."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    ppid, rss = -1, 0
    for line in text.splitlines():
        if line.startswith("PPid:"):
            ppid = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return ppid, rss


def cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def tree(root: int) -> dict[int, int]:
    """{pid: VmRSS KiB} of `root` and every descendant alive now."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            info = _ppid_and_rss(int(entry.name))
            if info is not None:
                table[int(entry.name)] = info
    children: dict[int, list[int]] = {}
    for pid, (ppid, _rss) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in table and pid not in found:
            found[pid] = table[pid][1]
            todo.extend(children.get(pid, ()))
    return found


def is_lab(pid: int) -> bool:
    """The lab process: `python -m cwh.lab serve ...`."""
    args = cmdline(pid)
    return "cwh.lab" in args and "serve" in args


@dataclass
class Peaks:
    tree_kib: int = 0  # the whole tree at once
    lab_kib: int = 0  # the lab process alone
    rest_kib: int = 0  # the tree without the lab (pytest and its workers)
    largest_kib: int = 0  # the largest single process
    samples: int = 0
    processes: set[int] = field(default_factory=set)
    cpu: dict[int, float] = field(default_factory=dict)  # last CPU seconds seen per pid
    labs: set[int] = field(default_factory=set)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU used by the lab and by the rest of the tree (as of each process's last sample,
        so a process that exited between samples is short by at most one interval)."""
        lab = sum(v for pid, v in self.cpu.items() if pid in self.labs)
        rest = sum(v for pid, v in self.cpu.items() if pid not in self.labs)
        return {"lab": round(lab, 1), "pytest": round(rest, 1)}

    def as_mib(self) -> dict[str, float]:
        return {"tree": round(self.tree_kib / 1024, 1), "lab": round(self.lab_kib / 1024, 1),
                "pytest": round(self.rest_kib / 1024, 1),
                "largest": round(self.largest_kib / 1024, 1)}


class TreeSampler:
    """Samples a process tree in a daemon thread until stop(); `classify` tells the lab apart."""

    def __init__(self, root: int, interval: float = 0.2,
                 classify: Callable[[int], bool] = is_lab) -> None:
        self.root = root
        self.interval = interval
        self.classify = classify
        self.peaks = Peaks()
        self._labs: set[int] = set()  # only positives are cached: a child is classified
        # again until it has exec'd (between fork and exec it still shows its parent's command)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-rss", daemon=True)

    def start(self) -> TreeSampler:
        if available():
            self._thread.start()
        return self

    def sample(self) -> None:
        found = tree(self.root)
        if not found:
            return
        lab = 0
        for pid, rss in found.items():
            if pid in self._labs or self.classify(pid):
                self._labs.add(pid)
                lab += rss
            used = cpu_seconds(pid)
            if used is not None:
                self.peaks.cpu[pid] = used
        total = sum(found.values())
        p = self.peaks
        p.samples += 1
        p.processes.update(found)
        p.tree_kib = max(p.tree_kib, total)
        p.lab_kib = max(p.lab_kib, lab)
        p.rest_kib = max(p.rest_kib, total - lab)
        p.largest_kib = max(p.largest_kib, max(found.values()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def stop(self) -> Peaks:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.peaks.labs = set(self._labs)
        return self.peaks
