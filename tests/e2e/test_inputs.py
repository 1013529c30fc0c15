"""What a careless or hostile user can write, through the public interface (`pytest
tests_controls` against the lab, `--cwh-doctor`, `python -m cwh.collect`): who counts as an
approved administrator, what an attestation may answer, and bad input, which must stop the run
with one line naming file, host and key (exit 4), contact nothing, and print neither a traceback
nor a secret, even with `--full-trace -l`."""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.e2e.audit_run import REPO, lab_host, lab_machine, run_audit, write_inventory
from tests.faults.corpus import FAST, IMAGES

SECRET = "Kq7+Leak/Me=Not%9"
ACCOUNTS = ("-m", "accounts")
# Assessed a month ago, whatever today is: an attestation counts for a year at most.
ASSESSED = (dt.date.today() - dt.timedelta(days=30)).isoformat()
ATTESTED = {"status": "NotAFinding", "by": "A. Assessor", "date": ASSESSED,
            "note": "AppLocker denies browsers to administrators"}


def _one_error_line(output: str) -> str:
    errors = [line for line in output.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, output[-3000:]
    return errors[0]


# --- item 5: a bare name is the computer's own local account ---------------------------------

@pytest.fixture(scope="module")
def accounts_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("accounts")
    inventory = write_inventory(tmp_path, {  # three machines (each its own network card)
        "clean": lab_machine(tmp_path, "hardened", 1),
        "foreign": lab_machine(tmp_path, str(IMAGES / "foreign-domain-admin.yml"), 2),
        "group": lab_machine(tmp_path, str(IMAGES / "group-named-like-admin.yml"), 3),
    })
    return run_audit(tmp_path, inventory, *ACCOUNTS)


def test_another_domains_account_is_not_approved_by_its_bare_name(accounts_run):
    assert accounts_run.exit_code == 1, accounts_run.output[-3000:]
    record = accounts_run.by_control("foreign")["CWH-ACCT-01"]
    assert record["status"] == "Open", record
    assert record["observed"].startswith("not approved: EVILCORP\\auditor [S-1-5-21-"), record
    assert "approves only the local account" in record["observed"]
    assert "SC-HARDENED\\auditor" not in record["observed"]  # the local one stays approved


def test_a_group_is_judged_as_that_group(accounts_run):
    record = accounts_run.by_control("group")["CWH-ACCT-01"]
    assert record["status"] == "Open", record
    assert record["observed"].startswith("not approved: TRUSTED\\labadmin [S-1-5-21-"), record
    assert "a group" in record["observed"]
    assert "SC-HARDENED\\labadmin" not in record["observed"]  # the local one stays approved


def test_the_local_accounts_pass_and_say_why(accounts_run):
    record = accounts_run.by_control("clean")["CWH-ACCT-01"]
    assert record["status"] == "NotAFinding", record
    for name in ("labadmin", "adm-jdoe", "auditor"):
        assert f"SC-HARDENED\\{name} [S-1-5-21-" in record["observed"]
        assert f"(local account, by name {name})" in record["observed"]


def test_the_bundled_lab_inventory_keeps_its_verdicts_for_the_right_reasons(tmp_path):
    """inventory/lab.yml approves [labadmin, adm-jdoe, auditor] by bare name: the local accounts
    of each lab host, so hardened (whose built-in Administrator is renamed labadmin) passes and
    drifted fails on its built-in account still named Administrator, jdoe and svc-backup."""
    data = yaml.safe_load((REPO / "inventory" / "lab.yml").read_text())
    assert data["all"]["vars"]["cwh_approved_admins"] == ["labadmin", "adm-jdoe", "auditor"]
    hosts = {name: lab_host(host["cwh_lab_image"])
             for name, host in data["all"]["children"]["lab"]["hosts"].items()}
    inventory = write_inventory(tmp_path, hosts, {
        "cwh_approved_admins": data["all"]["vars"]["cwh_approved_admins"]})
    run = run_audit(tmp_path, inventory, *ACCOUNTS)
    hardened = run.by_control("lab-hardened")["CWH-ACCT-01"]
    drifted = run.by_control("lab-drifted")["CWH-ACCT-01"]
    assert hardened["status"] == "NotAFinding", hardened
    assert hardened["observed"].startswith("3 members, all approved")
    assert drifted["status"] == "Open", drifted
    assert drifted["observed"] == (
        "not approved: SC-DRIFTED\\Administrator [S-1-5-21-1004336348-1177238915-682003330-500]; "
        "SC-DRIFTED\\jdoe [S-1-5-21-1004336348-1177238915-682003330-1012]; "
        "SC-DRIFTED\\svc-backup [S-1-5-21-1004336348-1177238915-682003330-1017]")


# --- item 6: an empty list approves nobody --------------------------------------------------

def test_an_empty_approved_list_makes_every_member_a_finding(tmp_path):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")},
                                {"cwh_approved_admins": []})
    run = run_audit(tmp_path, inventory, *ACCOUNTS)
    assert run.exit_code == 1, run.output[-3000:]  # the gate fails: nobody may be an admin
    record = run.by_control("h")["CWH-ACCT-01"]
    assert record["status"] == "Open", record
    assert record["expected"] == "no member (cwh_approved_admins is empty: nobody is approved)"
    for name in ("labadmin", "adm-jdoe", "auditor"):
        assert f"SC-HARDENED\\{name}" in record["observed"]


