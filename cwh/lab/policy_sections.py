"""The lab's answers for the collector's STIG policy sections (audit_policy, service_states,
account_sids), the account-domain SIDs of the identity section and the translation of
secedit's right holders, in exactly the shape collector.ps1 writes them.

Image keys (docs/lab-images.md):
- `audit_policy`: `settings` (auditpol's English subcategory name -> `No Auditing`, `Success`,
  `Failure` or `Success and Failure`; only the subcategories listed are reported, in auditpol's
  order), `language: de-DE` (a German Windows: translated header, names and setting words; the
  backup's numbers stay), `report_error` / `backup_error` (that auditpol run fails),
  `report_text` / `backup_text` (its output, verbatim). A non-administrator gets auditpol's
  "privilege not held" from both runs.
- `services` (the list the services section reads too) and `service_query_error` (the
  Win32_Service query of service_states fails with that text).
- `identity`: `machine_sid`, `domain_sid`, `forest_root_sid`, `sid_errors: {<which>: <text>}`.
- `lsa_accounts`: account name -> SID for the accounts the host's LSA resolves besides the
  well-known ones; `lsa_errors`: entry (a `*SID` or a name) -> the error its lookup gives (an
  unreachable domain controller). A SID in neither is one LSA cannot translate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cwh.lab.image import Image
from cwh.lab.section_error import SectionFailure

NOT_MAPPED = "System.Security.Principal.IdentityNotMappedException"
_NOT_MAPPED_TEXT = ('Exception calling "Translate" with "1" argument(s): "Some or all identity '
                    'references could not be translated."')
_SID = re.compile(r"S-1-[0-9]+(?:-[0-9]+){0,15}", re.I)
# What LSA answers for well-known SIDs on an English Windows Server (names are evidence only).
WELL_KNOWN = {
    "S-1-1-0": "Everyone", "S-1-2-0": "LOCAL", "S-1-5-6": r"NT AUTHORITY\SERVICE",
    "S-1-5-9": r"NT AUTHORITY\ENTERPRISE DOMAIN CONTROLLERS",
    "S-1-5-11": r"NT AUTHORITY\Authenticated Users", "S-1-5-18": r"NT AUTHORITY\SYSTEM",
    "S-1-5-19": r"NT AUTHORITY\LOCAL SERVICE", "S-1-5-20": r"NT AUTHORITY\NETWORK SERVICE",
    "S-1-5-113": r"NT AUTHORITY\Local account",
    "S-1-5-114": r"NT AUTHORITY\Local account and member of Administrators group",
    "S-1-5-32-544": r"BUILTIN\Administrators", "S-1-5-32-545": r"BUILTIN\Users",
    "S-1-5-32-546": r"BUILTIN\Guests", "S-1-5-32-548": r"BUILTIN\Account Operators",
    "S-1-5-32-549": r"BUILTIN\Server Operators", "S-1-5-32-550": r"BUILTIN\Print Operators",
    "S-1-5-32-551": r"BUILTIN\Backup Operators",
    "S-1-5-32-554": r"BUILTIN\Pre-Windows 2000 Compatible Access",
    "S-1-5-32-555": r"BUILTIN\Remote Desktop Users",
    "S-1-5-32-559": r"BUILTIN\Performance Log Users", "S-1-5-32-568": r"BUILTIN\IIS_IUSRS",
    "S-1-5-80-0": r"NT SERVICE\ALL SERVICES", "S-1-5-90-0": r"Window Manager\Window Manager Group",
}

# --- audit policy ---------------------------------------------------------------------------

_GUID = "{{0CCE{}-69AE-11D9-BED3-505054503030}}"
# auditpol's order: (GUID code, English name, German name as a German WS2022 prints it).
SUBCATEGORIES = (
    ("9211", "Security System Extension", "Sicherheitssystemerweiterung"),
    ("9212", "System Integrity", "Systemintegrität"),
    ("9213", "IPsec Driver", "IPSEC-Treiber"),
    ("9214", "Other System Events", "Andere Systemereignisse"),
    ("9210", "Security State Change", "Sicherheitsstatusänderung"),
    ("9215", "Logon", "Anmelden"),
    ("9216", "Logoff", "Abmelden"),
    ("9217", "Account Lockout", "Kontosperrung"),
    ("9218", "IPsec Main Mode", "IPsec-Hauptmodus"),
    ("9219", "IPsec Quick Mode", "IPsec-Schnellmodus"),
    ("921A", "IPsec Extended Mode", "IPsec-Erweiterungsmodus"),
    ("921B", "Special Logon", "Spezielle Anmeldung"),
    ("921C", "Other Logon/Logoff Events", "Andere Anmelde-/Abmeldeereignisse"),
    ("9243", "Network Policy Server", "Netzwerkrichtlinienserver"),
    ("9247", "User / Device Claims", "Benutzer-/Geräteansprüche"),
    ("9249", "Group Membership", "Gruppenmitgliedschaft"),
    ("921D", "File System", "Dateisystem"),
    ("921E", "Registry", "Registrierung"),
    ("921F", "Kernel Object", "Kernelobjekt"),
    ("9220", "SAM", "SAM"),
    ("9221", "Certification Services", "Zertifizierungsdienste"),
    ("9222", "Application Generated", "Anwendung wurde generiert."),
    ("9223", "Handle Manipulation", "Handleänderung"),
    ("9224", "File Share", "Dateifreigabe"),
    ("9225", "Filtering Platform Packet Drop", "Filterplattform: Verworfene Pakete"),
    ("9226", "Filtering Platform Connection", "Filterplattformverbindung"),
    ("9227", "Other Object Access Events", "Andere Objektzugriffsereignisse"),
    ("9244", "Detailed File Share", "Detaillierte Dateifreigabe"),
    ("9245", "Removable Storage", "Wechselmedien"),
    ("9246", "Central Policy Staging", "Staging zentraler Richtlinien"),
    ("9229", "Non Sensitive Privilege Use", "Nicht sensible Verwendung von Rechten"),
    ("922A", "Other Privilege Use Events", "Andere Rechteverwendungsereignisse"),
    ("9228", "Sensitive Privilege Use", "Sensible Verwendung von Rechten"),
    ("922B", "Process Creation", "Prozesserstellung"),
    ("922C", "Process Termination", "Prozessbeendigung"),
    ("922D", "DPAPI Activity", "DPAPI-Aktivität"),
    ("922E", "RPC Events", "RPC-Ereignisse"),
    ("9248", "Plug and Play Events", "Plug &amp; Play-Ereignisse"),
    ("924A", "Token Right Adjusted Events", "Ereignisse zu angepassten Tokenrechten"),
    ("922F", "Audit Policy Change", "Richtlinienänderungen überwachen"),
    ("9230", "Authentication Policy Change", "Authentifizierungsrichtlinienänderung"),
    ("9231", "Authorization Policy Change", "Autorisierungsrichtlinienänderung"),
    ("9232", "MPSSVC Rule-Level Policy Change", "MPSSVC-Richtlinienänderung auf Regelebene"),
    ("9233", "Filtering Platform Policy Change", "Filterplattform-Richtlinienänderung"),
    ("9234", "Other Policy Change Events", "Andere Richtlinienänderungsereignisse"),
    ("9236", "Computer Account Management", "Computerkontoverwaltung"),
    ("9237", "Security Group Management", "Sicherheitsgruppenverwaltung"),
    ("9238", "Distribution Group Management", "Verteilergruppenverwaltung"),
    ("9239", "Application Group Management", "Anwendungsgruppenverwaltung"),
    ("923A", "Other Account Management Events", "Andere Kontoverwaltungsereignisse"),
    ("9235", "User Account Management", "Benutzerkontenverwaltung"),
    ("923B", "Directory Service Access", "Verzeichnisdienstzugriff"),
    ("923C", "Directory Service Changes", "Verzeichnisdienständerungen"),
    ("923D", "Directory Service Replication", "Verzeichnisdienstreplikation"),
    ("923E", "Detailed Directory Service Replication",
     "Detaillierte Verzeichnisdienstreplikation"),
    ("9240", "Kerberos Service Ticket Operations", "Ticketvorgänge des Kerberos-Diensts"),
    ("9241", "Other Account Logon Events", "Andere Kontoanmeldungsereignisse"),
    ("9242", "Kerberos Authentication Service", "Kerberos-Authentifizierungsdienst"),
    ("923F", "Credential Validation", "Überprüfung der Anmeldeinformationen"),
)
SETTING_VALUES = {"No Auditing": 0, "Success": 1, "Failure": 2, "Success and Failure": 3}
_GERMAN_SETTINGS = {"No Auditing": "Keine Überwachung", "Success": "Erfolg", "Failure": "Fehler",
                    "Success and Failure": "Erfolg und Fehler"}
_REPORT_HEADER = {
    "en-US": "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,"
             "Exclusion Setting",
    "de-DE": "Computername,Richtlinienziel,Unterkategorie,Unterkategorie-GUID,"
             "Aufnahmeeinstellung,Ausschlusseinstellung",
}
# [MS-GPAC]'s header, the same in every language.
_BACKUP_HEADER = ("Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,"
                  "Exclusion Setting,Setting Value")
_PRIVILEGE_NOT_HELD = ("Error 0x00000522 occurred:\r\nA required privilege is not held by the "
                       "client.")


def _audit_rows(image: Image, spec: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(GUID, English name, German name, setting) of each subcategory the image lists."""
    settings = spec.get("settings") or {}
    known = {english.casefold() for _, english, _ in SUBCATEGORIES}
    for name, setting in settings.items():
        if str(name).casefold() not in known or setting not in SETTING_VALUES:
            raise SectionFailure(f"lab: the image's audit setting {name!r}: {setting!r} is not "
                                 "an auditpol subcategory and setting")
    chosen = {str(k).casefold(): v for k, v in settings.items()}
    return [(_GUID.format(code), english, german, chosen[english.casefold()])
            for code, english, german in SUBCATEGORIES if english.casefold() in chosen]


