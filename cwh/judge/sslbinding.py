"""The host view of CWH-WEB-05: http.sys holds a certificate binding for the HTTPS port, and the
bound certificate is in LocalMachine\\My.

Two sources say which binding serves the port: the registry (what http.sys loads; the same on
every Windows language) and `netsh http show sslcert` (what http.sys says it serves; console
text that Windows translates). The registry decides; netsh corroborates. When both answered and
they disagree about the port, nothing is passed: either could be the truth.
"""

from __future__ import annotations

from dataclasses import asdict

from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.outcome import Outcome, unknown
from cwh.judge.verdict import Evidence, compact_json
from cwh.parse.httpsys import BindingSource, bindings_at_port
from cwh.parse.netsh import SslBinding, binding_for_port

SOURCE = "http.sys bindings: registry SslBindingInfo, netsh http show sslcert (collector)"
LABEL = "binding"


def _shown(source: BindingSource, port: int) -> str:
    if source.bindings is None:
        return f"{source.name}: not available ({source.problem})"
    mine = sorted(bindings_at_port(list(source.bindings), port))
    return f"{source.name}: " + (", ".join(f"{endpoint} -> {cert or '(no hash)'}"
                                           for _, endpoint, cert in mine) or "no binding")


def _raw(sources: tuple[BindingSource, ...], port: int, extra: list | None = None) -> str:
    data = {s.name: ([asdict(b) for b in s.bindings if b.port == port]
                     if s.bindings is not None else s.problem) for s in sources}
    if extra:
        data["LocalMachine\\My"] = extra
    return compact_json(data, limit=900)


def chosen_binding(registry: BindingSource, netsh: BindingSource,
                   port: int) -> tuple[SslBinding | None, str] | str:
    """(the binding that serves `port`, a note) or, when the sources cannot be trusted, why."""
    if registry.garbled:
        return registry.problem
    available = [s for s in (registry, netsh) if s.bindings is not None]
    if not available:
        return f"no source of http.sys bindings could be read ({registry.problem}; " \
               f"{netsh.problem})"
    if len(available) == 2 and bindings_at_port(list(registry.bindings or ()), port) != \
            bindings_at_port(list(netsh.bindings or ()), port):
        return (f"the registry and netsh disagree about port {port} ({_shown(registry, port)}; "
                f"{_shown(netsh, port)})")
    source = available[0]
    other = netsh if source is registry else registry
    note = "" if len(available) == 2 else \
        f"{source.name} only, no corroboration ({other.problem})"
    return binding_for_port(list(source.bindings or ()), port), note


def binding_part(facts: HostFacts, port: int, thumbprint: str | None) -> Outcome:
    """A binding for the port whose certificate is in the store; the runner's certificate is
    compared for the evidence."""
    expected = f"an http.sys binding for port {port}, its certificate in LocalMachine\\My"
    try:
        registry, netsh = facts.ssl_binding_sources()
        store = facts.certificates()
    except FactUnavailable as exc:
        return unknown(LABEL, expected, str(exc),
                       Evidence(SOURCE, f"port {port}", "not available", expected, str(exc)))
    chosen = chosen_binding(registry, netsh, port)
    sources = (registry, netsh)
    if isinstance(chosen, str):
        return unknown(LABEL, expected, chosen, Evidence(SOURCE, f"port {port}", chosen,
                                                         expected, _raw(sources, port)))
    binding, note = chosen
    if binding is None:
        observed = f"no binding for port {port}" + (f" ({note})" if note else "")
        return Outcome(False, (Evidence(SOURCE, f"port {port}", observed, expected,
                                        _raw(sources, port)),), expected, observed, label=LABEL)
    in_store = [c for c in store if str(c.get("thumbprint", "")).lower() == binding.cert_hash]
    observed = f"{binding.endpoint} -> {binding.cert_hash}" + \
        ("" if in_store else " (not in LocalMachine\\My)")
    if thumbprint and binding.cert_hash != thumbprint.lower():
        observed += f"; the runner saw a different certificate ({thumbprint.lower()})"
    if note:
        observed += f"; {note}"
    evidence = Evidence(SOURCE + " and Cert:\\LocalMachine\\My", f"port {port}", observed,
                        expected, _raw(sources, port, in_store))
    return Outcome(bool(in_store), (evidence,), expected, observed, label=LABEL)
