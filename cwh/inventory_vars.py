"""The suite's own inventory variables (`cwh_*`): each with the check its value must pass.

Unknown `cwh_` keys are errors (with the closest known name), so a typo stops the run before
anything connects; the STIG rules' organization-defined values (cwh/catalog/stig_inputs.py) and
the products' (cwh/catalog/product_inputs.py) are checked by their declared types.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from cwh.catalog.product_inputs import PRODUCT_INPUTS
from cwh.catalog.stig_inputs import INPUTS as STIG_INPUTS
from cwh.errors import ConfigError
from cwh.identity import expected_hostname_problem

# cwh_access: how the suite reaches a host. "network" hosts have no WinRM connection at all.
WINRM_ACCESS, NETWORK_ACCESS = "winrm", "network"

def _int_range(low: int, high: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if value < low or (high is not None and value > high):
            return f"must be between {low} and {high}" if high else f"must be at least {low}"
        return None
    return check


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _string_list(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return None
    return "must be a list of non-empty strings"


def _regex(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be a regular expression string"
    try:
        re.compile(value)
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    return None


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be a mapping"


def _port_map(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must map a port to the port the runner should connect to, e.g. {445: 10445}"
    for k, v in value.items():
        if _int_range(1, 65535)(k) or _int_range(1, 65535)(v):
            return f"has an invalid entry {k!r}: {v!r} (ports are 1..65535)"
    return None


def _url(value: Any) -> str | None:
    if not isinstance(value, str) or urlparse(value).scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    return None


def _choice(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


# Every cwh_ variable the suite understands, with its check. Unknown cwh_ keys are errors.
SUITE_VARS: dict[str, Callable[[Any], str | None]] = {
    "cwh_min_password_length": _int_range(1, 128),
    "cwh_approved_admins": _string_list,
    "cwh_admin_name_pattern": _regex,
    "cwh_guide_only": _string_list,
    "cwh_attestations": _mapping,
    "cwh_access": _choice(WINRM_ACCESS, NETWORK_ACCESS),
    "cwh_web_url": _url,
    "cwh_relay_port": _int_range(1, 65535),
    "cwh_probe_address": _string,
    "cwh_port_map": _port_map,
    "cwh_ca_bundle": _string,
    "cwh_tls_front_end": _bool,
    "cwh_cert_warn_days": _int_range(0, 3650),
    "cwh_command_timeout_sec": _int_range(1, 3600),
    "cwh_probe_timeout_sec": _int_range(1, 120),
    "cwh_expected_hostname": expected_hostname_problem,
    "cwh_role": _choice("None", "Workstation", "Member Server", "Domain Controller"),
    "cwh_marking": _string,
    "cwh_lab_image": _string,
    "cwh_lab_latency_ms": _int_range(0, 60000),
    "cwh_lab_chunk_bytes": _int_range(64),
    "cwh_lab_fault": _string,
    "cwh_lab_password": _string,  # the password the lab host accepts (default: ansible_password)
    "cwh_lab_port_map": _port_map,  # where the lab serves the image's ports (default cwh_port_map)
}


def _string_or_list(value: Any) -> str | None:
    return None if _string(value) is None or _string_list(value) is None else \
        "must be a non-empty string or a list of them"


def _right_exceptions(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.startswith("Se")
                                              for k in value):
        return "must map user right constants (SeNetworkLogonRight, ...) to principals"
    bad = next((k for k, v in value.items() if _string_list(v)), None)
    return f"has {bad}: not a list of principals" if bad else None


# The STIG rules' organization-defined values (docs/stig-rules.md), checked by their type.
_STIG_INPUT_CHECKS = {"bool": _bool, "string": _string, "list of strings": _string_list,
                      "list of principals": _string_list, "mapping": _right_exceptions}
for _name, _spec in STIG_INPUTS.items():
    SUITE_VARS.setdefault(_name, _STIG_INPUT_CHECKS.get(_spec.type, _string_or_list))
# Roles and the Automate controls' inputs (cwh/catalog/product_inputs.py).
SUITE_VARS.update(PRODUCT_INPUTS)

# Suite variables that hold secrets: resolved from the environment like ansible_password and
# never handed to judges or reports.
SECRET_VARS = ("cwh_lab_password",)

def check_suite_vars(where: str, hv: dict, known_controls: set[str] | None) -> None:
    """Every cwh_ variable of one host (`where` names the file and host) known and valid, and
    the controls named by cwh_guide_only and cwh_attestations known (when `known_controls` is
    given); ConfigError otherwise."""
    for key, value in hv.items():
        if not key.startswith("cwh_"):
            continue
        check = SUITE_VARS.get(key)
        if check is None:
            close = difflib.get_close_matches(key, SUITE_VARS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(f"{where}: unknown suite variable {key}{hint}")
        problem = check(value)
        if problem:
            raise ConfigError(f"{where}: {key} {problem}")
    if known_controls is None:
        return
    for key in ("cwh_guide_only", "cwh_attestations"):
        for control in hv.get(key) or ():
            if control not in known_controls:
                raise ConfigError(f"{where}: {key} names unknown control {control}")
