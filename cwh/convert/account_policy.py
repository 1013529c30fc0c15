"""Account policies and the security options secedit exports ([System Access], [Kerberos
Policy]), read from the Group Policy wording ("If the "Account lockout threshold" is "0" or more
than "3" attempts") and, where DISA gives it, the secedit wording ("If "LockoutBadCount" equals
"0" or is greater than "3" in the file"). Both readings must give the same requirement."""

from __future__ import annotations

import re
from typing import Any

from cwh.convert.result import Check, Recognised, Refusal
from cwh.convert.text import CheckText

SA, KP = "System Access", "Kerberos Policy"
# Group Policy display name -> (section, key, unit). Microsoft's names ([MS-GPSB] 2.2.1, 2.2.2);
# the unit is the one secedit stores (Kerberos: service ticket and skew in minutes, user ticket
# in hours, renewal in days).
SETTINGS = {
    "account lockout duration": (SA, "LockoutDuration", "minutes"),
    "account lockout threshold": (SA, "LockoutBadCount", "attempts"),
    "reset account lockout counter after": (SA, "ResetLockoutCount", "minutes"),
    "enforce password history": (SA, "PasswordHistorySize", "passwords remembered"),
    "maximum password age": (SA, "MaximumPasswordAge", "days"),
    "minimum password age": (SA, "MinimumPasswordAge", "days"),
    "minimum password length": (SA, "MinimumPasswordLength", "characters"),
    "password must meet complexity requirements": (SA, "PasswordComplexity", None),
    "store passwords using reversible encryption": (SA, "ClearTextPassword", None),
    "accounts: guest account status": (SA, "EnableGuestAccount", None),
    "accounts: rename administrator account": (SA, "NewAdministratorName", None),
    "accounts: rename guest account": (SA, "NewGuestName", None),
    "network access: allow anonymous sid/name translation": (SA, "LSAAnonymousNameLookup", None),
    "enforce user logon restrictions": (KP, "TicketValidateClient", None),
    "maximum lifetime for service ticket": (KP, "MaxServiceAge", "minutes"),
    "maximum lifetime for user ticket": (KP, "MaxTicketAge", "hours"),
    "maximum lifetime for user ticket renewal": (KP, "MaxRenewAge", "days"),
    "maximum tolerance for computer clock synchronization": (KP, "MaxClockSkew", "minutes"),
}
_KEYS = {key.lower(): (section, key) for section, key, _ in SETTINGS.values()}
# Where the policy's 0 means "forever", secedit's export writes -1, not 0 (SaltStack's win_lgpo
# tests set "Account lockout duration" to 0 on Windows and read back "LockoutDuration = -1";
# setup scripts write "MaximumPasswordAge = -1" for passwords that never expire). DISA's "0" is
# that -1: allowed where DISA allows the 0, a finding wherever the 0 is one.
_FOREVER_IS_MINUS_ONE = {"LockoutDuration", "MaximumPasswordAge"}
_ENABLED = {"enabled": 1, "disabled": 0}

_N = r'"(?P<n>\d+)"'
_UNIT = r'(?: (?P<unit>minutes|attempts|passwords remembered|days|characters|hours))?'
# (op builder, GUI pattern): the GUI sentence names the setting in quotes.
_SETTING = r'(?:the (?:value for )?(?:the )?)?"(?P<name>[^"]+?),?"(?: value)?,?'
_GUI = (
    (re.compile(rf'^If {_SETTING} is less than {_N}{_UNIT} \(excluding "0"\), this is a '
                r'finding\.$', re.I), lambda n: {"op": "at_least", "value": n, "also": [0]}),
    (re.compile(rf'^If {_SETTING} is "0" or (?:more|greater) than {_N}{_UNIT}, this is a '
                r'finding\.$', re.I), lambda n: {"op": "range", "min": 1, "max": n}),
    (re.compile(rf'^If {_SETTING} is less than {_N}{_UNIT}, this is a finding\.$', re.I),
     lambda n: {"op": "at_least", "value": n}),
    (re.compile(rf'^If {_SETTING} is greater than {_N}{_UNIT}, this is a finding\.$', re.I),
     lambda n: {"op": "at_most", "value": n}),
    (re.compile(rf'^If {_SETTING} is set to "0" days \("Password can be changed immediately"\), '
                r'this is a finding\.$', re.I), lambda n: {"op": "at_least", "value": 1}),
    (re.compile(rf'^If {_SETTING} is not set to "(?P<state>Enabled|Disabled)", this is a '
                r'finding\.$', re.I), None),
    (re.compile(rf'^If {_SETTING} is not set to a value other than "(?P<other>[^"]+)", this is a '
                r'finding\.$', re.I), None),
)
_ZERO_TOO = re.compile(r'^If the value is set to "0" \(never expires\), this is a finding\.$',
                       re.I)
_RESTRICTIVE_ZERO = re.compile(r'^Configuring this to "0", requiring an administrator to unlock '
                               r'the account, is more restrictive and is not a finding\.$', re.I)

