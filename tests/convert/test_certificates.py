"""cwh.convert.certificates: thumbprints listed twice, typing errors, expired certificates."""

from __future__ import annotations

import pytest

from cwh.convert.applicability import read_applicability
from cwh.convert.certificates import certificate_checks
from cwh.convert.result import Refusal
from tests.convert.phrasings import edited, rule, text

ROOT_CA_3 = "D73CA91102A2204A36459ED32213B467D7CE97FB"
ROOT_CA_6 = "D37ECF61C0B4ED88681EF3630C4E2FC787B37AEF"


def run(ct) -> dict:
    read_applicability(ct)
    found = certificate_checks(ct)
    assert found is not None
    assert ct.unread_conditions() == []
    [check] = found.checks
    return check


def test_root_store() -> None:
    check = run(text("WN22-PK-000010"))
    assert (check["store"], check["op"]) == ("Root", "all_present")
    assert len(check["thumbprints"]) == 3 and ROOT_CA_3 in check["thumbprints"]
    assert check["not_after"][ROOT_CA_3] == "2029-12-30"


def test_a_41st_digit_is_the_same_thumbprint() -> None:
    # 2019 V3R1 writes DoD Root CA 6's thumbprint with a 41st digit in the MMC listing.
    assert ROOT_CA_6 + "B" in rule("WN19-PK-000010").check_content
    check = run(text("WN19-PK-000010"))
    assert ROOT_CA_6 in check["thumbprints"] and len(check["thumbprints"]) == 4


def test_listings_that_disagree_are_refused() -> None:
    ct = edited("WN22-PK-000010", "Thumbprint: D73CA91102A2204A36459ED32213B467D7CE97FB\nValid",
                "Thumbprint: D73CA91102A2204A36459ED32213B467D7CE97FC\nValid")
    with pytest.raises(Refusal, match="do not name the same"):
        run(ct)


def test_a_thumbprint_too_short_is_refused() -> None:
    ct = edited("WN22-PK-000030", "9B74964506C7ED9138070D08D5F8B969866560C8",
                "9B74964506C7ED9138070D08D5F8B969866560")
    with pytest.raises(Refusal, match="40 hex"):
        run(ct)


def test_disallowed_store_and_expired_certificates() -> None:
    assert "expired_absent" not in run(text("WN22-PK-000020"))
    check = run(text("WN16-PK-000020"))
    assert check["store"] == "Disallowed"
    assert check["expired_absent"] == "compliant"
    assert check["not_after"] == {"49CBE933151872E17C8EAE7F0ABA97FB610F6477": "2024-11-16"}
