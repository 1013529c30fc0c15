"""The fault corpus: one lab host per fault, the controls each fault touches, and the audit runs
that serve them beside clean reference hosts (one run for the whole corpus, so it stays fast).

A fault *touches* a control when it damages a fact that control needs: the control must then be
Open or Not_Reviewed with a reason (or, where `expect` says so, exactly that status). Every other
control must keep the verdict it has on the clean reference host of the same run.
"""

from __future__ import annotations

import base64
import fcntl
import html
import json
import os
import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cwh.catalog.model import load_catalog
from cwh.catalog.stig_rules import committed_releases
from tests.e2e.audit_run import AuditRun, lab_host, run_audit, write_inventory

CATALOG = load_catalog()
# The corpus runs `-m stig` on WinRM hosts: the exposure audit (CWH-EXT-*) is not among them.
ALL = frozenset(c.id for c in CATALOG.controls if c.handler != "external")
REGISTRY = frozenset(c.id for c in CATALOG.controls
                     if any(cond.method == "registry" for cond in c.conditions()))
SECEDIT = frozenset({"CWH-PWD-01", "CWH-PWD-02", "CWH-GPO-05"})
# Controls whose endpoint comes from web.config's listener URIs (unknown without it).
ENDPOINTS = frozenset({"CWH-NET-01", "CWH-NET-02", "CWH-TLS-03", "CWH-WEB-02", "CWH-WEB-04",
                       "CWH-WEB-05"})
IMAGES = Path(__file__).with_name("images")
REFERENCE = "ref"
REF_AUTOMATE = "ref-automate"  # the clean Automate-only host the Automate faults compare with
AUTOMATE_ONLY = frozenset(c.id for c in CATALOG.controls if c.products == ("automate",))
# Distinctive, and with characters that URL encoding changes.
SECRET = "Zebra+7731/Kx=q&pw%21"
LAB_ONLY_PASSWORD = "Lab+Only/Pw=5521"  # what the wrong-password host accepts instead
FAST = {"ansible_winrm_read_timeout_sec": 3, "ansible_winrm_operation_timeout_sec": 2,
        "cwh_command_timeout_sec": 3}
PROBES = {"cwh_probe_timeout_sec": 4}  # room for a loaded machine: probes take < 0.6 s here
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
PYTEST_HTML = "pytest-html.html"


@dataclass(frozen=True)
class Fault:
    name: str
    touches: frozenset[str]
    host: dict[str, Any]  # host variables that make the fault (image, cwh_lab_fault, timeouts)
    why: str = ""  # a regular expression every touched control's reason must match
    expect: dict[str, str] = field(default_factory=dict)  # touched controls with one exact status
    reference: str = REFERENCE  # the clean host whose verdicts the untouched controls keep

    @property
    def host_name(self) -> str:
        return f"f-{self.name}"


def image(name: str, touches: Iterable[str] = (), why: str = "", **kw: Any) -> Fault:
    """A fault that lives on the host: an image under images/ (extends hardened)."""
    return Fault(name, frozenset(touches), {"cwh_lab_image": str(IMAGES / f"{name}.yml")}, why,
                 **kw)


def output(fault: str, touches: Iterable[str] = ALL, why: str = "unusable collector output",
           **host: Any) -> Fault:
    """A cwh_lab_fault that damages the collector's answer (see cwh/lab/faults.py)."""
    touches = frozenset(touches)
    return Fault(fault.replace(":", "-"), touches, {"cwh_lab_fault": fault, **host},
                 why if touches else "")


def transport(name: str, why: str, **host: Any) -> Fault:
    """A connection that fails: every control needs the host's facts (short timeouts)."""
    return Fault(name, ALL, {**FAST, **host}, why)


# An assessor's NotAFinding for CWH-ACCT-02 (dated in the past, whatever today is).
ATTESTED_ACCT02 = {"CWH-ACCT-02": {"status": "NotAFinding", "by": "A. Assessor",
                                   "date": "2024-06-03", "note": "AppLocker denies browsers"}}
GERMAN = str(IMAGES / "localized-german.yml")
SMB1_ABSENT = str(IMAGES / "smb1-value-absent.yml")
WEB_CONFIG = ENDPOINTS | {"CWH-SC-03", "CWH-SC-04"}
IIS = {"CWH-WEB-01", "CWH-WEB-03"}
SMB_PORTS = {"CWH-NET-03", "CWH-NET-04", "CWH-NET-05"}
FIREWALL_RULES = {"CWH-NET-01", "CWH-NET-02", *SMB_PORTS}

