"""Whose facts are these? Through real runs: a host whose address answers as another machine,
or whose facts carry no identity, is never judged on them; names, FQDNs, addresses and
cwh_expected_hostname are compared the way cwh/identity.py documents; two inventory hosts that
are one machine are reported."""

from __future__ import annotations

import pytest

from cwh.catalog.model import load_catalog
from cwh.selection import NO_BENCHMARK_ID
from tests.e2e.audit_run import lab_host, loopback, run_audit, write_inventory

# every control -m stig runs on one WinRM host (the exposure audit is not among them)
SELECTED = sum(c.handler != "external" for c in load_catalog().controls)


def _host_error_lines(run, host: str) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith(f"ERROR {host}:")]


def _assert_refused(run, host: str, *phrases: str) -> str:
    """Every control of `host` is Not_Reviewed (an error), said in one line; under -m stig so
    is the one test standing for its STIG rules (whose benchmark no facts name)."""
    records = run.by_control(host)
    assert len(set(records) - {NO_BENCHMARK_ID}) == SELECTED, sorted(records)
    assert {(r["status"], r["error"]) for r in records.values()} == {("Not_Reviewed", True)}
    lines = _host_error_lines(run, host)
    assert len(lines) == 1, run.stdout[-3000:]
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert run.document["hosts"][host]["identity_check"]["confirmed"] is False
    return lines[0]


