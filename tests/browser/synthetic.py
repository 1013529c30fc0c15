"""A synthetic fleet for the scale measurements: results.json documents of any size, with
records made by cwh/report/record.py's build_record from the real catalog (the full STIG
profile, ~250 rules per host, does not exist yet: controls past the catalog's 34 are copies
with new IDs). Statuses, evidence sizes and host facts are shaped like a lab run's."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

from cwh.catalog.model import load_catalog
from cwh.judge.verdict import Evidence, Status, Verdict, not_reviewed
from cwh.report.record import build_record

_RAW = {"path": "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\Example", "values": [
    {"name": f"Setting{i}", "type": "DWord", "data": i} for i in range(12)]}


def _verdicts(index: int) -> list[tuple[float, Verdict]]:
    """The verdicts a control can get, each with the cumulative share of hosts that get it."""
    evidence = (Evidence(source="registry (64-bit view), over WinRM",
                         location=f"HKLM\\SOFTWARE\\Policies\\Example\\Value{index}",
                         observed=f"DWord {index % 7}", expected="DWord = 1",
                         raw=json.dumps(_RAW)),)
    return [
        (0.60, Verdict(Status.NOT_A_FINDING, "DWord 1 as required", "DWord = 1", "DWord 1",
                       evidence)),
        (0.85, Verdict(Status.OPEN, f"observed DWord {index % 7}, expected 1", "DWord = 1",
                       f"DWord {index % 7}", evidence)),
        (0.93, Verdict(Status.NOT_APPLICABLE, "the feature is not installed",
                       evidence=evidence)),
        (0.99, not_reviewed("manual check: record the answer in cwh_attestations", error=False,
                            evidence=evidence)),
        (1.00, not_reviewed("the registry value could not be read (access denied)")),
    ]


def host_name(index: int) -> str:
    """Addresses and FQDNs that differ only after the last dot, and some upper case."""
    if index % 4 == 0:
        return f"10.20.{index // 250}.{index % 250 + 1}"
    if index % 4 == 1:
        return f"sc-{index:04d}.corp.example.com"
    if index % 4 == 2:
        return f"sc-{index - 1:04d}.corp.example.org"
    return f"SC-{index:04d}.Corp.Example.COM"


def fleet_document(hosts: int, controls: int, seed: int = 7) -> dict[str, Any]:
    """A results.json document: `hosts` hosts x `controls` results each."""
    rng = random.Random(seed)
    catalog = load_catalog().controls
    profile = []
    for i in range(controls):
        base = catalog[i % len(catalog)]
        if i >= len(catalog):
            base = dataclasses.replace(base, id=f"SYN-{base.area.upper()}-{i:04d}",
                                       title=f"{base.title} (copy {i // len(catalog)})")
        profile.append(base)
    oses = (("2019", "Microsoft Windows Server 2019 Datacenter (build 17763)"),
            ("2022", "Microsoft Windows Server 2022 Standard (build 20348)"))
    # Each control's possible records per OS, made once by build_record; hosts get copies.
    variants = {os_version: [[(share, build_record(
        host="", control=control, verdict=verdict, os_version=os_version, os_summary=caption,
        nodeid="", duration=0.002)) for share, verdict in _verdicts(i)]
        for i, control in enumerate(profile)] for os_version, caption in oses}
    records, assets = [], {}
    for h in range(hosts):
        name = host_name(h)
        os_version, caption = oses[h % 2]
        assets[name] = {"host": name, "address": f"10.30.{h // 250}.{h % 250 + 1}",
                        "role": None, "marking": None, "hostname": f"SC-{h:04d}",
                        "fqdn": f"sc-{h:04d}.corp.example.com", "domain": "corp.example.com",
                        "ip_addresses": [f"10.30.{h // 250}.{h % 250 + 1}"],
                        "mac_addresses": ["00:15:5D:0A:1E:0C"], "part_of_domain": True,
                        "domain_role": 3, "os": caption, "os_version": os_version}
        for control, choices in zip(profile, variants[os_version], strict=True):
            roll = rng.random()
            record = dict(next(r for share, r in choices if roll < share))
            record.update(host=name, nodeid=f"tests_controls/test_x.py::t[{name}::{control.id}]")
            records.append(record)
    run = {"suite_version": "synthetic", "catalog_version": "2026.11.1",
           "inventory": "synthetic", "markers": "stig", "started": "2026-12-01T00:00:00+00:00",
           "hosts": sorted(assets), "fail_on": "cat3", "waivers": None, "benchmarks": [],
           "selected": len(records)}
    return {"run": run, "hosts": assets, "host_errors": {}, "results": records}