def test_no_approved_list_at_all_stays_awaiting_review(tmp_path):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    data = yaml.safe_load(inventory.read_text())
    del data["all"]["vars"]["cwh_approved_admins"]
    inventory.write_text(yaml.safe_dump(data))
    run = run_audit(tmp_path, inventory, *ACCOUNTS)
    assert run.exit_code == 0, run.output[-3000:]
    record = run.by_control("h")["CWH-ACCT-01"]
    assert record["status"] == "Not_Reviewed" and not record["error"], record
    assert "no approved administrators declared" in record["reason"]


# --- item 7: attestations ---------------------------------------------------------------------

def test_an_attestation_never_passes_a_host_whose_facts_were_not_collected(tmp_path):
    attested = {"cwh_attestations": {"CWH-ACCT-02": ATTESTED}}
    inventory = write_inventory(tmp_path, {
        "up": lab_host("hardened", **attested),
        "down": lab_host("hardened", cwh_lab_fault="refuse", **FAST, **attested),
        "locked": lab_host("hardened", transport="basic", cwh_lab_password="Other-Pw-4471",
                           **FAST, **attested),
    })
    run = run_audit(tmp_path, inventory, *ACCOUNTS)
    assert run.exit_code == 6, run.output[-3000:]
    assert run.by_control("up")["CWH-ACCT-02"]["status"] == "NotAFinding"
    for host, problem in (("down", "connection refused"), ("locked", "authentication failed")):
        record = run.by_control(host)["CWH-ACCT-02"]
        assert record["status"] == "Not_Reviewed" and record["error"], record
        assert problem in record["reason"], record
        assert f"attestation by A. Assessor (NotAFinding, {ASSESSED}) is not applied" in \
            record["reason"]
        assert any(e["source"].startswith("assessor attestation") for e in record["evidence"])


