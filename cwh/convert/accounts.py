"""Accounts and groups of the host's own account database (the local SAM on member servers and
standalone systems, the domain on a domain controller): password age, password required and
expiring, inactivity, smart cards, and who may be in Administrators and Backup Operators.

DISA's text gives a PowerShell query per role; each recogniser matches the conditions (the
numbers included) and the exclusions, which must be exactly the ones it knows."""

from __future__ import annotations

import re
from typing import Any

from cwh.convert.result import Check, Recognised, Refusal
from cwh.convert.text import CheckText

_I = re.I
APPLICATION_ACCOUNTS = "cwh_application_accounts"
_ROLE_HEADINGS = re.compile(r"^(?:Domain controllers|Member servers and standalone or "
                            r"nondomain-joined systems):$", _I)


def _accounts(where: dict[str, Any], require: dict[str, Any], if_none: str,
              exclude: list[dict[str, Any]] | None = None) -> Check:
    check: Check = {"kind": "accounts", "where": where, "require": require, "if_none": if_none}
    if exclude:
        check["exclude"] = exclude
    return check


def _take_headings(ct: CheckText) -> None:
    ct.take_all(_ROLE_HEADINGS)


_BUILTIN_ADMIN_QUERY = re.compile(r'Where SID -Like "\*-500"', _I)
_AGE = re.compile(r'^If the "Password ?Last ?Set" date is (?:greater|more) than "?(\d+)"? days '
                  r"old, this is a finding\.$", _I)
_AGE_YEAR = re.compile(r'^If the "Password ?Last ?Set" date is more than one year old, this is a '
                       r"finding\.$", _I)


def _ages(ct: CheckText) -> set[int]:
    ages = set()
    for index, match in list(ct.find(_AGE)):
        ages.add(int(match.group(1)))
        ct.take(index)
    return ages


def builtin_admin_password_checks(ct: CheckText) -> Recognised | None:
    """The built-in Administrator (RID 500): password changed within N days."""
    if not ct.has(_BUILTIN_ADMIN_QUERY.pattern) or not ct.has(r"where \[account name\] is the "
                                                               r"name of the built-in"):
        return None
    ages = _ages(ct)
    if len(ages) != 1:
        raise Refusal("the built-in Administrator's password age is not one number")
    ct.take_all(r"^Review the password last set date for the built-in Administrator account\.$")
    _take_headings(ct)
    return Recognised(checks=[_accounts({"rid": 500}, {"property": "password_age_days",
                                                       "op": "at_most", "value": ages.pop()},
                                        "finding")])


def krbtgt_password_checks(ct: CheckText) -> Recognised | None:
    if not ct.has(r'^Enter "Get-ADUser krbtgt -Property PasswordLastSet"\.$'):
        return None
    ages = _ages(ct)
    if len(ages) != 1:
        raise Refusal("the krbtgt password age is not one number")
    return Recognised(checks=[_accounts({"rid": 502}, {"property": "password_age_days",
                                                       "op": "at_most", "value": ages.pop()},
                                        "finding")])


_APP_ACCOUNTS_NA = re.compile(r"^Determine if manually managed application/service accounts "
                              r"exist\. If none exist, this is NA\.$", _I)
_APP_ACCOUNTS_YEAR = re.compile(r"^If passwords for manually managed application/service accounts "
                                r"are not changed at least annually or when an administrator with "
                                r"knowledge of the password leaves the organization, this is a "
                                r"finding\.$", _I)


def application_password_checks(ct: CheckText) -> Recognised | None:
    """Manually managed application accounts (named by the organization): changed yearly.
    Whether a password changed when an administrator left cannot be seen; the age can."""
    if not ct.first(_APP_ACCOUNTS_YEAR) or not ct.first(_APP_ACCOUNTS_NA):
        return None
    if ct.take_all(_AGE_YEAR) != 2:
        raise Refusal("application account password age without both role queries")
    ct.take_all(_APP_ACCOUNTS_YEAR)
    ct.take_all(_APP_ACCOUNTS_NA)
    _take_headings(ct)
    return Recognised(checks=[_accounts({"names_input": APPLICATION_ACCOUNTS},
                                        {"property": "password_age_days", "op": "at_most",
                                         "value": 365}, "not_applicable")],
                      inputs={APPLICATION_ACCOUNTS})


_REQUIRED_DC = re.compile(r'^If "Passwordnotrequired" is "True" or blank for any enabled user '
                          r"account, this is a finding\.$", _I)
_REQUIRED_MS = re.compile(r'^If any enabled user accounts are returned with a "PasswordRequired" '
                          r'status of "False", this is a finding\.$', _I)
