"""Judgement: catalog control + host facts (+ runner probes) -> Verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import HostFacts
from cwh.judge.accounts import judge_internet_use, judge_separate_admin_accounts
from cwh.judge.policy import judge_policy
from cwh.judge.verdict import Verdict

Judge = Callable[[Control, HostFacts, Mapping[str, Any]], Verdict]

# Controls whose check is not made of catalog conditions name a judge by `method`.
JUDGES: dict[str, Judge] = {
    "local_admins": judge_separate_admin_accounts,
    "internet_apps": judge_internet_use,
}


def judge(control: Control, facts: HostFacts, inputs: Mapping[str, Any]) -> Verdict:
    if control.handler == "policy":
        return judge_policy(control, facts, inputs)
    method = control.check.get("method") if isinstance(control.check, Mapping) else None
    if method not in JUDGES:
        raise LookupError(f"{control.id}: no judge for method {method!r}")
    return JUDGES[method](control, facts, inputs)
