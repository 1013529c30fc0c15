"""The lab's stand-in for powershell.exe: it answers the suite's collector from a host image.

It recognises exactly one thing, the bootstrap command line followed by the collector script on
stdin, and answers each requested section the way the PowerShell in collector.ps1 would on a
host matching the image (same JSON shape, same encoding). Anything else gets the error Windows
would give an unknown command (non-zero exit, error text). It never invents a fact: a section
whose facts the image does not hold fails with an error, exactly as a broken section would.

When collector.ps1 changes, this module must change with it: the collector's version line is
checked, and a mismatch is answered as an error.
"""

from __future__ import annotations

import base64
import fnmatch
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cwh.collect.script import (
    BOOTSTRAP_SCRIPT,
    bootstrap_command,
    collector_version,
    decode_stdin_payload,
    split_collector,
)
from cwh.lab import (
    platform_sections,
    policy_sections,
    powershell,
    product_sections,
    system_sections,
)
from cwh.lab.httpsys import registry_binding, render_netsh_sslcert
from cwh.lab.iis_files import SiteConfigsError, find_site_configs
from cwh.lab.image import ADMINISTRATORS, Image
from cwh.lab.section_error import SectionFailure
from cwh.lab.section_kit import (
    Context,
    certificates_section,
    find_named,
    registry_value,
)
from cwh.lab.winrm import CommandResult

EMULATED_COLLECTOR_VERSION = "4"
# What the collector reads from the request before any section runs (Set-StrictMode makes a
# missing one fatal).
REQUEST_KEYS = ("sections", "max_text_bytes", "section_budget_sec")
_NOT_RECOGNIZED = ("'{word}' is not recognized as an internal or external command,\r\n"
                   "operable program or batch file.\r\n")


# --- one function per collector section -------------------------------------------------------

def _os(image: Image, request: dict) -> dict:
    data = image.get("os")
    if not isinstance(data, dict):
        raise SectionFailure("Get-CimInstance : Invalid class \"Win32_OperatingSystem\"")
    return {k: data.get(k) for k in ("caption", "version", "build", "product_type", "language",
                                     "architecture", "last_boot")}


def _identity(image: Image, request: dict) -> dict:
    data = image.get("identity")
    user = image.get("user") or {}
    if not isinstance(data, dict):
        raise SectionFailure("Get-CimInstance : Invalid class \"Win32_ComputerSystem\"")
    return {
        **{k: data.get(k) for k in ("computer_name", "dns_host_name", "domain", "part_of_domain",
                                    "domain_role", "ip_addresses", "mac_addresses")},
        "user": user.get("name"),
        "user_sid": user.get("sid"),
        "is_admin": bool(user.get("is_admin", False)),
        **policy_sections.identity_sids(data),
    }


def _registry(image: Image, request: dict) -> dict:
    values = [registry_value(image, item["path"], item["name"]) for item in request["registry"]]
    return {"view": "Registry64", "values": values}


def _inf_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def render_secedit_inf(policy: dict[str, dict[str, Any]]) -> str:
    """The INF text `secedit /export` writes (read back as text by the collector). A section's
    `_lines` are written verbatim at its top: what a damaged or hand-edited export holds
    (a key twice, text no mapping can express)."""
    lines = ["[Unicode]", "Unicode=yes"]
    for section, entries in policy.items():
        lines.append(f"[{section}]")
        lines += [str(line) for line in (entries or {}).get("_lines") or []]
        for key, value in (entries or {}).items():
            if value is None or key == "_lines":
                continue  # a right assigned to no one is absent from the export
            lines.append(f"{key} = {_inf_value(value)}")
    lines += ["[Version]", 'signature="$CHICAGO$"', "Revision=1"]
    return "\r\n".join(lines) + "\r\n"