_EXCLUDE_DISABLED = re.compile(r"^Exclude disabled accounts \(e\.g\., DefaultAccount, Guest\)"
                               r"(?P<tdo> and Trusted Domain Objects \(TDOs\))?\.$", _I)


def password_required_checks(ct: CheckText) -> Recognised | None:
    if not ct.first(_REQUIRED_DC) or not ct.first(_REQUIRED_MS):
        return None
    if ct.take_all(_EXCLUDE_DISABLED) != 2:
        raise Refusal("password-required accounts with exclusions the converter does not know")
    ct.take_all(_REQUIRED_DC)
    ct.take_all(_REQUIRED_MS)
    ct.take_all(r"^Review the password required status for enabled user accounts\.$")
    _take_headings(ct)
    return Recognised(checks=[_accounts({"enabled": True}, {"property": "password_required",
                                                            "op": "equals", "value": True},
                                        "compliant", [{"trust_account": True}])])


_EXPIRES_DC = re.compile(r'^If any enabled user accounts are returned with a "PasswordNeverExpires"'
                         r' status of "True", this is a finding\.$', _I)
_EXPIRES_MS = re.compile(r'^If any enabled user accounts are returned with a "PasswordExpires" '
                         r'status of "False", this is a finding\.$', _I)
_EXCLUDE_APPS = (
    re.compile(r"^Exclude application accounts, disabled accounts \(e\.g\., DefaultAccount, "
               r"Guest\),? and the krbtgt account\.$", _I),
    re.compile(r"^Exclude application accounts and disabled accounts \(e\.g\., DefaultAccount, "
               r"Guest\)\.$", _I),
)


def password_expires_checks(ct: CheckText) -> Recognised | None:
    if not ct.first(_EXPIRES_DC) or not ct.first(_EXPIRES_MS):
        return None
    if not all(ct.first(p) for p in _EXCLUDE_APPS):
        raise Refusal("expiring passwords with exclusions the converter does not know")
    for pattern in (*_EXCLUDE_APPS, _EXPIRES_DC, _EXPIRES_MS):
        ct.take_all(pattern)
    ct.take_all(r"^Review the password never expires status for enabled user accounts\.$")
    _take_headings(ct)
    return Recognised(checks=[_accounts(
        {"enabled": True}, {"property": "password_expires", "op": "equals", "value": True},
        "compliant", [{"names_input": APPLICATION_ACCOUNTS}, {"rid": 502}])],
        inputs={APPLICATION_ACCOUNTS})


_INACTIVE = re.compile(r"^If any enabled accounts have not been logged on to within the past "
                       r"(\d+) days, this is a finding\.$", _I)
_INACTIVE_DC = re.compile(r'^Enter "Search-ADAccount -AccountInactive -UsersOnly -TimeSpan '
                          r'(\d+)\.00:00:00"$', _I)
_EXCLUDE_HEADING = re.compile(r"^Exclude the following accounts:$", _I)
_EXCLUDE_ITEM = re.compile(r"^- (?:Built-in (?:administrator|guest|default) account \(Renamed,"
                           r"(?: Disabled,)? SID ending in (\d+)\)|(Application accounts))$", _I)
_INACTIVE_REVIEW = re.compile(r"^Review the list of accounts returned by the above queries to "
                             r"determine the finding validity for each account reported\.$", _I)
# Accounts reviewed and documented as required are the organization's to list.
_INACTIVE_DOCUMENTED = re.compile(r"^Inactive accounts that have been reviewed and deemed to be "
                                  r"required must be documented with the (?:ISSO|information "
                                  r"system security officer \(ISSO\))\.$", _I)
DOCUMENTED_INACTIVE = "cwh_documented_inactive_accounts"


def inactive_account_checks(ct: CheckText) -> Recognised | None:
    found, query = ct.first(_INACTIVE), ct.first(_INACTIVE_DC)
    if not found:
        return None
    days = int(found[1].group(1))
    if not query or int(query[1].group(1)) != days:
        raise Refusal("the inactivity period is not stated the same way for every role")
    heading = ct.first(_EXCLUDE_HEADING)
    if not heading:
        raise Refusal("inactive accounts without their exclusions")
    exclude: list[dict[str, Any]] = []
    for index in range(heading[0] + 1, len(ct.lines)):
        item = _EXCLUDE_ITEM.match(ct.lines[index])
        if not item:
            break
        exclude.append({"rid": int(item.group(1))} if item.group(1) else
                       {"names_input": APPLICATION_ACCOUNTS})
        ct.take(index)
    ct.take(found[0], heading[0])
    ct.take_all(_INACTIVE_REVIEW)
    inputs = {APPLICATION_ACCOUNTS}
    if ct.take_all(_INACTIVE_DOCUMENTED):
        exclude.append({"names_input": DOCUMENTED_INACTIVE})
        inputs.add(DOCUMENTED_INACTIVE)
    _take_headings(ct)
    exclude.sort(key=lambda e: (0, e["rid"], "") if "rid" in e else (1, 0, e["names_input"]))
    return Recognised(checks=[_accounts({"enabled": True}, {"property": "last_logon_age_days",
                                                            "op": "at_most", "value": days},
                                        "compliant", exclude)], inputs=inputs)