def test_an_address_that_answers_as_another_machine_is_never_judged(tmp_path):
    """sc-drifted's ansible_host is the hardened machine: today that gave 32 NotAFinding."""
    inventory = write_inventory(tmp_path, {
        "sc-drifted": lab_host("hardened", cwh_expected_hostname=None),
        "lab-hardened": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "guide")
    assert run.exit_code == 6, run.output[-3000:]
    line = _assert_refused(run, "sc-drifted", "facts that arrived are those of SC-HARDENED",
                           "the inventory name sc-drifted is neither",
                           "set cwh_expected_hostname: SC-HARDENED")
    arrived = run.document["hosts"]["sc-drifted"]["identity_check"]["arrived"]
    assert arrived["computer_name"] == "SC-HARDENED", line
    # the other host, the right machine, is judged as always
    assert run.by_control("lab-hardened")["CWH-GPO-01"]["status"] == "NotAFinding"
    assert run.document["hosts"]["lab-hardened"]["identity_check"]["confirmed"] is True
    # both reached one machine: said once, and kept in results.json
    assert [g["hosts"] for g in run.document["same_machine"]] == [["lab-hardened", "sc-drifted"]]
    assert sum(line.startswith("same machine: lab-hardened, sc-drifted") for line in
               run.stdout.splitlines()) == 1, run.stdout[-3000:]


@pytest.mark.parametrize("fault, phrase", [
    ("section_missing:identity", "no 'identity' section"),
    ("section_error:identity", "collecting 'identity' failed"),
    ("section_null:identity", "'identity' section came back empty"),
])
def test_facts_without_an_identity_are_never_judged(tmp_path, fault, phrase):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened", cwh_lab_fault=fault)})
    run = run_audit(tmp_path, inventory, "-m", "guide")
    assert run.exit_code == 6, run.output[-3000:]
    _assert_refused(run, "h", "whose facts these are is unknown", phrase)


def _owning(tmp_path, address: str) -> str:
    """An image of the hardened machine that owns `address`: the lab serves it there, as a
    machine reached without NAT is reached at one of its own addresses."""
    image = tmp_path / f"owns-{address}.yml"
    image.write_text(f"extends: hardened\nidentity: {{ip_addresses: [{address}]}}\n")
    return str(image)


def test_names_addresses_and_the_expected_hostname_that_confirm_the_host(tmp_path):
    own = loopback()
    hosts = {
        "sc-hardened": lab_host("hardened", cwh_expected_hostname=None),       # its name
        "SC-DRIFTED.lab.example": lab_host("drifted", cwh_expected_hostname=None),  # FQDN
        own: lab_host(_owning(tmp_path, own), ansible_host=own,                # its address
                      cwh_expected_hostname=None),
        "web-front": lab_host("drifted", cwh_expected_hostname="sc-drifted"),  # an alias
    }
    run = run_audit(tmp_path, write_inventory(tmp_path, hosts), "-m", "gpo")
    # Nothing refused, but two machines were each judged as two inventory hosts: at most one
    # of each pair was audited, so the run cannot pass (drifted's findings alone would be 1).
    assert run.exit_code == 6, run.output[-3000:]
    assert run.document["host_errors"] == {}
    assert sum("at most one was audited" in line for line in run.stdout.splitlines()) == 2
    for host in hosts:
        check = run.document["hosts"][host]["identity_check"]
        assert check["confirmed"] is True, (host, check)
    compared = {h: run.document["hosts"][h]["identity_check"]["compared"] for h in hosts}
    assert compared["sc-hardened"].startswith("the inventory name sc-hardened matches")
    assert compared[own] == f"the inventory knows it by address only, and {own} is the " \
        "host's own"
    assert compared["web-front"].startswith("cwh_expected_hostname sc-drifted matches")
    assert {tuple(g["hosts"]) for g in run.document["same_machine"]} == {
        tuple(sorted((own, "sc-hardened"))), ("SC-DRIFTED.lab.example", "web-front")}


def test_an_address_only_host_whose_ansible_host_is_another_machine_is_never_judged(tmp_path):
    """The inventory means the server at `meant`; a typo in ansible_host reached the machine
    at `typo`, which owns only that address: one matching address confirmed it (33
    NotAFinding) before."""
    meant, typo = loopback(), loopback()
    inventory = write_inventory(tmp_path, {meant: lab_host(
        _owning(tmp_path, typo), ansible_host=typo, cwh_expected_hostname=None)})
    run = run_audit(tmp_path, inventory, "-m", "stig")
    assert run.exit_code == 6, run.output[-3000:]
    line = _assert_refused(run, meant, "facts that arrived are those of SC-HARDENED",
                           f"{meant} is not among the host's own addresses ({typo})",
                           "set cwh_expected_hostname: SC-HARDENED")
    assert "NAT" in line


def test_what_nothing_confirms_is_refused_with_the_way_out(tmp_path):
    hosts = {
        "10.20.30.99": lab_host("hardened", cwh_expected_hostname=None),  # NAT, not its own
        # Named by its own address but reached through NAT (the loopback address it does not
        # own): any machine behind NAT may own 10.20.30.11, so only the name can tell.
        "10.20.30.11": lab_host("hardened", cwh_expected_hostname=None),
        "sc-hardened": lab_host("hardened", cwh_expected_hostname="SC-DRIFTED"),
        "sc-drifted.other.example": lab_host(
            "domain-joined-drifted.yml", cwh_expected_hostname=None),
    }
    (tmp_path / "domain-joined-drifted.yml").write_text(
        "extends: drifted\nidentity: {domain: corp.example.com, part_of_domain: true}\n")
    run = run_audit(tmp_path, write_inventory(tmp_path, hosts), "-m", "gpo")
    assert run.exit_code == 6, run.output[-3000:]
    assert set(run.document["host_errors"]) == set(hosts)
    assert "by address only (10.20.30.99" in _host_error_lines(run, "10.20.30.99")[0]
    nat = _host_error_lines(run, "10.20.30.11")[0]
    assert "by address only (10.20.30.11, 127." in nat and "NAT" in nat, nat
    assert "set cwh_expected_hostname: SC-HARDENED" in nat
    assert "cwh_expected_hostname SC-DRIFTED is neither" in \
        _host_error_lines(run, "sc-hardened")[0]
    assert "domain other.example, not corp.example.com" in \
        _host_error_lines(run, "sc-drifted.other.example")[0]


@pytest.mark.parametrize("value, message", [
    ("10.20.30.11", "not an address"),
    ("sc 01", "host name"),
    (["SC01"], "host name"),
    ("-sc01", "host name"),
])
def test_a_bad_expected_hostname_stops_the_run_before_anything_connects(tmp_path, value,
                                                                        message):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened",
                                                         cwh_expected_hostname=value)})
    run = run_audit(tmp_path, inventory, "-m", "gpo")
    assert run.exit_code == 4, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and "cwh_expected_hostname" in errors[0], run.output
    assert message in errors[0] and "host h" in errors[0], errors
    assert not (run.report_dir / "lab-requests.jsonl").exists()
