"""Run the audit the way a user does (`pytest tests_controls ...` in a subprocess) against lab
hosts on loopback addresses of the test's own, and read back what it produced."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cwh.errors import ConfigError
from cwh.lab.expectations import lab_stig_inputs
from cwh.lab.image import load_image

REPO = Path(__file__).resolve().parents[2]
AUTOMATED_A = ("CWH-GPO-01", "CWH-GPO-02", "CWH-GPO-03", "CWH-GPO-04", "CWH-GPO-05",
               "CWH-GPO-06", "CWH-PWD-01", "CWH-PWD-02", "CWH-TLS-01", "CWH-TLS-02",
               "CWH-ACCT-01", "CWH-STIG-01", "CWH-STIG-02", "CWH-STIG-03", "CWH-STIG-04",
               "CWH-STIG-05", "CWH-STIG-06", "CWH-STIG-07", "CWH-STIG-08")
_used: set[str] = set()


def loopback() -> str:
    """A loopback address no other test (or the bundled demo) uses: Linux routes all of 127/8."""
    while True:
        address = f"127.{random.randint(64, 250)}.{random.randint(0, 255)}.{random.randint(2, 250)}"
        if address not in _used:
            _used.add(address)
            return address


def _computer_name(image: str) -> str:
    try:
        name = (load_image(image).get("identity") or {}).get("computer_name")
    except ConfigError:  # written later, or deliberately broken: the usual default
        name = None
    if isinstance(name, str) and name:
        return name
    return "SC-DRIFTED" if image == "drifted" else "SC-HARDENED"


def lab_host(image: str, *, transport: str = "ntlm", **extra: Any) -> dict[str, Any]:
    """Variables for a lab host on a fresh loopback address (http+NTLM or https+Basic).

    Lab hosts answer on loopback addresses as the machines their images describe, so the host
    expects the image's computer name (read from the image when it can be read already, else
    SC-DRIFTED for drifted and SC-HARDENED otherwise); a variable given as None is left out."""
    host: dict[str, Any] = {
        "ansible_host": loopback(), "cwh_lab_image": image, "cwh_probe_timeout_sec": 2,
        "cwh_expected_hostname": _computer_name(image),
        "cwh_ca_bundle": "lab/ca.pem",  # the lab issues "trusted" web certificates from its CA
        # privileged ports are served unprivileged, so the tests need no root
        "cwh_port_map": {135: 10135, 139: 10139, 443: 10443, 445: 10445},
    }
    if transport == "ntlm":
        host.update(ansible_port=5985, ansible_winrm_transport="ntlm")
    else:
        host.update(ansible_port=5986, ansible_winrm_transport="basic",
                    ansible_winrm_ca_trust_path="lab/ca.pem")
    if image == "drifted":  # users reach drifted through its TLS front end on 443
        host["cwh_web_url"] = f"https://{host['ansible_host']}:443/"
    host.update(extra)
    return {key: value for key, value in host.items() if value is not None}


def bundled_lab_inventory(tmp_path: Path) -> Path:
    """inventory/lab.yml as shipped, its hosts moved to loopback addresses of their own (so
    runs in parallel never collide) and its CA paths pointed at the run's lab directory."""
    data = yaml.safe_load((REPO / "inventory" / "lab.yml").read_text())
    for host in data["all"]["children"]["lab"]["hosts"].values():
        host["ansible_host"] = loopback()
        for key in ("ansible_winrm_ca_trust_path", "cwh_ca_bundle"):
            if key in host:
                host[key] = "lab/ca.pem"
        if "cwh_web_url" in host:
            host["cwh_web_url"] = f"https://{host['ansible_host']}:443/"
    inventory = tmp_path / "lab.yml"
    inventory.write_text(yaml.safe_dump(data))
    return inventory


def write_inventory(tmp_path: Path, hosts: dict[str, dict[str, Any]],
                    common: dict[str, Any] | None = None) -> Path:
    """An inventory of these hosts with the lab organization's values (inventory/lab.yml:
    approved administrators, the STIG's organization-defined values), so a hardened host passes
    every automated control; `common` adds or replaces variables, a None value leaves one out."""
    variables = {"ansible_connection": "winrm", "ansible_user": "auditor",
                 "ansible_password": "lab-only-not-a-secret", **lab_stig_inputs()}
    variables.update(common or {})
    variables = {key: value for key, value in variables.items() if value is not None}
    data = {"all": {"vars": variables, "children": {"lab": {"hosts": hosts}}}}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class AuditRun:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def document(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "results.json").read_text())

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.document["results"]

    def by_control(self, host: str) -> dict[str, dict[str, Any]]:
        return {r["control_id"]: r for r in self.results if r["host"] == host}

    def lab_requests(self) -> list[dict[str, Any]]:
        path = self.report_dir / "lab-requests.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def artifacts_text(self) -> str:
        """Everything the run wrote, as text, plus what it printed."""
        texts = [self.output]
        for path in sorted(self.report_dir.rglob("*")):
            if path.is_file():
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)


def run_audit(tmp_path: Path, inventory: Path | None, *args: str,
              env: dict[str, str] | None = None, timeout: float = 180) -> AuditRun:
    report_dir = tmp_path / "reports"
    command = [sys.executable, "-m", "pytest", "tests_controls", "-p", "no:cacheprovider",
               "--cwh-report-dir", str(report_dir), "--cwh-lab-dir", str(tmp_path / "lab"),
               *args]
    if inventory is not None:
        command += ["--inventory", str(inventory)]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                               timeout=timeout, env={**os.environ, **(env or {})})
    return AuditRun(completed.returncode, completed.stdout, completed.stderr, report_dir)


def distinct_machine(tmp_path: Path, image: str, index: int) -> str:
    """`image` as machine number `index`: the same computer with network cards of its own, so
    that several lab hosts made from one image are several machines (cwh/identity.py tells
    machines apart by name, domain and MAC addresses), not one machine under several inventory
    names, which never passes the gate."""
    path = tmp_path / f"machine-{index}-{Path(image).stem}.yml"
    mac = f"02:00:5E:00:{index // 256:02X}:{index % 256:02X}"
    path.write_text(yaml.safe_dump({"extends": image, "identity": {"mac_addresses": [mac]}}))
    return str(path)


def lab_machine(tmp_path: Path, image: str, index: int, **extra: Any) -> dict[str, Any]:
    """lab_host(image, ...) as machine number `index` of that image (distinct_machine)."""
    host = lab_host(distinct_machine(tmp_path, image, index), **extra)
    if image == "drifted" and "cwh_web_url" not in extra:  # as lab_host("drifted") does
        host["cwh_web_url"] = f"https://{host['ansible_host']}:443/"
    return host