def _report(computer: str, rows: list[tuple[str, str, str, str]], german: bool) -> str:
    lines = [_REPORT_HEADER["de-DE" if german else "en-US"], ""]
    for guid, english, german_name, setting in rows:
        name, text = (german_name, _GERMAN_SETTINGS[setting]) if german else (english, setting)
        lines.append(f"{computer},System,{name},{guid},{text},")
    return "\r\n".join(lines)


def _backup(computer: str, rows: list[tuple[str, str, str, str]], german: bool) -> str:
    lines = [_BACKUP_HEADER]
    for guid, english, german_name, setting in rows:
        name, text = (german_name, _GERMAN_SETTINGS[setting]) if german else \
            (f"Audit {english}", setting)
        lines.append(f"{computer},System,{name},{guid.lower()},{text},,{SETTING_VALUES[setting]}")
    lines += [f"{computer},,Option:CrashOnAuditFail,,Disabled,,0",
              f"{computer},,Option:FullPrivilegeAuditing,,Disabled,,0"]
    return "\r\n".join(lines) + "\r\n"


def _audit_policy(image: Image, request: dict) -> dict:
    spec = image.get("audit_policy")
    if not isinstance(spec, dict):
        raise SectionFailure("lab: the image holds no audit policy")
    computer = str((image.get("identity") or {}).get("computer_name") or "")
    admin = bool((image.get("user") or {}).get("is_admin"))
    rows = _audit_rows(image, spec)
    german = spec.get("language") == "de-DE"
    report: dict[str, Any] = {"command": "auditpol /get /category:* /r", "text": None,
                              "error": None}
    backup: dict[str, Any] = {"command": "auditpol /backup /file:<temporary file>",
                              "text": None, "error": None}
    for part, kind, render in ((report, "report", _report), (backup, "backup", _backup)):
        verb = "/get" if kind == "report" else "/backup"
        if not admin:
            part["error"] = f"auditpol {verb} failed with exit code 1314: {_PRIVILEGE_NOT_HELD}"
        elif spec.get(f"{kind}_error"):
            part["error"] = str(spec[f"{kind}_error"])
        elif f"{kind}_text" in spec:
            part["text"] = spec[f"{kind}_text"]
        else:
            part["text"] = render(computer, rows, german)
    return {"report": report, "backup": backup}