@pytest.mark.parametrize("change, message", [
    ({"date": "2999-01-01"}, "date 2999-01-01 is in the future"),
    ({"status": "Pass"}, "status must be one of"),
    ({"date": "2026-02-30"}, "date must be a date (YYYY-MM-DD), got '2026-02-30'"),
    ({"expires": "2024-01-01"}, f"expires 2024-01-01 is before its date {ASSESSED}"),
    # the review of issue 10, M1: no date is no "never", and nothing counts for ever
    ({"expires": 0}, "expires must be a date (YYYY-MM-DD), got 0"),
    ({"expires": ""}, "expires must be a date (YYYY-MM-DD), got ''"),
    ({"expires": "9999-12-31"}, f"expires 9999-12-31 is more than a year after its date "
                                f"{ASSESSED}"),
])
def test_a_bad_attestation_stops_the_run_before_any_host_is_contacted(tmp_path, change,
                                                                      message):
    attested = {"cwh_attestations": {"CWH-ACCT-02": {**ATTESTED, **change}}}
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened", **attested)})
    run = run_audit(tmp_path, inventory, *ACCOUNTS)
    assert run.exit_code == 4, run.output[-3000:]
    line = _one_error_line(run.output)
    assert f"inventory {inventory}: host h: cwh_attestations: attestation for CWH-ACCT-02" \
        in line and message in line, line
    assert not (run.report_dir / "lab-requests.jsonl").exists()


def test_an_attestation_for_an_automated_control_stops_the_run(tmp_path):
    """It was accepted and silently ignored (only CWH-ACCT-01/02 apply attestations)."""
    attested = {"cwh_attestations": {"CWH-GPO-01": ATTESTED}}
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened", **attested)})
    run = run_audit(tmp_path, inventory, "-m", "stig")
    assert run.exit_code == 4, run.output[-3000:]
    line = _one_error_line(run.output)
    assert "host h: cwh_attestations: CWH-GPO-01 is an automated control" in line, line
    assert not (run.report_dir / "lab-requests.jsonl").exists()


# --- item 8: bad input is one line, exit 4, nothing contacted, no traceback, no secret --------

BOMB_LEVELS = 10  # 9 ** 10 values: about 3.5 billion once expanded


def _bomb() -> str:
    levels = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, BOMB_LEVELS)]
    return "cwh_approved_admins: [" + ", ".join(levels) + "]"


# (host-variable line or None, extra host line or None, what the one error line must say)
BAD_INVENTORIES = {
    "invalid-date": ("cwh_attestations: {CWH-ACCT-02: {status: NotAFinding, by: A. Assessor, "
                     "date: 2026-02-30}}", None,
                     ("host h: cwh_attestations", "got '2026-02-30'")),
    "integer-host-name": (None, "10: {ansible_host: 127.0.0.1}",
                          ("group lab: hosts: host name 10 is not text", "quote the name")),
    "octal-host-name": (None, "010: {ansible_host: 127.0.0.1}",  # YAML 1.1: the number 8
                        ("group lab: hosts: host name 8 is not text", "quote the name")),
    "integer-variable-name": ("5: five", None,
                              ("host h: variable name 5 is not text", "quote the name")),
    "invalid-date-for-a-number": ("cwh_cert_warn_days: 2026-02-30", None,
                                  ("host h: cwh_cert_warn_days must be a whole number",)),
    "port-with-a-decimal-point": ("ansible_port: 5985.0", None,  # review of issue 10, M1
                                  ("host h: ansible_port must be a whole number, got 5985.0",)),
    "boolean-host-name": (None, "yes: {ansible_host: 127.0.0.1}",
                          ("group lab: hosts: host name True", "(YAML read it as true/false)")),
    "alias-bomb": (_bomb(), None, ("cwh_approved_admins", "alias bomb")),
    "recursive-alias": ("cwh_approved_admins: &r [*r]", None, ("line ", "contains it")),
    "syntax-error-on-the-password-line": (f"ansible_password: {SECRET}: oops", None,
                                          ("not valid YAML (mapping values are not allowed",)),
}