_KEY = r'"(?P<key>\w+)"'
_FILE = (
    (re.compile(rf'^If {_KEY} is less than {_N} \(excluding "0"\) in the file, this is a '
                r'finding\.$', re.I), lambda n: {"op": "at_least", "value": n, "also": [0]}),
    (re.compile(rf'^If {_KEY} equals "0" or is greater than {_N} in the file, this is a '
                r'finding\.$', re.I), lambda n: {"op": "range", "min": 1, "max": n}),
    (re.compile(rf'^If {_KEY} is greater than {_N} or equal to "0" in the file, this is a '
                r'finding\.$', re.I), lambda n: {"op": "range", "min": 1, "max": n}),
    (re.compile(rf'^If {_KEY} is less than {_N} in the file, this is a finding\.$', re.I),
     lambda n: {"op": "at_least", "value": n}),
    (re.compile(rf'^If {_KEY} equals "(?P<bad>[01])" in the file, this is a finding\.$', re.I),
     None),
    (re.compile(rf'^If {_KEY} is not something other than "(?P<other>[^"]+)" in the file, this is '
                r'a finding\.$', re.I), None),
)


def _gui_requirement(match: re.Match[str], build: Any) -> dict[str, Any]:
    groups = match.groupdict()
    if build is not None:
        return build(int(groups["n"]) if groups.get("n") else None)
    if groups.get("state"):
        return {"op": "equals", "value": _ENABLED[groups["state"].lower()]}
    return {"op": "none_of", "values": [groups["other"]], "case": "insensitive"}


def _file_requirement(match: re.Match[str], build: Any, gui: dict[str, Any] | None) -> \
        dict[str, Any]:
    groups = match.groupdict()
    if build is not None:
        return build(int(groups["n"]))
    if groups.get("other"):
        return {"op": "none_of", "values": [groups["other"]], "case": "insensitive"}
    bad = int(groups["bad"])
    if gui is not None and gui.get("op") == "equals" and gui["value"] == 1 - bad:
        return gui  # "equals 0 is a finding" with "not set to Enabled": the setting must be 1
    if gui == {"op": "at_least", "value": 1} and bad == 0:
        return gui  # "equals 0 is a finding" with "set to 0 days is a finding"
    if gui is None:
        raise Refusal("a secedit value that must not be one value, without the policy's name")
    raise Refusal("the policy's name and the secedit value state different requirements")


def _read(ct: CheckText, patterns: tuple[tuple[re.Pattern[str], Any], ...]) -> list[
        tuple[int, re.Match[str], Any]]:
    found = []
    for pattern, build in patterns:
        for index, match in ct.find(pattern):
            found.append((index, match, build))
    return found


def account_policy_checks(ct: CheckText) -> Recognised | None:
    """The secedit setting a rule requires, or None when the text names none."""
    gui = [(i, m, b) for i, m, b in _read(ct, _GUI) if m.group("name").lower() in SETTINGS]
    files = [(i, m, b) for i, m, b in _read(ct, _FILE) if m.group("key").lower() in _KEYS]
    if not gui and not files:
        return None
    if len(gui) > 1 or len(files) > 1:
        raise Refusal("more than one account policy statement")
    requirement: dict[str, Any] | None = None
    section = key = None
    if gui:
        index, match, build = gui[0]
        section, key, unit = SETTINGS[match.group("name").lower()]
        if match.groupdict().get("unit") and unit != match.group("unit").lower():
            raise Refusal("the policy's unit is not the one secedit stores")
        requirement = _gui_requirement(match, build)
        ct.take(index)
        if ct.first(_ZERO_TOO):
            if requirement["op"] != "at_most":
                raise Refusal("'0 is a finding' on a requirement that is not a maximum")
            requirement = {"op": "range", "min": 1, "max": requirement["value"]}
            ct.take_all(_ZERO_TOO)
    if files:
        index, match, build = files[0]
        file_section, file_key = _KEYS[match.group("key").lower()]
        if key is not None and file_key != key:
            raise Refusal("the policy's name and the secedit key do not match")
        section, key = file_section, file_key
        from_file = _file_requirement(match, build, requirement)
        if requirement is not None and from_file != requirement:
            raise Refusal("the policy's name and the secedit value state different requirements")
        requirement = from_file
        ct.take(index)
    if ct.take_all(_RESTRICTIVE_ZERO) and 0 not in (requirement or {}).get("also", []):
        raise Refusal("'0 is more restrictive' on a requirement that does not allow 0")
    assert requirement is not None and section is not None
    if key in _FOREVER_IS_MINUS_ONE:
        if requirement["op"] == "at_most":
            raise Refusal("a maximum on a setting whose 'forever' secedit writes as -1")
        if 0 in requirement.get("also", []):
            requirement["also"] = sorted({*requirement["also"], -1})
    check: Check = {"kind": "account_policy", "section": section, "key": key, **requirement}
    return Recognised(checks=[check])