def _secedit(image: Image, request: dict) -> dict:
    user = image.get("user") or {}
    if not user.get("is_admin"):
        raise SectionFailure("secedit /export failed with exit code 1: Task is completing. "
                             "An extended error has occurred. Access is denied.")
    policy = image.get("security_policy")
    if not isinstance(policy, dict):
        raise SectionFailure("secedit /export failed with exit code 1: the image holds no "
                             "security policy")
    inf = render_secedit_inf(policy)
    return {"command": "secedit /export /areas SECURITYPOLICY USER_RIGHTS", "inf": inf,
            "principals": policy_sections.right_holders(image, inf)}


def _member_type(kind: Any) -> str:
    """What Get-CwhMemberType (or the ADSI branch) makes of a member of this image type."""
    return kind if kind in ("User", "Group") else "Other"


def _local_admins(image: Image, request: dict) -> dict:
    """A member's `object_class` in the image is its type (User, Group; default User). The
    group's `object_class_text` plays localized Windows: the text Get-LocalGroupMember prints
    for each type ({User: Benutzer, Group: Gruppe}); the collector's member_type stays the
    type. ADSI's class names are never translated."""
    groups = image.get("local_groups") or {}
    group = groups.get(ADMINISTRATORS)
    if not isinstance(group, dict):
        raise SectionFailure("Group S-1-5-32-544 was not found.")
    members = group.get("members") or []
    printed = group.get("object_class_text") or {}
    orphaned = any(m.get("orphaned") for m in members)
    shaped = []
    for member in members:
        if orphaned:  # Get-LocalGroupMember fails; the ADSI fallback sees the raw SIDs
            kind = None if member.get("orphaned") else member.get("object_class", "User")
            shaped.append({"name": None if member.get("orphaned") else member.get("name"),
                           "sid": member.get("sid"), "object_class": kind,
                           "member_type": _member_type(kind),
                           "principal_source": None, "resolved": not member.get("orphaned")})
        else:
            kind = member.get("object_class", "User")
            shaped.append({"name": member.get("name"), "sid": member.get("sid"),
                           "object_class": printed.get(kind, kind),
                           "member_type": _member_type(kind),
                           "principal_source": member.get("principal_source", "Local"),
                           "resolved": True})
    return {
        "group_sid": ADMINISTRATORS,
        "group_name": group.get("name", "BUILTIN\\Administrators"),
        "method": "ADSI" if orphaned else "Get-LocalGroupMember",
        "note": ("Get-LocalGroupMember failed (Failed to compare two elements in the array.); "
                 "members read through ADSI") if orphaned else None,
        "members": shaped,
    }


def _features(image: Image, request: dict) -> dict:
    available = image.get("features") or {}
    features = {}
    for name in request["features"]:
        found = find_named(available, name)
        if found is None:
            features[name] = {"install_state": None, "source": "Get-WindowsFeature",
                              "error": f"no feature named {name} on this system"}
        else:
            features[name] = {"install_state": found[1], "source": "Get-WindowsFeature",
                              "error": None}
    return {"features": features}


# PowerShell 5.1 runs cmdlets from script and CDXML modules (NetSecurity, NetTCPIP) in their
# module's scope, where the caller's $ErrorActionPreference is not visible: their errors stop the
# script only when the call passes -ErrorAction Stop or $PSDefaultParameterValues defaults it.
# Otherwise the error is written and the pipeline goes on with nothing.
_DEFAULT_STOP = re.compile(r"^\s*\$PSDefaultParameterValues\s*=\s*@\{\s*'\*:ErrorAction'\s*=\s*"
                           r"'Stop'\s*\}", re.M)


def module_errors_stop(body: str, cmdlet: str) -> bool:
    """Whether the collector `body` makes an error of module cmdlet `cmdlet` terminating."""
    if _DEFAULT_STOP.search(body):
        return True
    return any("-ErrorAction Stop" in line for line in body.splitlines()
               if re.search(rf"\b{re.escape(cmdlet)}\b", line) and
               not line.lstrip().startswith("#"))