FAULTS: list[Fault] = [
    # --- the connection ---------------------------------------------------------------------
    transport("refused", "connection refused", cwh_lab_fault="refuse"),
    transport("nothing-listens", "connection refused", cwh_lab_image=None),  # not a lab host
    transport("accept-then-hang", "did not answer within 3 s", cwh_lab_fault="hang"),
    transport("http-500", "answered HTTP 500", cwh_lab_fault="http500"),
    transport("wrong-password", "authentication failed", cwh_lab_password=LAB_ONLY_PASSWORD,
              ansible_port=5986, ansible_winrm_transport="basic",
              ansible_winrm_ca_trust_path="lab/ca.pem"),
    transport("drop-after-auth", "HTTP 400|closed the connection",
              cwh_lab_fault="drop_after_auth"),
    transport("receive-slower-than-timeout", "did not finish within 3 s",
              cwh_lab_fault="slow_receive"),
    transport("command-never-finishes", "did not finish within 3 s",
              cwh_lab_fault="never_finishes"),
    transport("https-untrusted-ca", "TLS certificate verification failed", ansible_port=5986,
              ansible_winrm_transport="basic"),  # no ansible_winrm_ca_trust_path: CA unknown
    # --- the collector's output -------------------------------------------------------------
    output("empty_output", why="produced no output"),
    output("truncated_output"),
    output("invalid_json", why="not valid JSON"),
    output("no_marker", why="no facts document"),
    output("garbage_output", why="not valid base64"),
    # A complete document, then exit code 1: kept (each section's result stands), with the
    # exit code as a warning (issue 10, item 15).
    output("exit_nonzero", ()),
    output("huge_output", why="larger than 67108864 bytes"),
    output("utf16_output", why="no facts document"),
    output("wrapped_output"),
    output("schema_2", why="not schema 1"),
    output("codepage_document", why="not valid JSON", cwh_lab_image=GERMAN),
    output("trailing_garbage", ()),  # a whole document, then noise: still read correctly
    output("stderr_progress", ()),  # CLIXML progress records on stderr, exit 0: harmless
    # TLS-03 reads the SCHANNEL keys for its evidence only; its verdict is the live handshake.
    output("registry_contradiction", REGISTRY - {"CWH-TLS-03"}, why="contradictory"),
    output("secedit_no_privilege_rights", SECEDIT, why=r"no \[Privilege Rights\] section"),
    output("registry_answered_twice", REGISTRY - {"CWH-TLS-03"},
           why="answered 2 times with different data"),
    # --- whose facts are these? ---------------------------------------------------------------
    output("section_missing:identity", why="no 'identity' section"),
    output("section_error:identity", why="collecting 'identity' failed"),
    output("section_null:identity", why="'identity' section came back empty"),
    image("identity-other-machine", ALL, "the facts that arrived are those of SC-OTHER"),
    image("identity-names-null", ALL, "names no computer and no DNS host"),
    image("identity-hostile-stranger", ALL, "is neither its computer name nor its DNS host"),
    # An Ansible alias as the inventory name, nothing saying which machine it stands for.
    Fault("alias-without-expected-hostname", ALL, {"cwh_expected_hostname": None},
          "the inventory name f-alias-without-expected-hostname is neither"),
    # The right short name, but the host is a member of another domain than the one expected.
    Fault("expected-fqdn-other-domain", ALL,
          {"cwh_lab_image": str(IMAGES / "domain-joined.yml"),
           "cwh_expected_hostname": "sc-hardened.other.example"},
          "domain other.example, not corp.example.com"),
    # --- one section missing, failed or null --------------------------------------------------
    output("section_missing:registry", REGISTRY - {"CWH-TLS-03"}, why="no 'registry' section"),
    output("section_missing:secedit", SECEDIT, why="no 'secedit' section"),
    output("section_missing:screenconnect",
           WEB_CONFIG | {"CWH-SC-02", "CWH-SC-05", "CWH-SC-06"},
           why="no 'screenconnect' section"),
    output("section_missing:firewall_rules", {"CWH-NET-01", "CWH-NET-02", "CWH-NET-03",
                                              "CWH-NET-04", "CWH-NET-05"},
           why="no 'firewall_rules' section"),
    output("section_missing:iis", IIS, why="no 'iis' section"),
    output("section_error:local_admins", {"CWH-ACCT-01", "CWH-ACCT-02"},
           why="collecting 'local_admins' failed"),
    # ScreenConnect is still detected by its install path; whether Automate runs is unknown.
    output("section_error:services", {"CWH-SC-01", *AUTOMATE_ONLY},
           why="collecting 'services' failed"),
    output("section_error:tcp_listeners", {"CWH-NET-01", "CWH-NET-02"},
           why="collecting 'tcp_listeners' failed"),
    output("section_error:http_sslcert", {"CWH-WEB-05"}, why="collecting 'http_sslcert' failed"),
    # Without the profile state a port may be open whatever the rules say (CWH-NET-03/04/05).
    output("section_error:firewall_profiles", {"CWH-STIG-06", *SMB_PORTS},
           why="collecting 'firewall_profiles' failed"),
    output("section_null:certificates", {"CWH-WEB-05"}, why="'certificates' section came back"),
    output("section_null:internet_apps", {"CWH-ACCT-02"}, why="'internet_apps' section came back"),
    output("section_null:os", ()),  # no OS: no Windows STIG IDs, but the verdicts stand
    # FS-SMB1 unknown and the SMB1 value absent: CWH-STIG-04 (any of the two) cannot pass.
    output("section_missing:features", {"CWH-STIG-04"}, why="no 'features' section",
           cwh_lab_image=SMB1_ABSENT),
    # --- registry values of the wrong type, or unreadable ---------------------------------------
    image("reg-sz-for-dword", {"CWH-GPO-01"}, "wrong type"),
    image("reg-qword", {"CWH-GPO-04"}, "wrong type"),
    image("reg-multi-sz", {"CWH-STIG-02"}, "wrong type"),
    image("reg-binary", {"CWH-GPO-06"}, "wrong type"),
    image("reg-expand-sz", {"CWH-STIG-08"}, "wrong type"),
    image("reg-dword-data-text", {"CWH-STIG-01"}, 'observed DWord "1"'),
    image("reg-dword-data-bool", {"CWH-STIG-03"}, "observed DWord false"),
    image("reg-ssl3-wrong-type", {"CWH-STIG-07"}, "wrong type"),
    image("reg-tls10-enabled-ffffffff", {"CWH-TLS-01"}, "0xFFFFFFFF"),
    image("reg-access-denied", {"CWH-GPO-01", "CWH-STIG-01", "CWH-STIG-03"},
          "registry access is not allowed"),
    # --- unexpected nulls ---------------------------------------------------------------------
    image("service-state-null", {"CWH-SC-01"}, "Relay: None"),
    image("file-version-null", {"CWH-SC-02", "CWH-SC-04"}, "version cannot be judged"),
    image("member-name-null", {"CWH-ACCT-01"}, r"\(unresolved\)"),
    # Only the computer name tells a bare approved name's local account from another domain's.
    image("text-facts-null", {"CWH-ACCT-01"}, "the host's identity section gave no computer name"),
    image("iis-config-null", IIS, "applicationHost.config was not read"),
    image("web-config-null", WEB_CONFIG | {"CWH-SC-05"}, "web.config was not found"),
    # --- size ---------------------------------------------------------------------------------
    Fault("thousands-of-rules-and-apps", frozenset({"CWH-NET-05"}),
          {"cwh_lab_image": "generated/thousands.yml"}, "Legacy backup agent"),
    # --- hostile strings ----------------------------------------------------------------------
    image("hostile-identity", {"CWH-ACCT-01"}, "not approved: .*<script>alert"),
    image("hostile-control-chars", {"CWH-ACCT-01"}, "not approved: .*管理员"),
    image("hostile-evidence"),
    image("hostile-webconfig", {"CWH-NET-02"}, "RelayListenUri .* is not understood"),
    image("hostile-iis"),
    image("hostile-netsh"),  # the registry decides; the text is evidence only
    image("hostile-certificate", {"CWH-WEB-05"}, "not in DNS:<script>"),
    image("hostile-server-header", {"CWH-WEB-02"}, "Server: <script>"),
    # --- XML bombs and external entities ------------------------------------------------------
    image("webconfig-xml-bomb", WEB_CONFIG, "XML bomb"),
    image("webconfig-xxe", WEB_CONFIG, "external entity"),
    image("apphost-xml-bomb", IIS, "XML bomb"),
    image("apphost-xxe", IIS, "external entity"),
    # --- localized Windows --------------------------------------------------------------------
    image("netsh-german"),  # the registry binding decides: nothing changes
    image("localized-german"),  # group names by SID: nothing changes
    # --- who, where and what the host is ------------------------------------------------------
    image("non-admin", SECEDIT, "Access is denied"),
    image("orphaned-sid", {"CWH-ACCT-01"}, r"\(unresolved\)"),
    image("os-build-unknown"),
    image("domain-joined", {"CWH-NET-03", "CWH-NET-04", "CWH-NET-05"}, "joined to the domain",
          expect=dict.fromkeys(("CWH-NET-03", "CWH-NET-04", "CWH-NET-05"), "Not_Applicable")),
    image("iis-absent", IIS, "IIS is not installed",
          expect=dict.fromkeys(IIS, "Not_Applicable")),
    # --- contradictory or unreadable answers (each once read as a pass; fixed) ---------------
    image("secedit-empty-privilege-rights", {"CWH-GPO-05"}, "Privilege Rights"),
    image("firewall-action-unknown", {"CWH-NET-05"}, "unreadable state, action or profiles"),
    image("duplicate-service", {"CWH-SC-01"}, "listed 2 times"),
    # --- numbers Windows never writes, keys given twice, garbage values (issue 10, item 10) ----
    image("secedit-numbers-not-ascii", {"CWH-PWD-01", "CWH-PWD-02"}, "is not a number",
          expect=dict.fromkeys(("CWH-PWD-01", "CWH-PWD-02"), "Not_Reviewed")),
    image("secedit-duplicate-key", {"CWH-PWD-01"}, "2 different values .*contradictory",
          expect={"CWH-PWD-01": "Not_Reviewed"}),
    image("secedit-garbage-right", {"CWH-GPO-05"}, "is not a list of accounts",
          expect={"CWH-GPO-05": "Not_Reviewed"}),
    image("version-fullwidth-digits", {"CWH-SC-02", "CWH-SC-04"}, "not a dotted version",
          expect={"CWH-SC-02": "Not_Reviewed", "CWH-SC-04": "Not_Reviewed"}),
    image("duplicate-service-case", {"CWH-SC-01"}, "listed 2 times",
          expect={"CWH-SC-01": "Not_Reviewed"}),
    # --- Windows PowerShell 5.1 behaviours (issue 10, items 16, 17 and 19) -------------------
    image("constrained-language", ALL, "ConstrainedLanguage mode, which refuses the .NET calls"),
    Fault("slow-sections", frozenset({"CWH-ACCT-01", "CWH-ACCT-02"}),
          {"cwh_lab_image": str(IMAGES / "slow-sections.yml"), "cwh_command_timeout_sec": 8},
          "did not finish within the collector's budget of 4.4 s"),
    image("unrolled-arrays"),  # read exactly as the protected collector's answer
    # A site-level requestFiltering that re-allows OPTIONS and sends the Server header.
    image("iis-site-overrides", IIS, "for site"),
    # --- Windows Firewall as Windows reports it (issue 10, items 10-12) -------------------------
    image("firewall-query-fails", {*FIREWALL_RULES, "CWH-STIG-06"}, "Provider load failure"),
    image("firewall-rules-empty", FIREWALL_RULES, "No MSFT_NetFirewallRule objects found"),
    image("firewall-profile-default-allow", SMB_PORTS, "every port open through Private: "
          "Enabled True, DefaultInboundAction Allow", expect=dict.fromkeys(SMB_PORTS, "Open")),
    image("firewall-profile-off", {*SMB_PORTS, "CWH-STIG-06"}, "Private=False|Private: Enabled "
          "False", expect=dict.fromkeys({*SMB_PORTS, "CWH-STIG-06"}, "Open")),
    image("firewall-inactive-profile-off", {"CWH-STIG-06"}, "Public=False",
          expect={"CWH-STIG-06": "Open"}),
    image("firewall-active-profile-unknown", SMB_PORTS, "every port open through Public",
          expect=dict.fromkeys(SMB_PORTS, "Open")),
    image("firewall-inbound-not-configured"),  # Windows' default, Block: nothing changes
    image("firewall-profile-unreadable", SMB_PORTS, "firewall profile state is unknown",
          expect=dict.fromkeys(SMB_PORTS, "Not_Reviewed")),
    image("firewall-profiles-case-variant", {*SMB_PORTS, "CWH-STIG-06"},
          "'Private' is listed 2 times with different values",
          expect=dict.fromkeys({*SMB_PORTS, "CWH-STIG-06"}, "Not_Reviewed")),
    image("firewall-rules-case-variant", FIREWALL_RULES,
          "'FPS-SMB-In-TCP' is listed 2 times with different values",
          expect=dict.fromkeys(FIREWALL_RULES, "Not_Reviewed")),
    image("firewall-rule-inactive-profile"),  # allowed for Domain only, Private in force
    # --- http.sys bindings: registry first, netsh as corroboration (item 13) ------------------
    image("sslbinding-sources-disagree", {"CWH-WEB-05"}, "the registry and netsh disagree",
          expect={"CWH-WEB-05": "Not_Reviewed"}),
    image("sslbinding-only-in-registry", {"CWH-WEB-05"}, "netsh: no binding",
          expect={"CWH-WEB-05": "Not_Reviewed"}),
    image("sslbinding-registry-garbled", {"CWH-WEB-05"}, "SslCertHash of 0.0.0.0:8040 is String",
          expect={"CWH-WEB-05": "Not_Reviewed"}),
    image("sslbinding-no-source", {"CWH-WEB-05"}, "no source of http.sys bindings",
          expect={"CWH-WEB-05": "Not_Reviewed"}),
    image("sslbinding-registry-unreadable"),  # netsh alone decides, and says so
    # --- IIS: the configuration in force, every level of it (item 18) -------------------------
    image("iis-webconfig-reopens", IIS, "for site Default Web Site \\(C:",
          expect=dict.fromkeys(IIS, "Open")),
    image("iis-folder-webconfig-options", {"CWH-WEB-03"}, "allowed again for site Default Web "
          "Site/api", expect={"CWH-WEB-03": "Open"}),
    image("iis-chain-reopens-options", {"CWH-WEB-03"}, "allowed again for site Default Web Site",
          expect={"CWH-WEB-03": "Open"}),
    image("iis-shared-configuration", IIS, "shared configuration is enabled",
          expect=dict.fromkeys(IIS, "Not_Reviewed")),
    image("iis-webconfig-unreadable", IIS, "could not be read: Access to the path",
          expect=dict.fromkeys(IIS, "Not_Reviewed")),
    image("iis-site-path-unreachable", IIS, "The network path was not found",
          expect=dict.fromkeys(IIS, "Not_Reviewed")),
    image("iis-webconfig-harmless"),  # read, sets no request filtering that matters
    # ScreenConnect reached through cwh_web_url, web.config unreadable: whether it serves TLS
    # itself (and so needs an http.sys binding) is unknown, yet the binding check is skipped.
    Fault("web-url-given-web-config-unreadable", frozenset({"CWH-SC-03", "CWH-SC-04",
                                                            "CWH-NET-01", "CWH-NET-02",
                                                            "CWH-WEB-05"}),
          {"cwh_lab_image": str(IMAGES / "webconfig-xml-bomb.yml"),
           "cwh_web_url": "https://{address}:8040/"}),
    # --- WinRS as Windows plays it --------------------------------------------------------
    # Stdin a console (WINRS_CONSOLEMODE_STDIN=TRUE, pywinrm's default): the Sends are never
    # read, the bootstrap runs an empty script, and empty output with exit 0 is no facts.
    output("console_stdin", why="produced no output"),
    # MaxEnvelopeSizekb at Windows' minimum: the collector's Send is refused with HTTP 413.
    image("winrm-max-envelope-32kb", ALL, "MaxEnvelopeSize quota"),
    # --- whose account, whose answer (each once a pass; fixed) --------------------------------
    # A bare approved name is the computer's own local account, not another domain's namesake.
    image("foreign-domain-admin", {"CWH-ACCT-01"},
          r"EVILCORP\\auditor .*approves only the local account",
          expect={"CWH-ACCT-01": "Open"}),
    # A group is judged as that group, never as the account whose name it carries.
    image("group-named-like-admin", {"CWH-ACCT-01"}, r"TRUSTED\\labadmin .*a group",
          expect={"CWH-ACCT-01": "Open"}),
    # `cwh_approved_admins: []` declares that nobody is approved.
    Fault("nobody-approved", frozenset({"CWH-ACCT-01"}), {"cwh_approved_admins": []},
          r"not approved: SC-HARDENED\\labadmin", expect={"CWH-ACCT-01": "Open"}),
    # An attestation cannot answer for a host whose facts never arrived.
    transport("refused-attested", "connection refused", cwh_lab_fault="refuse",
              cwh_attestations=ATTESTED_ACCT02),
    transport("wrong-password-attested", "authentication failed",
              cwh_lab_password=LAB_ONLY_PASSWORD, ansible_port=5986,
              ansible_winrm_transport="basic", ansible_winrm_ca_trust_path="lab/ca.pem",
              cwh_attestations=ATTESTED_ACCT02),
    # --- the runner's view against the host's (issue 14) --------------------------------------
    # Another TLS endpoint answers the URL than the one http.sys binds (no front end declared).
    image("served-certificate-not-bound", {"CWH-WEB-05"}, "the runner was served another "
          "certificate", expect={"CWH-WEB-05": "Open"}),
    # A port forward: users reach 8040 on 443 and the relay on 18041. The host view keeps
    # judging the configured 8040 and 8041, the runner connects where users do: nothing moves.
    Fault("port-forwarded", frozenset(), {"cwh_web_url": "https://{address}:443/",
                                          "cwh_relay_port": 18041,
                                          "cwh_lab_port_map": {8040: 10443, 8041: 18041}}),
    # --- facts of the STIG's system kinds (issue 11): no guide control reads them, so none
    # moves here; tests/stig/test_system_faults.py judges the STIG rules on the same images.
    image("stig-acl-denied"),
    image("stig-sddl-garbled"),
    image("stig-event-log-moved-unreadable"),
    image("stig-certificate-store-fails"),
    image("stig-accounts-query-fails"),
    image("stig-accounts-adsi-fails"),
    image("stig-secure-boot-denied"),
    image("stig-secure-boot-contradiction"),
    image("stig-file-search-cut-off"),
    Fault("stig-file-search-section-hangs", frozenset(),
          {"cwh_lab_image": str(IMAGES / "stig-file-search-section-hangs.yml"),
           "cwh_command_timeout_sec": 8}),
]
# The Windows Server 2022 STIG rules each image touches (it extends hardened): never
# NotAFinding, with a reason matching the pattern; every other rule of the system kinds keeps
# hardened's verdict. Judged through tests/stig/harness.py by tests/stig/test_system_faults.py.
_ACCOUNT_RULES = frozenset({"WN22-00-000020", "WN22-00-000060", "WN22-00-000190",
                            "WN22-00-000200", "WN22-00-000210"})
