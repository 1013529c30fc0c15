"""What the bundled lab is expected to answer: the organization-defined STIG values its inventory
declares, and the STIG rules a bundled image answers otherwise than its name promises, each with
why.

`hardened` is NotAFinding and `drifted` Open on every automated rule that applies to their
role, except these: a real host of the image could not be otherwise (a bound every release
meets), or DISA itself calls the image's compliant state Not_Applicable. This is the one list
the lab's tests (tests/stig/test_system_lab.py, tests/stig/test_policy_lab.py) and the bench
(bench/fleet.py KNOWN_DEVIATIONS) read; docs/lab-images.md explains it. An image keeps no
finding "on purpose": a rule the image could meet is met.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cwh.catalog.stig_inputs import INPUTS
from cwh.judge.verdict import Status

LAB_INVENTORY = Path(__file__).resolve().parents[2] / "inventory" / "lab.yml"


@dataclass(frozen=True)
class Exemption:
    image: str  # the bundled image (cwh/lab/images/<image>.yml)
    stig_id: str
    status: Status  # the verdict the rule has on that image
    why: str  # one line: why no host of the image could have the other verdict
    reason_has: str = ""  # a part of the verdict's own reason that shows it is this why


EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption("drifted", "WN19-00-000100", Status.NOT_A_FINDING,
              "every Windows Server 2019 release is build 17763, the rule's own bound: no 2019 "
              "host can be Open on the supported servicing level"),
    Exemption("hardened", "WN22-00-000040", Status.NOT_APPLICABLE,
              "Backup Operators is empty, as setup leaves it, and DISA makes an empty group NA",
              "has no members"),
    Exemption("hardened", "WN22-00-000380", Status.NOT_APPLICABLE,
              "SMB1 is switched off on client and server instead of FS-SMB1 being removed, "
              "which DISA accepts: the removal rule is then NA"),
)


def exemption(image: str, stig_id: str) -> Exemption | None:
    return next((e for e in EXEMPTIONS if (e.image, e.stig_id) == (image, stig_id)), None)


def exempted(image: str) -> dict[str, Exemption]:
    """The image's exemptions by STIG ID."""
    return {e.stig_id: e for e in EXEMPTIONS if e.image == image}


def lab_stig_inputs(path: Path = LAB_INVENTORY) -> dict[str, Any]:
    """The STIG inputs the bundled lab inventory declares (every level, the group's over all's),
    for the tests and the bench that build lab inventories of their own."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: dict[str, Any] = {}

    def visit(group: dict[str, Any]) -> None:
        found.update({k: v for k, v in (group.get("vars") or {}).items() if k in INPUTS})
        for child in (group.get("children") or {}).values():
            visit(child or {})

    visit(data["all"])
    return found