def _module_error(context: Context, cmdlet: str, message: str) -> None:
    """Raise the section's failure when Windows would stop on this error; else return, and the
    caller answers what the collector sees after a swallowed error (nothing)."""
    if module_errors_stop(context.body(), cmdlet):
        raise SectionFailure(message)


_PROFILE_ORDER = ("Domain", "Private", "Public")  # the Profile flags enum, as ToString joins it


def _profile_enabled(value: Any) -> str:
    return ("True" if value else "False") if isinstance(value, bool) else str(value)


def _firewall_profiles(image: Image, request: dict, context: Context) -> dict:
    firewall = image.get("firewall") or {}
    if firewall.get("query_error"):
        _module_error(context, "Get-NetFirewallProfile", str(firewall["query_error"]))
        return {"store": "ActiveStore", "profiles": [], "active_profile": "",
                "active_profile_error": None}
    profiles = firewall.get("profiles")
    if not isinstance(profiles, dict):
        raise SectionFailure("Get-NetFirewallProfile : The image holds no firewall profiles")
    shaped = []
    for name, state in profiles.items():
        if not isinstance(state, dict) or "enabled" not in state or \
                "default_inbound_action" not in state:
            raise SectionFailure(f"lab: the image's firewall profile {name!r} needs enabled and "
                                 "default_inbound_action")
        shaped.append({"name": name, "enabled": _profile_enabled(state["enabled"]),
                       "default_inbound_action": str(state["default_inbound_action"])})
    active = firewall.get("active_profiles")
    if active is None:
        return {"store": "ActiveStore", "profiles": shaped, "active_profile": None,
                "active_profile_error": "lab: the image does not say which profiles are active"}
    ordered = sorted(active, key=lambda p: (_PROFILE_ORDER.index(p) if p in _PROFILE_ORDER
                                            else len(_PROFILE_ORDER), str(p)))
    return {"store": "ActiveStore", "profiles": shaped,
            "active_profile": ", ".join(map(str, ordered)), "active_profile_error": None}


def _ps_like(text: str, pattern: str) -> bool:
    return fnmatch.fnmatch(text.lower(), pattern.lower())


def _internet_apps(image: Image, request: dict) -> dict:
    installed = [
        {"name": app.get("name"), "version": app.get("version"), "publisher": app.get("publisher")}
        for app in image.get("software") or []
        if any(_ps_like(str(app.get("name", "")), p) for p in request["internet_app_patterns"])
    ]
    wanted = {p.lower() for p in request["browser_data_paths"]}
    profiles = [
        {"sid": p.get("sid"), "path": p.get("path"), "last_use": p.get("last_use"),
         "browser_data": [d for d in p.get("browser_data") or [] if d.lower() in wanted]}
        for p in image.get("profiles") or []
    ]
    return {"installed": installed, "profiles": profiles}


def _firewall_rules(image: Image, request: dict, context: Context) -> dict:
    firewall = image.get("firewall") or {}
    empty = {"store": "ActiveStore", "direction": "Inbound", "rules": []}
    if firewall.get("query_error"):
        _module_error(context, "Get-NetFirewallPortFilter", str(firewall["query_error"]))
        return empty
    rules = firewall.get("rules")
    if not isinstance(rules, list):
        raise SectionFailure("Get-NetFirewallRule : the image holds no firewall rules")
    if not rules:  # a CDXML query with a filter that matches nothing writes an error
        _module_error(context, "Get-NetFirewallRule",
                      "No MSFT_NetFirewallRule objects found with property 'Direction' equal to "
                      "'Inbound'.  Verify the value of the property and retry.")
        return empty
    shaped = [{
        "id": rule.get("id") or rule.get("display_name"),
        "display_name": rule.get("display_name"),
        "enabled": "True" if rule.get("enabled", True) else "False",
        "action": rule.get("action", "Allow"),
        "profiles": rule.get("profiles", "Any"),
        "protocol": rule.get("protocol", "TCP"),
        "local_ports": [str(p) for p in rule.get("local_ports", ["Any"])],
        # Windows gives every rule an application, service and interface-type filter; an
        # unscoped rule's are Any. An image may set one to null (the filter was not answered).
        "program": rule.get("program", "Any"),
        "service": rule.get("service", "Any"),
        "interface_type": rule.get("interface_type", "Any"),
    } for rule in rules]
    return {"store": "ActiveStore", "direction": "Inbound", "rules": shaped,
            "dynamic_ports": _dynamic_ports(image, firewall.get("dynamic_ports") or {})}


