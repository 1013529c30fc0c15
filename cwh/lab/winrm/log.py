"""The request log: one event per HTTP request, in memory and optionally mirrored to JSONL."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any


class RequestLog:
    """Thread-safe event list. With a path, every event is also appended to that file as one JSON
    line, so another process (the suite under test) can read what the lab saw."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._path = os.fspath(path) if path is not None else None
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []

    def record(self, **event: Any) -> None:
        event.setdefault("ts", time.time())
        line = json.dumps(event, sort_keys=True, default=str) if self._path else ""
        with self._lock:
            self._events.append(event)
            if self._path:
                # One write per line in append mode keeps lines whole even with several writers.
                with open(self._path, "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")

    def events(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                dict(e) for e in self._events if endpoint is None or e.get("endpoint") == endpoint
            ]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    @staticmethod
    def read(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
        """Events from a JSONL log written by another process. A torn last line (writer mid-write)
        is skipped; a torn line anywhere else is an error."""
        with open(path, encoding="utf-8") as fh:
            lines = [line for line in fh.read().split("\n") if line.strip()]
        events = []
        for i, line in enumerate(lines):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                if i != len(lines) - 1:
                    raise
        return events