# --- services by name -------------------------------------------------------------------------

def _service_states(image: Image, request: dict) -> dict:
    if image.get("service_query_error"):
        raise SectionFailure(str(image.get("service_query_error")))
    services = [s for s in image.get("services") or [] if isinstance(s, dict)]
    if not services:
        raise SectionFailure("Win32_Service listed no services at all")
    answers = []
    for name in request["service_names"]:
        found = [{"name": str(s.get("name")), "display_name": str(s.get("display_name") or
                                                                   s.get("name")),
                  "state": "" if s.get("state") is None else str(s["state"]),
                  "start_mode": "" if s.get("start_mode") is None else str(s["start_mode"])}
                 for s in services if str(s.get("name", "")).casefold() == str(name).casefold()]
        answers.append({"name": name, "found": found})
    return {"query": "Get-CimInstance Win32_Service", "listed": len(services),
            "services": answers}


# --- LSA translation --------------------------------------------------------------------------

def resolve(image: Image, entry: str) -> dict[str, Any]:
    """Resolve-CwhAccount: a `*SID` to its name, a name to its SID, as the host's LSA would."""
    record: dict[str, Any] = {"entry": entry, "sid": None, "name": None, "error": None,
                              "error_type": None}
    accounts = {str(k): str(v).upper() for k, v in (image.get("lsa_accounts") or {}).items()}
    errors = {str(k).casefold(): str(v) for k, v in (image.get("lsa_errors") or {}).items()}
    failure = errors.get(entry.casefold())
    if entry.startswith("*"):
        sid = entry[1:].upper()
        if not _SID.fullmatch(sid):
            record.update(error='Exception calling ".ctor" with "1" argument(s): "Value was '
                                'invalid. Parameter name: sddlForm"',
                          error_type="System.ArgumentException")
            return record
        record["sid"] = sid
        name = WELL_KNOWN.get(sid) or {v: k for k, v in accounts.items()}.get(sid)
        found = name
    else:
        record["name"] = entry
        wanted = entry.casefold()
        found = next((v for k, v in accounts.items() if k.casefold() == wanted or
                      k.rpartition("\\")[2].casefold() == wanted), None)
    if failure is not None:
        record.update(error=failure, error_type="System.SystemException")
    elif found is None:
        record.update(error=_NOT_MAPPED_TEXT, error_type=NOT_MAPPED)
    else:
        record["name" if entry.startswith("*") else "sid"] = found
    return record