# Windows' default dynamic port range since Vista / Server 2008, for TCP (every Get-NetTCPSetting
# template) and UDP.
_DYNAMIC_DEFAULT = {"start": 49152, "count": 16384}
_TCP_SETTINGS = ("Internet", "Datacenter", "Compat", "DatacenterCustom", "InternetCustom")


def _dynamic_ports(image: Image, spec: dict) -> dict:
    """Image key `firewall.dynamic_ports`: {tcp: {start, count}, udp: {start, count}, error}
    (Get-NetTCPSetting / Get-NetUDPSetting); RPC's own ports and a Teredo client port come from
    the image's registry (HKLM\\SOFTWARE\\Microsoft\\Rpc\\Internet Ports, Teredo_ClientPort)."""
    answer: dict[str, Any] = {"tcp": None, "udp": None, "error": spec.get("error")}
    if not answer["error"]:
        tcp, udp = spec.get("tcp") or _DYNAMIC_DEFAULT, spec.get("udp") or _DYNAMIC_DEFAULT
        answer["tcp"] = [{"setting": name, "start": int(tcp["start"]), "count": int(tcp["count"])}
                         for name in _TCP_SETTINGS]
        answer["udp"] = [{"setting": "UDP", "start": int(udp["start"]), "count": int(udp["count"])}]
    answer["rpc_internet"] = registry_value(image, r"HKLM\SOFTWARE\Microsoft\Rpc\Internet", "Ports")
    answer["teredo_client_port"] = [
        registry_value(image, r"HKLM\SOFTWARE\Policies\Microsoft\Windows\TCPIP\v6Transition",
                       "Teredo_ClientPort"),
        registry_value(image, r"HKLM\SYSTEM\CurrentControlSet\Services\iphlpsvc\Teredo",
                       "ClientPort")]
    return answer


def _tcp_listeners(image: Image, request: dict, context: Context) -> dict:
    listeners = image.get("tcp_listeners")
    if not isinstance(listeners, list):
        raise SectionFailure("Get-NetTCPConnection : the image holds no listeners")
    if not listeners:
        _module_error(context, "Get-NetTCPConnection",
                      "No matching MSFT_NetTCPConnection objects found by CIM query for instances "
                      "of the ROOT/StandardCimv2/MSFT_NetTCPConnection class on the  CIM server: "
                      "SELECT * FROM MSFT_NetTCPConnection  WHERE ((State = 2)). Verify query "
                      "parameters and retry.")
    return {"listeners": [{"address": x.get("address", "0.0.0.0"), "port": int(x["port"]),
                           "pid": int(x.get("pid", 4)), "process": x.get("process", "System")}
                          for x in listeners]}


def _services(image: Image, request: dict) -> dict:
    listed = image.get("services") or []
    if not listed:  # as collector.ps1 throws: Windows always has services
        raise SectionFailure("Win32_Service listed no services at all")
    services = [
        {"name": s.get("name"), "display_name": s.get("display_name", s.get("name")),
         "state": s.get("state", "Running"), "start_mode": s.get("start_mode", "Auto"),
         "path": s.get("path")}
        for s in image.get("services") or []
        if any(_ps_like(str(s.get("name", "")), p) for p in request["services"])
    ]
    return {"patterns": request["services"], "listed": len(listed), "services": services}


