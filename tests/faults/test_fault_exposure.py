"""The fault corpus of the exposure audit: network-only hosts (cwh_access: network, each with a
lab image under images/ whose network side carries one fault), audited with `-m external` in
one run beside a clean reference. A control a fault touches is never NotAFinding; every other
exposure control keeps the reference's verdict; no host is contacted over WinRM."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from cwh.catalog.model import load_catalog
from tests.e2e.audit_run import AuditRun, loopback, run_audit
from tests.faults.corpus import IMAGES, shared_run

EXTERNAL = frozenset(c.id for c in load_catalog().controls if c.handler == "external")
WEB = frozenset(EXTERNAL - {"CWH-EXT-06"})  # everything the web URL answers
REFERENCE = "x-ref"
LAB_MAP = {135: 10135, 139: 10139, 443: 10443, 445: 10445}


@dataclass(frozen=True)
class ExposureFault:
    name: str
    touches: frozenset[str]
    why: str  # a regular expression every touched control's reason matches
    image: str | None = None  # under images/ (extends hardened); None: the hardened image
    host: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)

    @property
    def host_name(self) -> str:
        return f"x-{self.name}"


def fault(name: str, touches, why: str, image: bool = True, **kw: Any) -> ExposureFault:
    return ExposureFault(name, frozenset(touches), why,
                         str(IMAGES / f"exposure-{name}.yml") if image else None, **kw)


FAULTS = [
    # --- what the server says its version is -----------------------------------------------
    fault("script-version-fullwidth", {"CWH-EXT-03"}, "is not a dotted version",
          expect={"CWH-EXT-03": "Not_Reviewed"}),
    fault("script-version-hostile", {"CWH-EXT-03"}, "<script>alert", expect={
        "CWH-EXT-03": "Not_Reviewed"}),
    fault("script-version-old", {"CWH-EXT-03"}, r"Script\.ashx: 23\.9\.7\.8804",
          expect={"CWH-EXT-03": "Open"}),
    fault("script-no-version", {"CWH-EXT-03"}, "only host access",
          expect={"CWH-EXT-03": "Not_Reviewed"}),
    fault("server-header-hostile", {"CWH-EXT-02", "CWH-EXT-03"}, "<script>alert",
          expect={"CWH-EXT-02": "Open", "CWH-EXT-03": "Not_Reviewed"}),
    # --- a web port that never answers -------------------------------------------------------
    fault("web-silent", WEB,
          "no TLS handshake completed|no certificate fetched|no answer|no HTTP answer"),
    # --- the certificate -----------------------------------------------------------------------
    fault("certificate-expiring", {"CWH-EXT-05"}, "expires in [45] days",
          expect={"CWH-EXT-05": "Open"}),
    fault("certificate-other-name", {"CWH-EXT-05"}, "not in DNS:other.example.com",
          expect={"CWH-EXT-05": "Open"}),
    # --- ports and protocols -------------------------------------------------------------------
    fault("port-139-open", {"CWH-EXT-06"}, "TCP 139: open", expect={"CWH-EXT-06": "Open"}),
    fault("legacy-tls-only-1-1", {"CWH-EXT-01"}, "TLSv1.1: accepted",
          expect={"CWH-EXT-01": "Open"}),
    # --- where the inventory says the server is ----------------------------------------------
    # A public name no resolver knows, and no cwh_probe_address to connect to instead.
    fault("url-name-unresolvable", WEB, "support\\.example\\.invalid", image=False,
          host={"cwh_web_url": "https://support.example.invalid:8040/"}),
    # No cwh_relay_port, and the relay is not on ScreenConnect's default: that proves nothing.
    fault("relay-undeclared-elsewhere", {"CWH-EXT-07"}, "declare cwh_relay_port", image=False,
          host={"cwh_relay_port": None, "cwh_lab_port_map": {8041: 18041}},
          expect={"CWH-EXT-07": "Not_Reviewed"}),
    # The relay declared on a port where nothing listens: from here, it is not reachable.
    fault("relay-declared-closed", {"CWH-EXT-07"}, "relay: refused", image=False,
          host={"cwh_relay_port": 18042}, expect={"CWH-EXT-07": "Open"}),
]


def host_vars(image: str | None, **extra: Any) -> dict[str, Any]:
    address = loopback()
    host = {"cwh_access": "network", "ansible_host": address,
            "cwh_web_url": f"https://{address}:8040/", "cwh_relay_port": 8041,
            "cwh_lab_image": image or "hardened", "cwh_port_map": LAB_MAP,
            "cwh_probe_timeout_sec": 3, "cwh_ca_bundle": "lab/ca.pem", **extra}
    return {k: v for k, v in host.items() if v is not None}


def _exposure(tmp: Path) -> AuditRun:
    hosts = {REFERENCE: host_vars(None)}
    hosts.update({f.host_name: host_vars(f.image, **f.host) for f in FAULTS})
    inventory = tmp / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}, sort_keys=False))
    return run_audit(tmp, inventory, "-m", "external", timeout=170)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return shared_run(tmp_path_factory, "exposure-corpus", _exposure)


def test_the_faults_are_distinct_and_touch_exposure_controls_only():
    assert len({f.name for f in FAULTS}) == len(FAULTS) >= 12
    for f in FAULTS:
        assert f.touches <= EXTERNAL and set(f.expect) <= f.touches, f.name


def test_the_reference_passes_every_exposure_control(run):
    assert {c: r["status"] for c, r in run.by_control(REFERENCE).items()} == \
        dict.fromkeys(EXTERNAL, "NotAFinding")


@pytest.mark.parametrize("f", FAULTS, ids=lambda f: f.name)
def test_touched_controls_are_never_a_pass(run, f):
    results = run.by_control(f.host_name)
    for control in sorted(f.touches):
        record = results[control]
        allowed = {f.expect[control]} if control in f.expect else {"Open", "Not_Reviewed"}
        assert record["status"] in allowed, (control, record["status"], record["reason"])
        assert re.search(f.why, record["reason"]), (control, f.why, record["reason"])


@pytest.mark.parametrize("f", FAULTS, ids=lambda f: f.name)
def test_untouched_controls_keep_the_reference_verdict(run, f):
    reference, results = run.by_control(REFERENCE), run.by_control(f.host_name)
    moved = {c: (reference[c]["status"], results[c]["status"], results[c]["reason"][:200])
             for c in sorted(EXTERNAL - f.touches)
             if results[c]["status"] != reference[c]["status"]}
    assert not moved


def test_no_host_was_contacted_over_winrm_and_none_is_a_host_error(run):
    assert run.document["host_errors"] == {}
    assert not (run.report_dir / "lab-requests.jsonl").exists() or not run.lab_requests()
    for marker in ("Traceback", "INTERNALERROR"):
        assert marker not in run.output


def test_hostile_versions_are_only_ever_escaped_in_the_html(run):
    html = (run.report_dir / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