def right_holders(image: Image, inf: str) -> list[dict[str, Any]]:
    """Resolve-CwhRightHolders: every distinct holder in [Privilege Rights], translated."""
    entries: list[str] = []
    in_rights = False
    for line in inf.splitlines():
        text = line.strip()
        header = re.fullmatch(r"\[(.+)\]", text)
        if header:
            in_rights = header.group(1).strip().casefold() == "privilege rights"
            continue
        match = re.fullmatch(r"[^=;]+=(.*)", text)
        if not in_rights or match is None:
            continue
        for entry in match.group(1).split(","):
            entry = entry.strip()
            if entry and entry not in entries:
                entries.append(entry)
    return [resolve(image, entry) for entry in entries]


def _account_sids(image: Image, request: dict) -> dict:
    return {"accounts": [resolve(image, str(name)) for name in request["account_names"]]}


# --- identity ---------------------------------------------------------------------------------

def identity_sids(identity: dict[str, Any]) -> dict[str, Any]:
    """Get-CwhAccountDomainSids: each SID as the image gives it, or null with its error."""
    errors = dict(identity.get("sid_errors") or {})
    joined = bool(identity.get("part_of_domain"))
    sids: dict[str, Any] = {}
    for key in ("machine_sid", "domain_sid", "forest_root_sid"):
        value = identity.get(key)
        if key in errors:
            value = None
        elif value is None and key != "machine_sid" and not joined:
            errors[key] = "the host is not joined to a domain"
        elif value is None:
            errors[key] = f"lab: the image gives no {key}"
        sids[key] = value
    sids["sid_errors"] = {key: errors.get(key) for key in ("machine_sid", "domain_sid",
                                                            "forest_root_sid")}
    return sids


SECTIONS: dict[str, Callable[[Image, dict], Any]] = {
    "audit_policy": _audit_policy,
    "service_states": _service_states,
    "account_sids": _account_sids,
}
