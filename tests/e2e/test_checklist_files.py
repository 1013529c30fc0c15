"""One checklist per host, whatever the hosts are called: IP addresses and FQDNs that differ
only after their last dot, names that sanitise to the same file name, names that differ only
in case (one file on Windows and macOS). The manifest says which host and benchmarks each
checklist holds."""

from __future__ import annotations

import json

from defusedxml import ElementTree

from tests.e2e.audit_run import lab_machine, run_audit, write_inventory

HOSTS = {
    "10.20.30.11": "hardened", "10.20.30.12": "drifted",          # cut at the last dot once
    "sc.lab.one": "hardened", "sc.lab.two": "drifted",            # so were these
    "sc:01": "hardened", "sc_01": "drifted",                      # ':' sanitises to '_'
    "SC-CASE": "hardened", "sc-case": "drifted",                  # one file where case folds
}


def _stig_ids(path) -> list[str]:
    root = ElementTree.parse(path).getroot()
    return sorted(si.findtext("SID_DATA") for si in root.iter("SI_DATA")
                  if si.findtext("SID_NAME") == "stigid")


def test_every_host_gets_its_own_checklists_and_the_manifest_says_whose(tmp_path):
    inventory = write_inventory(tmp_path, {name: lab_machine(tmp_path, image, i)  # 8 machines
                                           for i, (name, image) in enumerate(HOSTS.items())})
    run = run_audit(tmp_path, inventory, "-m", "gpo or tls")
    assert run.exit_code in (0, 1), run.output[-3000:]
    assert {r["host"] for r in run.results} == set(HOSTS)
    manifest = json.loads((run.report_dir / "manifest.json").read_text())
    for suffix in (".ckl", ".cklb"):
        entries = [e for e in manifest["artifacts"] if e["path"].endswith(suffix)]
        assert sorted(e["host"] for e in entries) == sorted(HOSTS), suffix  # one per host
        paths = [e["path"] for e in entries]
        assert len({p.casefold() for p in paths}) == len(HOSTS), paths
        on_disk = sorted(p.name for p in run.report_dir.glob(f"*{suffix}"))
        assert on_disk == sorted(paths)
        for entry in entries:
            if suffix == ".ckl":
                path = run.report_dir / entry["path"]
                assert [b["id"] for b in sorted(entry["benchmarks"], key=lambda b: b["id"])] \
                    == _stig_ids(path), entry
                # the checklist itself is the host's: the inventory name is in the target data
                assert entry["host"] in path.read_text(encoding="utf-8"), entry
    # names that are safe file names stay as they are
    for host in ("10.20.30.11", "10.20.30.12", "sc.lab.one", "sc.lab.two", "sc_01"):
        assert (run.report_dir / f"{host}.ckl").is_file(), host
    # each host's checklist carries its own image's verdicts (drifted has TLS findings)
    by_host = {e["host"]: e["path"] for e in manifest["artifacts"] if e["path"].endswith(".ckl")}
    for host, image in HOSTS.items():
        text = (run.report_dir / by_host[host]).read_text(encoding="utf-8")
        assert ("<STATUS>Open</STATUS>" in text) == (image == "drifted"), host