_IIS_CONFIG = r"C:\Windows\System32\inetsrv\config"
def _iis(image: Image, request: dict) -> dict:
    """Image keys: installed, w3svc_state, config_text (applicationHost.config),
    redirection_config (redirection.config's text; absent: no such file), files, dir_errors."""
    iis = image.get("iis") or {}
    installed = bool(iis.get("installed", False))
    text = iis.get("config_text") if installed else None
    site_configs: list[dict] = []
    site_error = None
    if isinstance(text, str):
        try:
            site_configs = find_site_configs(text, iis, int(request["max_text_bytes"]))
        except SiteConfigsError as exc:
            site_error = str(exc)
    redirection = iis.get("redirection_config") if installed else None
    return {"installed": installed,
            "w3svc_state": iis.get("w3svc_state", "Running") if installed else None,
            "config_path": _IIS_CONFIG + r"\applicationHost.config",
            "config_text": text,
            "redirection_path": _IIS_CONFIG + r"\redirection.config",
            "redirection_exists": redirection is not None,
            "redirection_text": redirection,
            "site_configs": site_configs, "site_configs_error": site_error}


def _beside(path: str, name: str) -> str:
    """Join-Path (Split-Path -Parent path) name."""
    return path.rstrip("\\").rsplit("\\", 1)[0] + "\\" + name


def _screenconnect(image: Image, request: dict) -> dict:
    sc = image.get("screenconnect") or {}
    root = sc.get("install_root")
    exe = f"{root}\\Bin\\ScreenConnect.Service.exe" if root and sc.get("file_version") else None
    text = sc.get("web_config_text") if root else None
    # The ACLs of web.config and of `ScreenConnect Backups` beside the install root, from the
    # image's `acls` as the acls section answers them.
    backups = _beside(root, "ScreenConnect Backups") if root else None
    bits = (image.get("acls") or {}).get("_process_64bit", True)
    acls = [system_sections.acl_item(image, ["file", f"{root}\\web.config", "", "", "", ""]),
            system_sections.acl_item(image, ["directory", backups, "", "", "", ""])] \
        if root else None
    return {"install_root": root, "root_source": sc.get("root_source", "service image path")
            if root else "none", "service_exe": exe, "file_version": sc.get("file_version"),
            "product_version": sc.get("product_version", sc.get("file_version")),
            "web_config_path": f"{root}\\web.config" if text is not None else None,
            "web_config_text": text, "backups_path": backups, "process_64bit": bool(bits),
            "acls": acls}


def _http_sslcert(image: Image, request: dict, context: Context) -> dict:
    """Image keys: `bindings` [{endpoint, certificate | cert_hash, in_registry, in_netsh,
    registry_cert_hash, registry_values}], `netsh_extended_properties` (current builds' format),
    `output` (netsh's raw text), `netsh_error`, `registry_error`."""
    spec = image.get("http_sslcert") or {}
    bindings = []
    for binding in spec.get("bindings") or []:
        issued = context.certificates.get(binding.get("certificate"))
        cert_hash = binding.get("cert_hash") or (issued.sha1_hex() if issued else None)
        bindings.append({**binding, "cert_hash": cert_hash})
    registry: dict[str, Any] = {"path": r"HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters",
                                "error": spec.get("registry_error"), "bindings": []}
    if not registry["error"]:
        for binding in bindings:
            if not binding.get("in_registry", True):
                continue
            entry = registry_binding(binding["endpoint"],
                                     binding.get("registry_cert_hash") or binding["cert_hash"])
            entry["values"].update(binding.get("registry_values") or {})
            registry["bindings"].append(entry)
    section = {"registry": registry, "command": "netsh http show sslcert", "output": None,
               "netsh_error": spec.get("netsh_error")}
    if "output" in spec:
        section["output"] = spec["output"]
    elif not section["netsh_error"]:
        section["output"] = render_netsh_sslcert(
            [b for b in bindings if b.get("in_netsh", True)],
            extended=bool(spec.get("netsh_extended_properties")))
    return section