STIG_SYSTEM_FAULTS: dict[str, tuple[frozenset[str], str]] = {
    "stig-acl-denied": (frozenset({"WN22-00-000160"}), "unauthorized operation"),
    "stig-sddl-garbled": (frozenset({"WN22-00-000140", "WN22-AU-000060"}),
                          "not understood|cannot be read"),
    "stig-event-log-moved-unreadable": (frozenset({"WN22-AU-000040"}),
                                        "registry access is not allowed"),
    "stig-certificate-store-fails": (frozenset({"WN22-PK-000010"}), "Keyset does not exist"),
    "stig-accounts-query-fails": (_ACCOUNT_RULES, "Provider load failure"),
    "stig-accounts-adsi-fails": (_ACCOUNT_RULES - {"WN22-00-000200", "WN22-00-000210"},
                                 "The network path was not found"),
    "stig-secure-boot-denied": (frozenset({"WN22-00-000470"}), "Access was denied"),
    "stig-secure-boot-contradiction": (frozenset({"WN22-00-000470"}), "contradictory"),
    "stig-file-search-cut-off": (frozenset({"WN22-00-000240"}),
                                 "stopped at the search's limit of 47 s"),
    "orphaned-sid": (frozenset({"WN22-MS-000010"}), r"\(unresolved\)"),
    "unrolled-arrays": (frozenset(), ""),  # read exactly as the protected collector's answer
}

