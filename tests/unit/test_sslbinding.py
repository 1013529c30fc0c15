"""CWH-WEB-05's host view: the http.sys binding read from the registry (locale-independent) and
corroborated by netsh, through the lab's answer to the collector (issue 10, item 13)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from cwh import certs
from cwh.catalog.model import load_catalog
from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for
from cwh.judge.sslbinding import binding_part
from cwh.lab.emulator import Context, encode_document, run_collector
from cwh.lab.image import Image, load_image

CATALOG = load_catalog()
WEB = certs.issue(["127.0.0.1", "sc-hardened"])
GERMAN = ("\r\nSSL-Zertifikatbindungen:\r\n------------------------\r\n\r\n"
          "    IP:Port                      : 0.0.0.0:8040\r\n"
          "    Zertifikathash               : 0123456789abcdef0123456789abcdef01234567\r\n\r\n")
OTHER_HASH = "99" * 20


def facts_with(**http_sslcert: Any) -> HostFacts:
    base = load_image("hardened")
    data = copy.deepcopy(base.data)
    data["http_sslcert"] = {**data["http_sslcert"], **http_sslcert}
    request = request_for(CATALOG.controls).to_json()
    document = run_collector(Image(base.name, base.path, data), json.loads(request),
                             Context({"web": WEB}))
    return HostFacts("h", parse_output(encode_document(document), b"", 0))


def binding(**changes: Any) -> list[dict]:
    return [{"endpoint": "0.0.0.0:8040", "certificate": "web", **changes}]


def test_current_build_netsh_and_registry_agree_and_pass() -> None:
    facts = facts_with()
    assert "Extended Properties:" in facts.document["sections"]["http_sslcert"]["data"]["output"]
    outcome = binding_part(facts, 8040, WEB.sha1_hex())
    assert outcome.passed is True, outcome.observed
    assert outcome.observed == f"0.0.0.0:8040 -> {WEB.sha1_hex()}"


def test_localized_netsh_leaves_the_registry_to_decide() -> None:
    outcome = binding_part(facts_with(output=GERMAN), 8040, None)
    assert outcome.passed is True
    assert "registry only, no corroboration (netsh output not understood" in outcome.observed
    assert "SSL-Zertifikatbindungen" in outcome.observed


def test_unreadable_registry_leaves_netsh_to_decide() -> None:
    outcome = binding_part(facts_with(registry_error="Requested registry access is not "
                                                     "allowed."), 8040, None)
    assert outcome.passed is True
    assert "netsh only, no corroboration (reading the registry failed: Requested" in \
        outcome.observed


def test_neither_source_is_not_reviewed() -> None:
    outcome = binding_part(facts_with(registry_error="Access is denied.", output=GERMAN),
                           8040, None)
    assert outcome.passed is None
    assert "no source of http.sys bindings could be read" in outcome.unknown_reason


@pytest.mark.parametrize(("changes", "why"), [
    ({"registry_cert_hash": OTHER_HASH}, f"registry: 0.0.0.0:8040 -> {OTHER_HASH}"),
    ({"in_netsh": False}, "netsh: no binding"),
    ({"in_registry": False}, "registry: no binding"),
])
def test_sources_that_disagree_are_never_a_pass(changes: dict, why: str) -> None:
    outcome = binding_part(facts_with(bindings=binding(**changes)), 8040, None)
    assert outcome.passed is None
    assert "the registry and netsh disagree about port 8040" in outcome.unknown_reason
    assert why in outcome.unknown_reason


def test_a_garbled_registry_binding_is_never_set_aside() -> None:
    garbled = {"SslCertHash": {"kind": "String", "value": WEB.sha1_hex()}}
    outcome = binding_part(facts_with(bindings=binding(registry_values=garbled)), 8040, None)
    assert outcome.passed is None
    assert "the registry answer is garbled: SslCertHash of 0.0.0.0:8040 is String" in \
        outcome.unknown_reason


def test_no_binding_in_either_source_is_open() -> None:
    outcome = binding_part(facts_with(bindings=[]), 8040, None)
    assert outcome.passed is False and outcome.observed == "no binding for port 8040"


def test_a_bound_certificate_missing_from_the_store_is_open() -> None:
    outcome = binding_part(facts_with(bindings=binding(certificate=None,
                                                       cert_hash=OTHER_HASH)), 8040, None)
    assert outcome.passed is False and "(not in LocalMachine\\My)" in outcome.observed
