"""One selector thread shared by every lab endpoint in the process.

It owns listening sockets and idle keep-alive connections; a connection with a request to serve is
handed to a short-lived worker thread and handed back when idle. So a fleet of a few hundred
endpoints costs one thread plus one per request in flight, not one or two per endpoint.

Only the reactor thread touches the selector: other threads queue operations and wake it through a
socketpair. Sockets are registered by file descriptor and must be unregistered here before they are
closed, which is why idle connections are closed only by the reactor.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

_SWEEP_INTERVAL_S = 1.0


@dataclass(eq=False)
class Watch:
    sock: socket.socket
    owner: object
    on_ready: Callable[[], None]
    oneshot: bool
    deadline: float | None = None  # monotonic; idle connections are closed after it
    on_expire: Callable[[], None] | None = None
    fd: int = -1


class Reactor:
    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._ops: deque[Callable[[], None]] = deque()
        self._ops_lock = threading.Lock()
        self._watches: dict[int, Watch] = {}
        self._running = True
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._loop, name="winrm-lab-reactor", daemon=True)
        self._thread.start()

    # -- called from any thread ---------------------------------------------------------------

    def call(self, op: Callable[[], None]) -> None:
        with self._ops_lock:
            self._ops.append(op)
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    def call_sync(self, op: Callable[[], None], timeout: float = 5.0) -> None:
        if threading.current_thread() is self._thread:
            op()
            return
        done = threading.Event()

        def wrapped() -> None:
            try:
                op()
            finally:
                done.set()

        self.call(wrapped)
        done.wait(timeout)

    def watch(self, watch: Watch) -> None:
        self.call(lambda: self._register(watch))

    def drop_owner(self, owner: object) -> None:
        """Unregister and close every socket `owner` has with the reactor; returns when done."""

        def op() -> None:
            for watch in [w for w in self._watches.values() if w.owner is owner]:
                self._unregister(watch)
                with contextlib.suppress(OSError):
                    watch.sock.close()

        self.call_sync(op)

    def shutdown(self) -> None:
        def op() -> None:
            self._running = False

        self.call(op)
        self._thread.join(5.0)

    # -- reactor thread only --------------------------------------------------------------------

    def _register(self, watch: Watch) -> None:
        try:
            watch.fd = watch.sock.fileno()
            self._selector.register(watch.fd, selectors.EVENT_READ, watch)
        except (OSError, ValueError, KeyError) as exc:
            # Closed under us (the owner stopped): nothing to watch.
            log.debug("cannot watch socket: %s", exc)
            return
        self._watches[watch.fd] = watch

    def _unregister(self, watch: Watch) -> None:
        if self._watches.get(watch.fd) is watch:
            del self._watches[watch.fd]
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(watch.fd)

    def _run_ops(self) -> None:
        while True:
            with self._ops_lock:
                if not self._ops:
                    return
                op = self._ops.popleft()
            try:
                op()
            except Exception:
                log.exception("reactor operation failed")

    def _sweep(self, now: float) -> None:
        for watch in [
            w for w in self._watches.values() if w.deadline is not None and w.deadline <= now
        ]:
            self._unregister(watch)
            try:
                if watch.on_expire:
                    watch.on_expire()
                else:
                    watch.sock.close()
            except Exception:
                log.exception("reactor expiry callback failed")

    def _loop(self) -> None:
        next_sweep = time.monotonic() + _SWEEP_INTERVAL_S
        while self._running:
            timeout = max(0.0, next_sweep - time.monotonic())
            for key, _ in self._selector.select(timeout):
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(BlockingIOError, OSError):
                        while self._wake_r.recv(4096):
                            pass
                    continue
                watch: Watch = key.data
                if self._watches.get(watch.fd) is not watch:
                    continue
                if watch.oneshot:
                    self._unregister(watch)
                try:
                    watch.on_ready()
                except Exception:
                    log.exception("reactor callback failed")
            self._run_ops()
            now = time.monotonic()
            if now >= next_sweep:
                self._sweep(now)
                next_sweep = now + _SWEEP_INTERVAL_S
        for watch in list(self._watches.values()):
            self._unregister(watch)
            with contextlib.suppress(OSError):
                watch.sock.close()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


_shared: Reactor | None = None
_users = 0
_shared_lock = threading.Lock()


def acquire() -> Reactor:
    """The process's reactor, started on first use."""
    global _shared, _users
    with _shared_lock:
        if _shared is None:
            _shared = Reactor()
        _users += 1
        return _shared


def release() -> None:
    """Drop one user; the reactor thread ends with its last user."""
    global _shared, _users
    with _shared_lock:
        _users -= 1
        if _users > 0 or _shared is None:
            return
        reactor, _shared = _shared, None
    reactor.shutdown()