# --- STIG policy facts (issue 11): auditpol, secedit holders, services, domain SIDs ----------
# The guide's controls keep their verdicts under each; what the STIG rules make of them is
# STIG_FAULTS below (tests/faults/test_fault_stig_policy.py).
STIG_POLICY_IMAGES = ("auditpol-german", "auditpol-german-no-backup", "auditpol-unreadable",
                      "auditpol-contradictory", "secedit-unresolvable-sid",
                      "service-query-fails")
FAULTS += [image(name) for name in STIG_POLICY_IMAGES]
FAULTS.append(image("identity-domain-sid-unknown", {"CWH-NET-03", "CWH-NET-04", "CWH-NET-05"},
                    "joined to the domain",
                    expect=dict.fromkeys(("CWH-NET-03", "CWH-NET-04", "CWH-NET-05"),
                                         "Not_Applicable")))


@dataclass(frozen=True)
class StigFault:
    """A fault image (extends hardened, Windows Server 2022) and the STIG rules it touches: each
    must be Open or Not_Reviewed (or exactly `expect`'s status) with a reason matching `why`;
    every other policy rule keeps the verdict it has on the clean hardened host, unless the
    fault changes the host's role (`moves_role`) and so which rules apply."""

    image: str
    touches: frozenset[str]
    why: str = ""
    expect: dict[str, str] = field(default_factory=dict)
    moves_role: bool = False

    @property
    def host_name(self) -> str:
        return f"f-{self.image}"


