"""Windows PowerShell 5.1 behaviours the lab now plays, through `pytest tests_controls`
(issue 10, items 16, 17 and 19): Constrained Language Mode, one section that never finishes,
and arrays PowerShell unrolls. One audit run serves every test here."""

from __future__ import annotations

import pytest
import yaml

from cwh.catalog.model import load_catalog
from tests.e2e.audit_run import lab_host, run_audit, write_inventory

CATALOG = load_catalog()
ALL = {c.id for c in CATALOG.controls if c.handler != "external"}  # -m stig: host view
SLOW = {"local_admins": 3600, "features": 3600}
HOSTS = {
    "ref": ("hardened", {}),
    "ref-drifted": ("drifted", {}),
    "clm": ("hardened", {"language_mode": "ConstrainedLanguage"}),
    "slow": ("hardened", {"slow_sections": SLOW}),
    "unrolled": ("hardened", {"unrolled_arrays": True}),
    "unrolled-drifted": ("drifted", {"unrolled_arrays": True}),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("powershell")
    hosts = {}
    for name, (base, behaviour) in HOSTS.items():
        image = base
        if behaviour:
            image = f"{name}.yml"
            (tmp / image).write_text(yaml.safe_dump({"extends": base, "powershell": behaviour}))
        hosts[name] = lab_host(image, cwh_command_timeout_sec=10,
                               cwh_expected_hostname=f"SC-{base.upper()}")
        if base == "drifted":  # reached through its TLS front end, as lab_host does for it
            hosts[name]["cwh_web_url"] = f"https://{hosts[name]['ansible_host']}:443/"
    return run_audit(tmp, write_inventory(tmp, hosts), "-m", "guide")


def _verdicts(run, host):
    return {c: (r["status"], r["error"]) for c, r in run.by_control(host).items()}


def test_constrained_language_is_named_with_what_to_do(run):
    results = run.by_control("clm")
    assert set(results) == ALL
    for record in results.values():
        assert record["status"] == "Not_Reviewed", record
        assert "runs in ConstrainedLanguage mode" in record["reason"]
        assert "AppLocker" in record["reason"] and "cmd.exe" not in record["reason"]
    assert "clm" in run.document["host_errors"]


def test_a_slow_section_costs_only_its_own_controls(run):
    reference, slow = _verdicts(run, "ref"), run.by_control("slow")
    moved = {c for c in ALL if (slow[c]["status"], slow[c]["error"]) != reference[c]}
    # The local Administrators group (SID lookups) is what CWH-ACCT-01/02 read; the feature
    # check of CWH-STIG-04/05 has a registry fallback on this image, so it stands.
    assert moved == {"CWH-ACCT-01", "CWH-ACCT-02"}, moved
    for control in moved:
        assert slow[control]["status"] == "Not_Reviewed"
        assert "collecting 'local_admins' failed on the host: the section did not finish " \
               "within the collector's budget of 6 s" in slow[control]["reason"]
    assert "slow" not in run.document["host_errors"]


@pytest.mark.parametrize("host", list(HOSTS))
def test_every_host_is_still_one_winrm_command(run, host):
    actions = [r["action"] for r in run.lab_requests() if r["endpoint"] == host]
    assert actions.count("Command") == 1, actions
    assert actions.count("Send") == 1, actions


@pytest.mark.parametrize(("unrolled", "reference"), [("unrolled", "ref"),
                                                     ("unrolled-drifted", "ref-drifted")])
def test_unrolled_arrays_change_no_verdict(run, unrolled, reference):
    """Verdicts under the unprotected collector's JSON equal the normal ones or are
    Not_Reviewed, never a different pass; on these images they are all equal."""
    normal, other = _verdicts(run, reference), _verdicts(run, unrolled)
    for control in ALL:
        if other[control] != normal[control]:
            assert other[control][0] == "Not_Reviewed", (control, normal[control],
                                                         other[control])
    assert other == normal