SECTIONS: dict[str, Callable[[Image, dict], Any]] = {
    "os": _os,
    "identity": _identity,
    "registry": _registry,
    "secedit": _secedit,
    "local_admins": _local_admins,
    "features": _features,
    "internet_apps": _internet_apps,
    "services": _services,
    "iis": _iis,
    "screenconnect": _screenconnect,
    **policy_sections.SECTIONS,
    **platform_sections.SECTIONS,
    **system_sections.SECTIONS,
}
# Sections that also read what the lab generated (certificates).
CONTEXT_SECTIONS: dict[str, Callable[[Image, dict, Context], Any]] = {
    "firewall_profiles": _firewall_profiles,
    "firewall_rules": _firewall_rules,
    "tcp_listeners": _tcp_listeners,
    "http_sslcert": _http_sslcert,
    "certificates": certificates_section,
    **system_sections.CONTEXT_SECTIONS,
}


def _product_section(function: Callable[[Image, dict, Context], Any]) -> \
        Callable[[Image, dict, Context], Any]:
    """A section of cwh/lab/product_sections.py, a module cmdlet's error handled as here."""
    def section(image: Image, request: dict, context: Context) -> Any:
        try:
            return function(image, request, context)
        except product_sections.CmdletError as exc:
            _module_error(context, exc.cmdlet, str(exc))
            return exc.answer
    return section


CONTEXT_SECTIONS.update({name: _product_section(function)
                         for name, function in product_sections.SECTIONS.items()})


# --- the document and its delivery ------------------------------------------------------------

def run_collector(image: Image, request: dict, context: Context | None = None) -> dict:
    """The facts document collector.ps1 would write on a host matching `image`."""
    context = context or Context()
    host = powershell.behaviour(image.get("powershell"))
    budget = float(request.get("section_budget_sec") or 0)
    sections: dict[str, Any] = {}
    for name in request["sections"]:
        if name not in SECTIONS and name not in CONTEXT_SECTIONS:
            sections[name] = {"ok": False, "error": f"the collector has no section '{name}'"}
            continue
        if host.timed_out(name, budget):
            sections[name] = {"ok": False, "timed_out": True, "ms": int(budget * 1000),
                              "error": _timed_out(budget),
                              "error_type": "System.TimeoutException"}
            continue
        try:
            data = SECTIONS[name](image, request) if name in SECTIONS else \
                CONTEXT_SECTIONS[name](image, request, context)
            sections[name] = {"ok": True, "data": host_arrays(host, data), "ms": 1}
        except SectionFailure as exc:
            sections[name] = {"ok": False, "error": str(exc),
                              "error_type": "System.Management.Automation.RuntimeException",
                              "ms": 1}
        except KeyError as exc:  # what Set-StrictMode says of a request without that key
            sections[name] = {"ok": False, "error": _no_property(exc.args[0]),
                              "error_type": "System.Management.Automation.RuntimeException",
                              "ms": 1}
    computer = (image.get("identity") or {}).get("computer_name")
    return {"schema": 1, "collector_version": request.get("collector_version"),
            "computer": computer, "powershell": "5.1.20348.2849",
            "started": "2026-01-01T00:00:00.0000000Z", "finished": "2026-01-01T00:00:01.0000000Z",
            "section_budget_sec": budget,
            "section_runner": {"method": "runspaces", "error": None}, "sections": sections}


def _timed_out(budget: float) -> str:
    """Invoke-CwhSection's message for a section still running at the budget."""
    return (f"the section did not finish within the collector's budget of {budget:g} s; it was "
            "stopped and the other sections were kept")


def _no_property(name: str) -> str:
    return f"The property '{name}' cannot be found on this object. Verify that the property exists."


def host_arrays(host: powershell.Behaviour, data: Any) -> Any:
    """A section's data as this host's PowerShell serializes it."""
    return powershell.unroll(data) if host.unrolled_arrays else data