def _stig_ids(kind: str, guids: tuple[str, ...] = ()) -> frozenset[str]:
    """The 2022 release's rules for a standalone server with a check of this kind (and one of
    these GUIDs)."""
    rules = committed_releases()["MS_Windows_Server_2022_STIG"].rules
    return frozenset(r.stig_id for r in rules for c in r.checks if c.get("kind") == kind and
                     "standalone" in r.roles and (not guids or c.get("guid") in guids))


def _all(ids: frozenset[str], status: str) -> dict[str, str]:
    return dict.fromkeys(ids, status)


AUDIT_RULES = _stig_ids("audit_policy")
CONTRADICTED = _stig_ids("audit_policy", ("{0CCE923F-69AE-11D9-BED3-505054503030}",
                                          "{0CCE9215-69AE-11D9-BED3-505054503030}"))
DOMAIN_DENY = frozenset({"WN22-MS-000090", "WN22-MS-000100", "WN22-MS-000110"})
STIG_FAULTS: list[StigFault] = [
    StigFault("auditpol-german", frozenset()),  # judged by GUID and number: nothing moves
    StigFault("auditpol-german-no-backup", AUDIT_RULES, "not auditpol's English",
              _all(AUDIT_RULES, "Not_Reviewed")),
    StigFault("auditpol-unreadable", AUDIT_RULES, "privilege is not held",
              _all(AUDIT_RULES, "Not_Reviewed")),
    StigFault("auditpol-contradictory", CONTRADICTED, "disagree: contradictory",
              _all(CONTRADICTED, "Not_Reviewed")),
    StigFault("secedit-unresolvable-sid", frozenset({"WN22-00-000450", "WN22-UR-000040"}),
              "unresolved: .*-1099|svc-vault .*RPC server is unavailable",
              {"WN22-00-000450": "Open", "WN22-UR-000040": "Not_Reviewed"}),
    StigFault("service-query-fails", frozenset({"WN22-00-000110"}), "Provider load failure",
              {"WN22-00-000110": "Not_Reviewed"}),
    StigFault("identity-domain-sid-unknown", DOMAIN_DENY,
              "the SID of the host's domain was not collected", _all(DOMAIN_DENY, "Not_Reviewed"),
              moves_role=True),
]