def _bad_inventory(tmp_path: Path, case: str) -> Path:
    """A lab host `h` (a contact would show in lab-requests.jsonl) with one bad line in its
    variables, or one bad host beside it, and a password that must never be printed."""
    host_line, extra_host, _ = BAD_INVENTORIES[case]
    path = write_inventory(tmp_path, {"h": lab_host("hardened", cwh_marking="MARK"),
                                      "placeholder": {}}, {"ansible_password": SECRET})
    lines = []
    for line in path.read_text().splitlines():
        indent = line[:len(line) - len(line.lstrip())]
        if line.strip() == "cwh_marking: MARK":
            line = indent + host_line if host_line else ""
        elif line.strip() == "placeholder: {}":
            line = indent + extra_host if extra_host else ""
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def _limit_memory() -> None:
    # Far more than a run needs (~400 MB of address space), far less than a bomb takes.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _run(tmp_path: Path, entry: str, inventory: Path, *extra: str) -> tuple[int, str, float]:
    report_dir = tmp_path / "reports"
    if entry == "audit":
        command = [sys.executable, "-m", "pytest", "tests_controls", "-p", "no:cacheprovider",
                   "--full-trace", "-l", f"--inventory={inventory}",
                   f"--cwh-report-dir={report_dir}", f"--cwh-lab-dir={tmp_path / 'lab'}",
                   *extra]
    elif entry == "doctor":
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--full-trace",
                   "-l", "--cwh-doctor", f"--inventory={inventory}",
                   f"--cwh-report-dir={report_dir}", f"--cwh-lab-dir={tmp_path / 'lab'}",
                   *extra]
    else:
        command = [sys.executable, "-m", "cwh.collect", f"--inventory={inventory}", *extra]
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=90,
                          preexec_fn=_limit_memory)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def _assert_clean_stop(tmp_path: Path, code: int, output: str, *fragments: str) -> str:
    assert code == 4, output[-3000:]
    for marker in ("Traceback", "INTERNALERROR", SECRET, "Error:"):
        assert marker not in output, (marker, output[-3000:])
    line = _one_error_line(output)
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not (tmp_path / "reports" / "lab-requests.jsonl").exists(), "a host was contacted"
    return line


@pytest.mark.parametrize("entry", ["audit", "doctor", "collect"])
@pytest.mark.parametrize("case", sorted(BAD_INVENTORIES))
def test_bad_inventory_is_one_line_without_traceback_or_secret(tmp_path, case, entry):
    inventory = _bad_inventory(tmp_path, case)
    code, output, seconds = _run(tmp_path, entry, inventory)
    line = _assert_clean_stop(tmp_path, code, output, str(inventory),
                              *BAD_INVENTORIES[case][2])
    assert seconds < 60, (seconds, line)


def _waivers(tmp_path: Path, expires_line: str) -> Path:
    path = tmp_path / "waivers.yml"
    path.write_text("waivers:\n  - control: CWH-GPO-01\n    hosts: [h]\n"
                    "    justification: pending replacement\n    approver: J. Smith (ISSO)\n"
                    f"    {expires_line}\n")
    return path


@pytest.mark.parametrize("entry", ["audit", "doctor"])
@pytest.mark.parametrize("expires, fragment", [
    ("expires: 2026-02-30", "expires must be a date (YYYY-MM-DD), got '2026-02-30'"),
    ("expires: 20270331", "expires must be a date (YYYY-MM-DD), got 20270331"),
    ("expires: &e [*e]", "contains it"),
])
def test_bad_waiver_file_is_one_line_without_traceback(tmp_path, entry, expires, fragment):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")},
                                {"ansible_password": SECRET})
    path = _waivers(tmp_path, expires)
    code, output, _ = _run(tmp_path, entry, inventory, f"--waivers={path}")
    _assert_clean_stop(tmp_path, code, output, f"waivers {path}", fragment)


def test_the_attestation_date_is_today_at_the_latest(tmp_path):
    """Today is accepted (the boundary of the future-date rule)."""
    today = dt.date.today().isoformat()
    attested = {"cwh_attestations": {"CWH-ACCT-02": {**ATTESTED, "date": today}}}
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened", **attested)})
    run = run_audit(tmp_path, inventory, *ACCOUNTS)
    assert run.exit_code == 0, run.output[-3000:]
    assert run.by_control("h")["CWH-ACCT-02"]["status"] == "NotAFinding"
