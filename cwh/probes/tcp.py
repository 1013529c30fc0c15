"""TCP reachability: is a port open, refused, filtered, or could we not tell."""

from __future__ import annotations

from dataclasses import dataclass

from cwh.probes._net import ConnectAttempt, Deadline, connect, validate_target

# When several addresses were tried, the most telling outcome describes the port.
_STATE_RANK = ("open", "refused", "filtered", "error")


@dataclass(frozen=True)
class PortObservation:
    """What a TCP connect to address:port showed.

    state: "open" (handshake completed), "refused" (RST), "filtered" (no answer within the
    timeout) or "error" (unreachable network, name not resolved, ...)."""

    address: str
    port: int
    state: str
    detail: str
    elapsed_ms: float
    timeout_s: float
    attempts: tuple[ConnectAttempt, ...] = ()

    def to_evidence(self) -> dict:
        return {
            "probe": "tcp_connect",
            "address": self.address,
            "port": self.port,
            "state": self.state,
            "detail": self.detail,
            "elapsed_ms": self.elapsed_ms,
            "timeout_s": self.timeout_s,
            "attempts": [a.to_evidence() for a in self.attempts],
        }


def check_port(address: str, port: int, timeout: float = 3.0) -> PortObservation:
    """Try a TCP connect to every address `address` resolves to until one is open."""
    validate_target(address, port)
    deadline = Deadline(timeout)
    sock, attempts, resolve_error = connect(address, port, deadline)
    if sock is not None:
        sock.close()
    state, detail = _summarise(attempts, resolve_error)
    return PortObservation(
        address=address,
        port=port,
        state=state,
        detail=detail,
        elapsed_ms=deadline.elapsed_ms(),
        timeout_s=deadline.timeout,
        attempts=attempts,
    )


def _summarise(attempts: tuple[ConnectAttempt, ...], resolve_error: str | None) -> tuple[str, str]:
    if resolve_error is not None:
        return "error", resolve_error
    if not attempts:
        return "error", "no address was tried before the timeout"
    best = min(attempts, key=lambda a: _STATE_RANK.index(a.outcome))
    return best.outcome, f"{best.address}:{best.port} {best.detail}"