@dataclass(frozen=True)
class NamedFault(Fault):
    """A fault whose inventory name is part of it (an address), not f-<name>."""

    inventory_name: str = ""

    @property
    def host_name(self) -> str:
        return self.inventory_name


# Faults that need their own inventory name (outside loopback()'s 127.64-250 range, so no
# other test's host takes the address).
FAULTS += [
    # Known by address only, ansible_host a typo: the machine reached owns 127.61.0.5 only.
    NamedFault("identity-address-typo", ALL,
               {"cwh_lab_image": str(IMAGES / "identity-address-typo.yml"),
                "ansible_host": "127.61.0.5", "cwh_expected_hostname": None},
               r"127\.61\.0\.6 is not among the host's own addresses \(127\.61\.0\.5\)",
               inventory_name="127.61.0.6"),
    # Profiles whose names differ only in white space, with different states (finding 3).
    image("firewall-profiles-whitespace-variant", {*SMB_PORTS, "CWH-STIG-06"},
          "'Private' is listed 2 times with different values",
          expect=dict.fromkeys({*SMB_PORTS, "CWH-STIG-06"}, "Not_Reviewed")),
    # A LocalPort that is no port Windows writes: unknown, never "does not cover" (4, 12).
    # NET-01/02 keep their verdict: their own rules allow 8040 and 8041 whatever this one says.
    image("firewall-port-garbled", SMB_PORTS, "ports that cannot be read",
          expect=dict.fromkeys(SMB_PORTS, "Not_Reviewed")),
    image("firewall-port-superscript", SMB_PORTS, "ports that cannot be read",
          expect=dict.fromkeys(SMB_PORTS, "Not_Reviewed")),
    # Account names that only Unicode case folding makes approved (finding 5).
    Fault("admin-kelvin-sign", frozenset({"CWH-ACCT-01"}),
          {"cwh_lab_image": str(IMAGES / "admin-kelvin-sign.yml"),
           "cwh_approved_admins": ["labadmin", "adm-jdoe", "auditor", "kadmin"]},
          re.escape("not approved: SC-HARDENED\\\u212aadmin"), expect={"CWH-ACCT-01": "Open"}),
    Fault("admin-long-s-pattern", frozenset({"CWH-ACCT-01"}),
          {"cwh_lab_image": str(IMAGES / "admin-long-s-pattern.yml"),
           "cwh_admin_name_pattern": "svc-.*"},
          re.escape("not approved: CORP\\\u017fvc-backdoor"), expect={"CWH-ACCT-01": "Open"}),
    # A domain group on German Windows (ObjectClass "Gruppe"), named as the pattern wants (M6).
    Fault("localized-group-matches-pattern", frozenset({"CWH-ACCT-01"}),
          {"cwh_lab_image": str(IMAGES / "localized-group-matches-pattern.yml"),
           "cwh_admin_name_pattern": "adm-.*"},
          r"not approved: CORP\\adm-admins", expect={"CWH-ACCT-01": "Open"}),
]


def write_generated_images(directory: Path) -> None:
    """Images too large to keep in the repository: thousands of firewall rules and software
    entries, one of the rules (deep in the list) opening TCP 445."""
    rules = [{"display_name": f"Vendor agent rule {i}", "enabled": i % 3 == 0,
              "local_ports": [str(20000 + i)], "program": f"C:\\Agents\\agent{i}.exe"}
             for i in range(5000)]
    rules.insert(3999, {"display_name": "Legacy backup agent (SMB-In)", "local_ports": ["445"],
                        "program": "System"})
    rules[:0] = [{"display_name": "ScreenConnect Web Server (TCP-In)", "local_ports": ["8040"]},
                 {"display_name": "ScreenConnect Relay (TCP-In)", "local_ports": ["8041"]}]
    software = [{"name": f"Microsoft Edge WebView2 Runtime {i}", "version": f"1.0.{i}",
                 "publisher": "Microsoft Corporation"} for i in range(5000)]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "thousands.yml").write_text(yaml.safe_dump(
        {"extends": "hardened", "firewall": {"rules": rules}, "software": software}))


def host_vars(fault: Fault) -> dict[str, Any]:
    """The fault's host on a fresh loopback address; `{address}` in cwh_web_url becomes it."""
    host = {k: v for k, v in lab_host("hardened", **PROBES, **fault.host).items()
            if v is not None}
    if "cwh_web_url" in host:
        host["cwh_web_url"] = host["cwh_web_url"].format(address=host["ansible_host"])
    return host


