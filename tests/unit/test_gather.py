"""The gatherer hands out each host's facts once, and never leaves a test waiting forever."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from cwh.collect.request import FactRequest
from cwh.gather import Gatherer
from cwh.inventory import ConnectionSettings, Target


def _refusing_target(name: str) -> Target:
    with socket.socket() as probe:  # a port nothing listens on: connects are refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = ConnectionSettings(name=name, address="127.0.0.1", port=port, scheme="http",
                                  transport="ntlm", user="auditor", password="x",
                                  read_timeout_sec=3, operation_timeout_sec=2,
                                  command_timeout_sec=5)
    return Target(name, (), settings, {})


def _facts_within(gatherer: Gatherer, name: str, seconds: float):
    result: list = []
    reader = threading.Thread(target=lambda: result.append(gatherer.facts(name)), daemon=True)
    reader.start()
    reader.join(seconds)
    assert result, f"facts({name!r}) still waiting after {seconds} s"
    return result[0]


def test_a_missing_share_directory_gathers_locally_instead_of_hanging(tmp_path: Path):
    """A remote xdist worker cannot see the controller's share directory."""
    target = _refusing_target("far")
    gatherer = Gatherer([target], {"far": FactRequest()}, {}, share_dir=tmp_path / "gone")
    gatherer.start()
    try:
        facts = _facts_within(gatherer, "far", 20)
    finally:
        gatherer.close()
    assert facts.document is None and "far" in facts.error


def test_workers_sharing_a_directory_gather_a_host_once(tmp_path: Path):
    target = _refusing_target("one")
    first = Gatherer([target], {"one": FactRequest()}, {}, share_dir=tmp_path)
    second = Gatherer([target], {"one": FactRequest()}, {}, share_dir=tmp_path)
    first.start()
    second.start()
    try:
        facts = [_facts_within(g, "one", 20) for g in (first, second)]
    finally:
        first.close()
        second.close()
    claims = list(tmp_path.glob("*.claim"))
    assert len(claims) == 1
    assert facts[0].error == facts[1].error and facts[0].error


def test_waiting_ends_at_once_when_the_share_is_gone(tmp_path: Path):
    """Another worker claimed the host, then the share went away: nobody will publish."""
    share = tmp_path / "share"
    share.mkdir()
    target = _refusing_target("orphan")
    (share / f"{b'orphan'.hex()}.claim").touch()  # the dead worker's claim
    gatherer = Gatherer([target], {"orphan": FactRequest()}, {}, share_dir=share)
    gatherer.start()
    try:
        assert gatherer._hosts["orphan"].decided.wait(5)  # it saw the claim: not its host
        (share / f"{b'orphan'.hex()}.claim").unlink()
        share.rmdir()  # the controller cleaned up: nobody will ever publish
        facts = _facts_within(gatherer, "orphan", 10)
    finally:
        gatherer.close()
    assert facts.document is None and "did not finish" in facts.error


def test_a_claimer_that_died_costs_one_timeout_counted_from_its_claim(tmp_path: Path):
    """The deadline runs from when the other worker claimed the host, not from when a test
    asks: a worker that died long ago is not waited for again, test after test."""
    share = tmp_path / "share"
    share.mkdir()
    target = _refusing_target("ghost")  # command_timeout_sec 5: deadline = claim + 125 s
    claim = share / f"{b'ghost'.hex()}.claim"
    claim.touch()
    long_ago = time.time() - 3600
    os.utime(claim, (long_ago, long_ago))
    gatherer = Gatherer([target], {"ghost": FactRequest()}, {}, share_dir=share)
    gatherer.start()
    try:
        facts = _facts_within(gatherer, "ghost", 10)
    finally:
        gatherer.close()
    assert facts.document is None and "did not finish" in facts.error
    assert claim.exists()  # it never gathered the host itself