def encode_document(document: dict) -> bytes:
    """The collector's single output line."""
    blob = gzip.compress(json.dumps(document, separators=(",", ":")).encode("utf-8"))
    return b"CWH-FACTS-GZIP:" + base64.b64encode(blob) + b"\r\n"


def _powershell_error(message: str) -> CommandResult:
    return CommandResult(stdout=b"", stderr=message.encode("utf-8"), exit_code=1)


@dataclass
class CollectorProcess:
    """powershell.exe running the bootstrap: reads stdin, then answers."""

    image: Image
    output_filter: Callable[[dict | None, bytes], CommandResult] | None = None
    context: Context | None = None
    reads_stdin: bool = True

    def run(self, stdin: bytes) -> CommandResult:
        host = powershell.behaviour(self.image.get("powershell"))
        if host.language_mode != "FullLanguage":
            return powershell.run_constrained(BOOTSTRAP_SCRIPT, host.language_mode)
        if not stdin.strip():
            # The bootstrap decodes nothing into an empty script block and runs it: PowerShell
            # exits 0 having written nothing (console-mode stdin, or no Send at all).
            return CommandResult(stdout=b"")
        try:
            base64.b64decode(b"".join(stdin.split()), validate=True)
        except ValueError:
            return _powershell_error('Exception calling "FromBase64String" with "1" argument(s): '
                                     '"The input is not a valid Base-64 string."')
        try:
            script = decode_stdin_payload(stdin)
        except ValueError:  # what GZipStream says of bytes that are not gzip
            return _powershell_error('Exception calling "ReadToEnd" with "0" argument(s): "The '
                                     'magic number in GZip header is not correct. Make sure you '
                                     'are passing in a GZip stream."')
        parts = split_collector(script)
        if parts is None:
            return _powershell_error("lab: this stand-in only runs the cwh collector script; "
                                     "it cannot run arbitrary PowerShell")
        request_json, body = parts
        if collector_version(body) != EMULATED_COLLECTOR_VERSION:
            return _powershell_error(
                f"lab: the collector is version {collector_version(body)}, the lab emulates "
                f"version {EMULATED_COLLECTOR_VERSION}; update cwh/lab/emulator.py with it")
        try:
            request = json.loads(request_json)
        except json.JSONDecodeError as exc:
            return _powershell_error(f"ConvertFrom-Json : Invalid JSON primitive ({exc})")
        missing = [key for key in REQUEST_KEYS if key not in request]
        if missing:  # read before any section runs, under Set-StrictMode
            return _powershell_error(_no_property(missing[0]))
        document = run_collector(self.image, request, (self.context or Context()).running(body))
        output = encode_document(document)
        result = self.output_filter(document, output) if self.output_filter is not None \
            else CommandResult(stdout=output)
        runtime = host.runtime(request["sections"], float(request["section_budget_sec"]))
        return replace(result, runtime_s=max(result.runtime_s, runtime))


@dataclass
class UnknownCommand:
    command_line: str
    reads_stdin: bool = False

    def run(self, stdin: bytes) -> CommandResult:
        word = self.command_line.strip().split(" ", 1)[0] if self.command_line.strip() else ""
        return CommandResult(stdout=b"", stderr=_NOT_RECOGNIZED.format(word=word).encode(),
                             exit_code=1)


class ImageCommandHandler:
    """The CommandHandler the lab's WinRM endpoint calls for each Command."""

    def __init__(self, image: Image,
                 output_filter: Callable[[dict | None, bytes], CommandResult] | None = None,
                 context: Context | None = None):
        self.image = image
        self.output_filter = output_filter
        self.context = context

    def start(self, command_line: str, *,
              skip_cmd_shell: bool) -> CollectorProcess | UnknownCommand:
        if command_line.strip() == bootstrap_command():
            return CollectorProcess(self.image, self.output_filter, self.context)
        return UnknownCommand(command_line)