def shared_run(tmp_path_factory: Any, name: str, make: Callable[[Path], AuditRun]) -> AuditRun:
    """An audit run made once per test session, even when pytest-xdist spreads the tests over
    several processes: the first one makes it (under a file lock), the others read it back."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by every worker of the session
    directory, saved = root / name, root / name / "run.json"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.exists():
            directory.mkdir(exist_ok=True)
            run = make(directory)
            saved.write_text(json.dumps({"exit_code": run.exit_code, "stdout": run.stdout,
                                         "stderr": run.stderr}))
    data = json.loads(saved.read_text())
    return AuditRun(data["exit_code"], data["stdout"], data["stderr"], directory / "reports")


SECRET_VARS = {"ansible_password": "{{ lookup('env', 'CWH_TEST_SECRET') }}"}
# Every host says remote access goes through a Control client (CWH-CWA-07 then applies to the
# Automate hosts; on ScreenConnect hosts the Automate controls are Not_Applicable anyway).
AUTOMATE_VARS = {"cwh_remote_access_via_control": True}


def _corpus(tmp: Path) -> AuditRun:
    write_generated_images(tmp / "generated")
    hosts = {REFERENCE: lab_host("hardened", **PROBES),
             REF_AUTOMATE: lab_host("automate-hardened", **PROBES),
             "ref-basic": lab_host("hardened", transport="basic", **PROBES)}
    hosts.update({fault.host_name: host_vars(fault) for fault in FAULTS})
    inventory = write_inventory(tmp, hosts, {**SECRET_VARS, **AUTOMATE_VARS})
    # --html: pytest-html's page too (written only when asked), so its hooks face the corpus.
    return run_audit(tmp, inventory, "-m", "guide", "-n", "2", "--html",
                     str(tmp / "reports" / PYTEST_HTML), env={"CWH_TEST_SECRET": SECRET},
                     timeout=170)


def corpus_run(tmp_path_factory: Any) -> AuditRun:
    """The whole corpus and two clean reference hosts (NTLM over http, Basic over https) in one
    audit run, every host logging on with SECRET."""
    return shared_run(tmp_path_factory, "corpus", _corpus)


# A host whose identity lists its addresses as one number instead of a list.
CRASH_IMAGE = {"extends": "hardened", "identity": {"ip_addresses": 170403851}}


def _crash(tmp: Path) -> AuditRun:
    (tmp / "scalar-ip.yml").write_text(yaml.safe_dump(CRASH_IMAGE))
    inventory = write_inventory(tmp, {REFERENCE: lab_host("hardened"),
                                      "scalar-ip": lab_host("scalar-ip.yml")}, SECRET_VARS)
    return run_audit(tmp, inventory, "-m", "guide", env={"CWH_TEST_SECRET": SECRET}, timeout=120)


def crash_run(tmp_path_factory: Any) -> AuditRun:
    """A clean host and one whose facts make the suite's own report hook raise."""
    return shared_run(tmp_path_factory, "crash", _crash)


# --- reading what a run wrote -----------------------------------------------------------------

def secret_forms(secret: str, user: str = "auditor") -> list[str]:
    """The secret as it is, and as base64, HTTP Basic and URL encoding would carry it."""
    return [secret, base64.b64encode(secret.encode()).decode(),
            base64.b64encode(f"{user}:{secret}".encode()).decode(),
            urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)]


def html_pages(report_dir: Path) -> dict[str, str]:
    """Every HTML page the run wrote (report.html, hosts/*.html, pytest-html's), by path."""
    return {str(p.relative_to(report_dir)): p.read_text(encoding="utf-8")
            for p in sorted(report_dir.rglob("*.html"))}


def html_blob(report: Path) -> dict[str, Any]:
    """pytest-html's test data: the JSON in the data-jsonblob attribute of its page."""
    match = re.search(r'data-jsonblob="([^"]*)"', report.read_text(encoding="utf-8"))
    assert match, f"{report.name} has no data-jsonblob"
    return json.loads(html.unescape(match.group(1)))


def html_fragments(report: Path) -> dict[str, list[str]]:
    """Every piece of pytest-html's page a browser renders as markup, by test id ("page": the page
    itself): each test's table cells, its log and its HTML extras (a data: URI is decoded)."""
    fragments = {"page": [report.read_text(encoding="utf-8")]}
    for test_id, runs in html_blob(report)["tests"].items():
        mine = fragments.setdefault(test_id, [])
        for test in runs:
            mine += [*test.get("resultsTableRow", []), test.get("log", "")]
            for extra in test.get("extras", []):
                content = str(extra.get("content", ""))
                if content.startswith("data:") and ";base64," in content:
                    content = base64.b64decode(content.split(";base64,", 1)[1]).decode("utf-8")
                mine.append(content)
    return fragments


# --- ConnectWise Automate and the application-level controls (issue 13) --------------------

def automate_image(name: str, touches: Iterable[str], why: str = "", **kw: Any) -> Fault:
    """A fault on an Automate server (an image under images/ extending automate-hardened),
    compared with the clean Automate host."""
    return Fault(name, frozenset(touches), {"cwh_lab_image": str(IMAGES / f"{name}.yml"),
                                            "cwh_expected_hostname": "CWA-HARDENED"},
                 why, reference=REF_AUTOMATE, **kw)


