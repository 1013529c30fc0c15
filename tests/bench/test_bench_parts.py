"""The benchmark's parts on their own: fleet inventories, request-log figures, /proc sampling."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from bench import fleet, proctree
from bench.requests_log import summarize
from cwh.inventory import load_inventory
from cwh.lab.image import load_image


def test_addresses_are_distinct_loopback_and_never_the_demos():
    addresses = [fleet.address(i) for i in range(70_000)]
    assert len(set(addresses)) == len(addresses)
    for address in addresses:
        first, second, third, fourth = map(int, address.split("."))
        assert first == 127 and second >= 1 and 0 <= third <= 255 and 2 <= fourth <= 251
    with pytest.raises(ValueError):
        fleet.address(0, prefix=0)


@pytest.mark.parametrize("share, drifted", [(0.5, 5), (0.0, 0), (1.0, 10), (0.3, 3)])
def test_images_are_mixed_evenly(share, drifted):
    hosts = fleet.plan(10, drifted_share=share)
    assert sum(h.image == "drifted" for h in hosts) == drifted
    assert all(h.name.endswith(h.image) for h in hosts)


def test_the_inventory_is_valid_for_the_suite(tmp_path):
    hosts = fleet.plan(4, first_address=500, prefix=44)
    path = fleet.write_inventory(tmp_path / "inv.yml", hosts, lab_dir=tmp_path / "lab",
                                 latency_ms=50)
    targets = {t.name: t for t in load_inventory(str(path)).targets}
    assert set(targets) == {h.name for h in hosts}
    for host in hosts:
        target = targets[host.name]
        # each host its own machine: its image's identity, with a network card of its own
        machine = load_image(target.lab_image)
        assert machine.get("identity")["computer_name"] == f"SC-{host.image.upper()}"
        macs = {tuple(load_image(targets[h.name].lab_image).get("identity")["mac_addresses"])
                for h in hosts}
        assert len(macs) == len(hosts)
        assert target.connection.address == host.address
        assert target.var("cwh_lab_latency_ms") == 50
        assert target.var("cwh_probe_timeout_sec") == 1
        assert target.var("cwh_port_map") == {135: 10135, 139: 10139, 443: 10443, 445: 10445}
        assert target.var("cwh_ca_bundle") == str(tmp_path / "lab" / "ca.pem")
        if host.image == "drifted":
            assert target.connection.scheme == "https"
            assert target.connection.ca_trust_path == str(tmp_path / "lab" / "ca.pem")
            assert target.var("cwh_web_url") == f"https://{host.address}:443/"
        else:
            assert (target.connection.scheme, target.connection.transport) == ("http", "ntlm")
    # --limit slices by image group or by name glob, as a real fleet would be sliced
    assert {t.name for t in load_inventory(str(path), limit="drifted").targets} == \
        {h.name for h in hosts if h.image == "drifted"}
    assert len(load_inventory(str(path), limit="sc000[01]*").targets) == 2


def test_request_log_figures(tmp_path):
    log = tmp_path / "requests.jsonl"
    events = []
    for action in (None, None, None, "Create", "Command", "Send", "Receive", "Receive"):
        events.append({"endpoint": "a", "action": action, "ts": 100.0 + len(events),
                       "elapsed_ms": 500})
    for action in ("Create", "Command", "Send", "Receive", "Delete"):
        events.append({"endpoint": "b", "action": action, "ts": 200.0, "elapsed_ms": 50})
    log.write_text("".join(json.dumps(e) + "\n" for e in events) + '{"torn')
    summary = summarize(log, 2)
    figures = summary.requests()
    assert figures["hosts_seen"] == 2 and figures["total"] == 13
    assert (figures["min"], figures["max"], figures["mean"]) == (5, 8, 6.5)
    assert figures["commands_min"] == figures["commands_max"] == 1
    # a's shell was never deleted: counted, and its Delete added to the complete figures
    assert figures["deletes_missing"] == 1 and figures["complete_max"] == 9
    assert summary.hosts["a"].collect_seconds == pytest.approx(7.5)  # ts 100 .. 107 + 0.5
    assert summary.span() == pytest.approx(200.05 - 100)


def test_the_sampler_sees_a_child_and_tells_the_lab_apart():
    child = subprocess.Popen([sys.executable, "-c",
                              "import time; x = bytearray(64 << 20); time.sleep(30)"])
    try:
        sampler = proctree.TreeSampler(os.getpid(), 0.05,
                                       classify=lambda pid: pid == child.pid).start()
        time.sleep(1.0)
        peaks = sampler.stop()
    finally:
        child.kill()
        child.wait()
    assert peaks.samples > 3
    assert child.pid in peaks.processes
    assert peaks.lab_kib > 60 * 1024  # the child's 64 MiB counted as "lab"
    assert peaks.tree_kib >= peaks.lab_kib + peaks.rest_kib - peaks.rest_kib  # sanity
    assert peaks.rest_kib > 0
    assert peaks.cpu_seconds()["pytest"] >= 0
