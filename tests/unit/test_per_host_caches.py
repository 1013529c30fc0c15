"""What a fleet run computes once per host or per record instead of once per test (issue 11
item 10) must give exactly what computing it each time gives: the same answers, the same
contradictions, the same texts at either field limit."""

from __future__ import annotations

import uuid

import pytest

from cwh.collect.facts import FactUnavailable
from cwh.report.checklist import (
    _NAMESPACE,
    FIELD_LIMIT,
    _evidence_text,
    evidence_text,
    forget_evidence_texts,
    stable_uuid,
)
from tests.stig.policy_facts import facts, judge, reg, registry
from tests.stig.test_policy_audit import SUCCESS, audit, backup, report

KEY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\System"


def test_registry_lookups_are_case_insensitive_and_keep_contradictions():
    host = facts(registry=registry(reg(KEY, "EnableSmartScreen", "DWord", 1),
                                   reg(KEY.lower(), "enablesmartscreen", "DWord", 2),
                                   reg(KEY, "ShellSmartScreenLevel", "String", "Block")))
    assert host.registry(KEY.upper(), "SHELLSMARTSCREENLEVEL").value == "Block"
    try:
        host.registry(KEY, "EnableSmartScreen")
    except FactUnavailable as exc:
        assert "contradictory" in str(exc)
    else:
        raise AssertionError("two different answers for one value were trusted")


def test_a_changed_registry_section_is_indexed_again():
    host = facts(registry=registry(reg(KEY, "A", "DWord", 1)))
    assert host.registry(KEY, "A").value == 1
    host.document["sections"]["registry"]["data"]["values"].append(reg(KEY, "B", "DWord", 2))
    assert host.registry(KEY, "B").value == 2
    host.document["sections"]["registry"]["data"]["values"] = [reg(KEY, "A", "DWord", 5)]
    assert host.registry(KEY, "A").value == 5


def test_each_hosts_auditpol_text_gives_its_own_verdict():
    compliant = audit(report("Success"), backup(1, "Success"))
    finding = audit(report("No Auditing"), backup(0, "No Auditing"))
    for _ in range(2):  # the second time from the parsed cache
        assert judge(SUCCESS, compliant).passed is True
        assert judge(SUCCESS, finding).passed is False
    garbled = audit({"command": "auditpol", "error": None, "text": ["not", "text"]},
                    backup(1, "Success"))
    assert judge(SUCCESS, garbled).passed is True  # the backup's number alone; no crash


def _record(observed: str) -> dict:
    return {"control_id": "CWH-X-01", "title": "t", "status": "Open", "observed": observed,
            "host": "h", "evidence": [{"source": "s", "observed": observed}]}


def test_one_evidence_text_serves_both_limits_only_when_no_field_is_cut():
    forget_evidence_texts()
    short, between = _record("x" * 100), _record("y" * (FIELD_LIMIT - 10))
    smaller = FIELD_LIMIT - 20
    for record in (short, between):
        full = evidence_text(record)  # cached at FIELD_LIMIT
        assert evidence_text(record) is full
        assert evidence_text(record, smaller) == _evidence_text(record, smaller)[0]
    assert evidence_text(short, smaller) == evidence_text(short)
    assert evidence_text(between, smaller) != evidence_text(between)  # cut at the smaller one
    forget_evidence_texts()
    assert evidence_text(between, smaller) != evidence_text(between)  # cached the other way
    forget_evidence_texts()


def test_stable_ids_are_uuid5():
    for parts in [("h",), ("lab-hardened", "Windows_Server_2019_STIG", "V-205625"),
                  ("ünïcode", "€", "\U0001f600"), ("", "")]:
        assert stable_uuid(*parts) == str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def test_an_entry_answered_twice_alike_is_one_and_differently_is_never_trusted():
    from cwh.collect.facts import FactUnavailable, unique_entries

    assert unique_entries([("a", "A", 1), ("a", "a", 1), ("b", "B", 2)], "the thing") == \
        {"a": 1, "b": 2}
    with pytest.raises(FactUnavailable, match="the service 'W32TIME' is answered twice"):
        unique_entries([("w32time", "W32Time", [{"state": "Running"}]),
                        ("w32time", "W32TIME", [{"state": "Stopped"}])], "the service")