AUTOMATE_CLOSED = ("CWH-CWA-04", "CWH-CWA-05", "CWH-CWA-06", "CWH-CWA-07")
FAULTS += [
    # A UDP rule whose protocol is unknown: no UDP (or TCP) port it reaches can be judged.
    automate_image("cwa-udp-rule-protocol-unknown", {"CWH-CWA-03", *AUTOMATE_CLOSED},
                   "protocol None not readable",
                   expect=dict.fromkeys({"CWH-CWA-03", *AUTOMATE_CLOSED}, "Not_Reviewed")),
    # A UDP rule on a dynamic-port keyword: the legacy UDP range and UDP 3389 are unknown.
    automate_image("cwa-udp-rule-dynamic-keyword", {"CWH-CWA-06", "CWH-CWA-07"},
                   "'PlayToDiscovery' stands for ports Windows assigns at run time",
                   expect=dict.fromkeys(("CWH-CWA-06", "CWH-CWA-07"), "Not_Reviewed")),
    # Where MySQL listens cannot be read (Get-NetTCPConnection failed): never a pass.
    Fault("cwa-mysql-listener-unknown", frozenset({"CWH-CWA-01", "CWH-CWA-02", "CWH-CWA-04"}),
          {"cwh_lab_image": "automate-hardened", "cwh_expected_hostname": "CWA-HARDENED",
           "cwh_lab_fault": "section_error:tcp_listeners"},
          "collecting 'tcp_listeners' failed", expect={"CWH-CWA-04": "Not_Reviewed"},
          reference=REF_AUTOMATE),
    # MySQL allowed from a keyword scope while a private network is declared.
    Fault("cwa-mysql-scope-keyword", frozenset({"CWH-CWA-04"}),
          {"cwh_lab_image": str(IMAGES / "cwa-mysql-scope-keyword.yml"),
           "cwh_expected_hostname": "CWA-HARDENED",
           "cwh_mysql_allowed_from": ["10.20.40.0/24"]},
          "LocalSubnet", expect={"CWH-CWA-04": "Not_Reviewed"}, reference=REF_AUTOMATE),
    # Whether Automate runs on a ScreenConnect server is unknown: Not_Reviewed, never N/A.
    image("cwa-products-path-unreadable", AUTOMATE_ONLY,
          "whether this host runs ConnectWise Automate is unknown",
          expect=dict.fromkeys(AUTOMATE_ONLY, "Not_Reviewed")),
    image("sc-machinekey-elsewhere", {"CWH-SC-04"}, "kept in another file",
          expect={"CWH-SC-04": "Not_Reviewed"}),
]
FAULTS += [
    # ACLs (through the generic acl_paths list): unreadable, garbled, half-readable, missing.
    automate_image("cwa-ltshare-acl-unreadable", {"CWH-CWA-08"},
                   "could not be read .*unauthorized operation",
                   expect={"CWH-CWA-08": "Not_Reviewed"}),
    automate_image("cwa-ltshare-sddl-garbled", {"CWH-CWA-08"}, "SDDL of C:\\\\LTShare is not "
                   "understood", expect={"CWH-CWA-08": "Not_Reviewed"}),
    automate_image("cwa-ltshare-ace-unreadable", {"CWH-CWA-08"}, "ACEs that cannot be read",
                   expect={"CWH-CWA-08": "Not_Reviewed"}),
    automate_image("cwa-ltshare-missing", {"CWH-CWA-08"}, "LTShare does not exist",
                   expect={"CWH-CWA-08": "Open"}),
    image("sc-webconfig-acl-unreadable", {"CWH-SC-05"}, "could not be read .*unauthorized",
          expect={"CWH-SC-05": "Not_Reviewed"}),
    image("sc-backups-null-dacl", {"CWH-SC-06"}, "NULL DACL: everyone can write or read",
          expect={"CWH-SC-06": "Open"}),
]
RPC_REACHES = ("CWH-CWA-04", "CWH-CWA-05", "CWH-CWA-07")  # the closed TCP ports above 1024
FAULTS += [
    # Review of issue 13: a Block rule narrowed to one program (the one Windows writes when a
    # user dismisses its prompt) closes nothing for the rest; one whose service filter was not
    # answered closes nothing for sure.
    automate_image("cwa-block-rule-for-one-program", {"CWH-CWA-06"},
                   "allowed by LabTech Legacy .*applies only to program",
                   expect={"CWH-CWA-06": "Open"}),
    automate_image("cwa-block-rule-service-unread", {"CWH-CWA-03", "CWH-CWA-06"},
                   "its service not read|LabTech Legacy",
                   expect={"CWH-CWA-03": "Not_Reviewed", "CWH-CWA-06": "Open"}),
    # The heartbeat allowed for another program than LTAgent, which listens.
    automate_image("cwa-heartbeat-rule-other-program", {"CWH-CWA-03"},
                   "another program than the listener's", expect={"CWH-CWA-03": "Open"}),
    # MySQL moved to 3307 and open there.
    automate_image("cwa-mysql-moved-port", {"CWH-CWA-04"}, "3307",
                   expect={"CWH-CWA-04": "Open"}),
    # An enabled RPC-keyword rule (WMI) moves nothing with Windows' default dynamic range ...
    automate_image("cwa-wmi-rpc-rule-enabled", ()),
    # ... but RPC's own configured range, or an unreadable dynamic range, leaves it unknown.
    # (MySQL's 3306 and RDP's 3389 lie above 1024 too.)
    automate_image("cwa-rpc-ports-configured", RPC_REACHES,
                   "RPC's own port range is configured",
                   expect=dict.fromkeys(RPC_REACHES, "Not_Reviewed")),
    automate_image("cwa-dynamic-ports-unreadable", RPC_REACHES,
                   "dynamic port ranges could not be read",
                   expect=dict.fromkeys(RPC_REACHES, "Not_Reviewed")),
    # web.config owned by Users (implicit WRITE_DAC), or writable by INTERACTIVE.
    image("sc-webconfig-owned-by-users", {"CWH-SC-05"}, "owned by BUILTIN\\\\Users",
          expect={"CWH-SC-05": "Open"}),
    image("sc-webconfig-interactive-write", {"CWH-SC-05"}, "INTERACTIVE .* can write",
          expect={"CWH-SC-05": "Open"}),
]