_SMARTCARD_QUERY = re.compile(r"SmartcardLogonRequired -eq \$False", _I)
_SMARTCARD = (
    re.compile(r"^If any user accounts, including administrators, are listed, this is a "
               r"finding\.$", _I),
    re.compile(r'^If any user accounts, including administrators, do not have "Smart card is '
               r'required for interactive logon" checked in the "Account Options" area, this is '
               r'a finding\.$', _I),
)


def smartcard_checks(ct: CheckText) -> Recognised | None:
    if not ct.has(_SMARTCARD_QUERY.pattern):
        return None
    if not all(ct.first(p) for p in _SMARTCARD):
        raise Refusal("smart card accounts in a form the converter does not read")
    for pattern in _SMARTCARD:
        ct.take_all(pattern)
    return Recognised(checks=[_accounts({"enabled": True}, {"property": "smartcard_required",
                                                            "op": "equals", "value": True},
                                        "compliant")])


_ADMINS = tuple(re.compile(p, _I) for p in (
    r"^(?:Review the Administrators group\. )?Only (?:the appropriate )?administrator groups or "
    r"accounts responsible for administration of the system may be members of the group\.$",
    r"^Standard user accounts must not be members of the local administrator group\.$",
    r"^If (?:prohibited accounts|accounts that do not have responsibility for administration of "
    r"the system) are members of the local administrators group, this is a finding\.$",
    r"^If the built-in Administrator account or other required administrative accounts are found "
    r"on the system, this is not a finding\.$",
))
_NO_DOMAIN_ADMINS = re.compile(r"^For domain-joined member servers, the Domain Admins group must "
                               r"be replaced by a domain member server administrator group\.$", _I)
ADMINISTRATORS = {"sid": "S-1-5-32-544", "name": "Administrators"}


def administrators_checks(ct: CheckText, rule_roles: list[str]) -> Recognised | None:
    """Members of Administrators: the built-in Administrator and the organization's list."""
    if not all(ct.first(p) for p in _ADMINS[1:]):
        return None
    for pattern in _ADMINS:
        ct.take_all(pattern)
    checks: list[Check] = [{"kind": "group_members", "group": ADMINISTRATORS, "op": "only",
                            "principals": [{"machine_rid": 500,
                                            "name": "built-in Administrator"}],
                            "principals_input": "cwh_approved_admins"}]
    if ct.take_all(_NO_DOMAIN_ADMINS):
        if "member" not in rule_roles:
            raise Refusal("a member-server condition in a rule not for member servers")
        checks.append({"kind": "group_members", "group": ADMINISTRATORS, "op": "excludes",
                       "principals": [{"domain_rid": 512, "name": "Domain Admins"}],
                       "roles": ["member"]})
    return Recognised(checks=checks, inputs={"cwh_approved_admins"})


_BACKUP = tuple(re.compile(p, _I) for p in (
    r"^If no accounts are members of the Backup Operators group, this is NA\.$",
    r"^If users with accounts in the Backup Operators group do not have separate accounts for "
    r"backup functions and standard user functions, this is a finding\.$",
    r"^Verify users with accounts in the Backup Operators group have a separate user account for "
    r"backup functions and for performing normal user tasks\.$",
))


def backup_operators_checks(ct: CheckText) -> Recognised | None:
    """Backup Operators holds only the accounts the organization lists as dedicated backup
    accounts; an empty group makes the rule Not_Applicable."""
    if not all(ct.first(p) for p in _BACKUP[:2]):
        return None
    for pattern in _BACKUP:
        ct.take_all(pattern)
    return Recognised(checks=[{"kind": "group_members",
                               "group": {"sid": "S-1-5-32-551", "name": "Backup Operators"},
                               "op": "only", "principals": [],
                               "principals_input": "cwh_backup_operators",
                               "if_empty": "not_applicable"}],
                      inputs={"cwh_backup_operators"})
