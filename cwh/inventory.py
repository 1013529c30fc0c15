"""Ansible-style YAML inventory -> audit targets with merged variables.

The format is Ansible's (all / children / hosts / vars), so admins can point the suite at the
inventory they already have. Variables merge the way Ansible merges them: `all`, then groups by
depth (parents before children), siblings by `ansible_group_priority` then name, then host vars.
Connection variables keep Ansible's names; the suite's own start with `cwh_` and are validated
here, so a typo stops the run with the file, host and key named, before anything connects.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import yaml

from cwh.errors import ConfigError
from cwh.identity import expected_hostname_problem
from cwh.inventory_vars import NETWORK_ACCESS, check_suite_vars
from cwh.user_yaml import UserYamlLoader, load_user_yaml

TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate")
PASSWORD_ENV = "CWH_WINRM_PASSWORD"
# The one piece of Ansible templating we honour: secrets from the environment.
_ENV_LOOKUP = re.compile(
    r"""^\{\{\s*lookup\(\s*['"]env['"]\s*,\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)\s*\}\}$""")


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach one host over WinRM. Hashable, so testinfra can cache hosts built from it."""

    name: str
    address: str
    port: int
    scheme: str
    transport: str
    user: str
    password: str = field(repr=False, default="")
    server_cert_validation: str = "validate"
    ca_trust_path: str | None = None
    cert_pem: str | None = None
    cert_key_pem: str | None = None
    read_timeout_sec: int = 30
    operation_timeout_sec: int = 20
    command_timeout_sec: int = 120

    @property
    def endpoint(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{host}:{self.port}/wsman"


@dataclass(frozen=True)
class Target:
    """One inventory host: its connection and the suite variables that apply to it."""

    name: str
    groups: tuple[str, ...]
    connection: ConnectionSettings
    vars: Mapping[str, Any] = field(repr=False, hash=False, compare=False)

    def var(self, key: str, default: Any = None) -> Any:
        return self.vars.get(key, default)

    @property
    def lab_image(self) -> str | None:
        return self.vars.get("cwh_lab_image")

    @property
    def network_only(self) -> bool:
        """`cwh_access: network`: audited from the runner alone, never over WinRM."""
        return self.vars.get("cwh_access") == NETWORK_ACCESS


@dataclass
class Inventory:
    path: str
    targets: list[Target]
    groups: dict[str, set[str]]  # group -> every host in it, children included


# Connection variables that must be written as text (an address, an account, a secret, a path).
_TEXT_VARS = ("ansible_host", "ansible_user", "ansible_winrm_user", "ansible_password",
              "ansible_winrm_password", "ansible_winrm_pass", "ansible_winrm_ca_trust_path",
              "ansible_winrm_cert_pem", "ansible_winrm_cert_key_pem")
# Inventory keys resolved relative to the inventory file, as Ansible users expect.
_PATH_VARS = ("ansible_winrm_ca_trust_path", "ansible_winrm_cert_pem", "ansible_winrm_cert_key_pem",
              "cwh_ca_bundle")


# --- loading ----------------------------------------------------------------------------------

class _Loader(UserYamlLoader):
    """The user-YAML loader, naming Ansible Vault values instead of failing on an unknown tag."""


class Unsafe(str):
    """A value marked `!unsafe`: Ansible never templates it, and neither do we."""


def _vault(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise ConfigError(
        f"line {node.start_mark.line + 1}: Ansible Vault values (!vault) are not supported; "
        f"use \"{{{{ lookup('env', 'NAME') }}}}\" and export NAME"
    )


_Loader.add_constructor("!vault", _vault)
_Loader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"inventory {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"inventory {path}: not UTF-8 text (byte {exc.start + 1})") from None
    try:
        data = load_user_yaml(text, _Loader)
    except ConfigError as exc:
        raise ConfigError(f"inventory {path}: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"inventory {path}: expected a mapping with an 'all' group at the top")
    return data


def _yaml_kind(value: Any) -> str:
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dt.date):
        return "a date"
    return f"a {type(value).__name__}"


def _names(path: Path, what: str, where: str, mapping: dict) -> None:
    """Group, host and variable names must be text. YAML reads `10`, `010`, `yes` and
    `2026-01-01` unquoted as a number, a boolean or a date; converting back would turn 010 into
    host 8 and `yes` into True, so the run stops and says to quote it."""
    for name in mapping:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"inventory {path}: {where}: {what} name {name!r} is not text "
                              f"(YAML read it as {_yaml_kind(name)}): quote the name")


@dataclass
class _Group:
    name: str
    vars: dict
    hosts: dict[str, dict]
    children: list[str]
    depth: int = 0
    priority: int = 1


def _parse_groups(path: Path, data: dict) -> dict[str, _Group]:
    groups: dict[str, _Group] = {}

    def visit(name: str, body: Any, depth: int, trail: tuple[str, ...]) -> None:
        if name in trail:
            cycle = " > ".join(trail)
            raise ConfigError(f"inventory {path}: group {name} contains itself ({cycle})")
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ConfigError(f"inventory {path}: group {name} must be a mapping")
        unknown = set(body) - {"vars", "hosts", "children"}
        if unknown:
            raise ConfigError(
                f"inventory {path}: group {name} has unknown key "
                f"{sorted(map(str, unknown))[0]!r} "
                "(allowed: vars, hosts, children)"
            )
        group_vars = body.get("vars") or {}
        hosts = body.get("hosts") or {}
        children = body.get("children") or {}
        for label, value in (("vars", group_vars), ("hosts", hosts), ("children", children)):
            if not isinstance(value, dict):
                raise ConfigError(f"inventory {path}: group {name}: '{label}' must be a mapping")
        _names(path, "variable", f"group {name}: vars", group_vars)
        _names(path, "host", f"group {name}: hosts", hosts)
        _names(path, "group", f"group {name}: children", children)
        for host, host_vars in hosts.items():
            if host_vars is not None and not isinstance(host_vars, dict):
                raise ConfigError(f"inventory {path}: host {host}: its variables must be a mapping")
            _names(path, "variable", f"host {host}", host_vars or {})
        group = groups.setdefault(name, _Group(name, {}, {}, []))
        group.vars.update(group_vars)
        group.hosts.update({h: dict(v or {}) for h, v in hosts.items()})
        group.depth = max(group.depth, depth)
        priority = group_vars.get("ansible_group_priority", group.priority)
        group.priority = priority if isinstance(priority, int) else 1
        for child, child_body in children.items():
            if child not in group.children:
                group.children.append(child)
            visit(child, child_body, depth + 1, (*trail, name))

    _names(path, "group", "top level", data)
    if "all" in data:
        extra = set(data) - {"all"}
        if extra and not isinstance(data["all"], dict | None):
            raise ConfigError(f"inventory {path}: group all must be a mapping")
        if extra:
            # Ansible accepts top-level groups beside 'all'; they are children of 'all'.
            data = {"all": {**(data["all"] or {}), "children": {
                **((data["all"] or {}).get("children") or {}), **{k: data[k] for k in extra}}}}
        visit("all", data["all"], 0, ())
    else:
        visit("all", {"children": data}, 0, ())
    return groups


def _members(groups: dict[str, _Group]) -> dict[str, set[str]]:
    members: dict[str, set[str]] = {}

    def collect(name: str) -> set[str]:
        if name not in members:
            group = groups[name]
            found = set(group.hosts)
            for child in group.children:
                found |= collect(child)
            members[name] = found
        return members[name]

    for name in groups:
        collect(name)
    return members


def _merged_vars(host: str, groups: dict[str, _Group], members: dict[str, set[str]]) -> tuple[
        dict, list[str]]:
    mine = [g for g in groups.values() if host in members[g.name]]
    mine.sort(key=lambda g: (g.depth, g.priority, g.name))
    merged: dict = {}
    for group in mine:
        merged.update(group.vars)
    for group in mine:  # host vars win; a host listed in several groups merges its entries
        merged.update(group.hosts.get(host, {}))
    return merged, [g.name for g in mine if g.name != "all"]


# --- validation -------------------------------------------------------------------------------

def _resolve_secret(where: str, key: str, value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, list):
        return [_resolve_secret(where, key, v, environ) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_secret(where, key, v, environ) for k, v in value.items()}
    if not isinstance(value, str) or isinstance(value, Unsafe) or "{{" not in value:
        return value
    match = _ENV_LOOKUP.match(value.strip())
    if not match:
        raise ConfigError(
            f"{where}: {key}: only \"{{{{ lookup('env', 'NAME') }}}}\" templating is supported"
        )
    name = match.group(1)
    if name not in environ:
        raise ConfigError(f"{where}: {key} reads environment variable {name}, which is not set")
    return environ[name]


def _as_int(where: str, key: str, value: Any, low: int = 1, high: int = 65535) -> int:
    """A whole number as written: a YAML integer, or text of ASCII digits. int() would also
    take 5985.0, '59_85', ' 5985' and fullwidth digits; none of them is a port as written."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise ConfigError(f"{where}: {key} must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise ConfigError(f"{where}: {key} must be between {low} and {high}, got {number}")
    return number


def _connection(where: str, name: str, hv: dict, environ: Mapping[str, str]) -> ConnectionSettings:
    def get(*keys: str, default: Any = None) -> Any:
        for key in keys:
            if key in hv and hv[key] is not None:
                return _resolve_secret(where, key, hv[key], environ)
        return default

    port = _as_int(where, "ansible_port", get("ansible_port", default=5986))
    # Ansible's rule: http on 5985, https anywhere else, unless the scheme is given.
    scheme = get("ansible_winrm_scheme", default="http" if port == 5985 else "https")
    if scheme not in ("http", "https"):
        raise ConfigError(f"{where}: ansible_winrm_scheme must be http or https, got {scheme!r}")
    transport = get("ansible_winrm_transport", default="ntlm")
    if isinstance(transport, list):  # Ansible allows a list; we take the first
        transport = transport[0] if transport else "ntlm"
    if transport not in TRANSPORTS:
        raise ConfigError(
            f"{where}: ansible_winrm_transport must be one of {', '.join(TRANSPORTS)}, "
            f"got {transport!r}"
        )
    validation = get("ansible_winrm_server_cert_validation", default="validate")
    if validation not in ("validate", "ignore"):
        raise ConfigError(
            f"{where}: ansible_winrm_server_cert_validation must be validate or ignore, "
            f"got {validation!r}"
        )
    # YAML turns an unquoted 012345 into 5349 and 1e3 into 1000.0: converting back would send
    # another password (and lock the account out), so these must be written as text.
    for key in _TEXT_VARS:
        if key in hv and hv[key] is not None and (not isinstance(hv[key], str) or not hv[key]):
            raise ConfigError(f"{where}: {key} must be text, not {_yaml_kind(hv[key])}: "
                              "quote it")
    user = get("ansible_user", "ansible_winrm_user", default="")
    password = get("ansible_password", "ansible_winrm_password", "ansible_winrm_pass")
    if password is None:
        password = environ.get(PASSWORD_ENV, "")
    cert_pem, cert_key = get("ansible_winrm_cert_pem"), get("ansible_winrm_cert_key_pem")
    if transport == "certificate":
        if not (cert_pem and cert_key):
            raise ConfigError(f"{where}: certificate transport needs ansible_winrm_cert_pem and "
                              "ansible_winrm_cert_key_pem")
    elif transport != "kerberos":
        if not user:
            raise ConfigError(f"{where}: ansible_user is not set")
        if not password:
            raise ConfigError(
                f"{where}: no password: set ansible_password (for example "
                f"\"{{{{ lookup('env', 'NAME') }}}}\") or export {PASSWORD_ENV}"
            )
    read_timeout = _as_int(where, "ansible_winrm_read_timeout_sec",
                           get("ansible_winrm_read_timeout_sec", default=30), 2, 3600)
    op_timeout = _as_int(where, "ansible_winrm_operation_timeout_sec",
                         get("ansible_winrm_operation_timeout_sec", default=20), 1, 3600)
    if op_timeout >= read_timeout:
        raise ConfigError(f"{where}: ansible_winrm_read_timeout_sec ({read_timeout}) must exceed "
                          f"ansible_winrm_operation_timeout_sec ({op_timeout})")
    return ConnectionSettings(
        name=name,
        address=str(get("ansible_host", default=name)),
        port=port,
        scheme=scheme,
        transport=transport,
        user=str(user),
        password=str(password),
        server_cert_validation=validation,
        ca_trust_path=get("ansible_winrm_ca_trust_path"),
        cert_pem=cert_pem,
        cert_key_pem=cert_key,
        read_timeout_sec=read_timeout,
        operation_timeout_sec=op_timeout,
        command_timeout_sec=int(hv.get("cwh_command_timeout_sec", 120)),
    )


def check_files(inventory_path: str, target: Target) -> None:
    """Files the inventory names must exist. Separate from loading because the lab creates its
    CA file only when it starts."""
    for key in _PATH_VARS:
        value = target.vars.get(key)
        if value and not Path(value).exists():
            raise ConfigError(f"inventory {inventory_path}: host {target.name}: {key} {value} "
                              "does not exist")


def _resolve_paths(base: Path, hv: dict) -> None:
    for key in _PATH_VARS:
        value = hv.get(key)
        if isinstance(value, str) and value and "{{" not in value:
            hv[key] = str((base / os.path.expanduser(value)).resolve())


def _is_winrm(hv: dict) -> bool:
    return hv.get("ansible_connection", "winrm") == "winrm"


# Variables that only mean something over WinRM: on a network-only host they would silently do
# nothing, so they are refused there.
_HOST_ACCESS_ONLY = ("cwh_expected_hostname", "cwh_lab_fault", "cwh_lab_latency_ms",
                     "cwh_lab_chunk_bytes")


def _network_connection(where: str, name: str, hv: dict,
                        environ: Mapping[str, str]) -> ConnectionSettings:
    """A `cwh_access: network` host: no WinRM variables are read (group vars may still carry
    them for the other hosts), only the address the runner probes."""
    if not hv.get("cwh_web_url"):
        raise ConfigError(f"{where}: cwh_access: network needs cwh_web_url (the URL users "
                          "open): without host access there is no web.config to find it in")
    for key in _HOST_ACCESS_ONLY:
        if key in hv:
            raise ConfigError(f"{where}: {key} needs host access (WinRM), which a "
                              "cwh_access: network host does not have")
    address = _resolve_secret(where, "ansible_host", hv.get("ansible_host", name), environ)
    if not isinstance(address, str) or not address:
        raise ConfigError(f"{where}: ansible_host must be text, not {_yaml_kind(address)}: "
                          "quote it")
    return ConnectionSettings(name=name, address=address, port=0, scheme="", transport="",
                              user="")


def load_inventory(
    path: str | os.PathLike,
    *,
    limit: str | None = None,
    known_controls: set[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Inventory:
    """Load, merge, select (`--limit`) and validate; raises ConfigError naming file, host, key."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    try:
        return _load(path, limit, known_controls, environ)
    except ConfigError:
        raise
    except Exception as exc:
        # Last resort: a shape no check foresaw must still be one line, and never a traceback
        # (pytest --full-trace -l would print the file's text, passwords included).
        raise ConfigError(f"inventory {path}: cannot be understood ({type(exc).__name__} "
                          "while reading it; please report this)") from None


def _load(path: Path, limit: str | None, known_controls: set[str] | None,
          environ: Mapping[str, str]) -> Inventory:
    groups = _parse_groups(path, _read_yaml(path))
    members = _members(groups)
    all_hosts = sorted(members["all"])
    selected = select_hosts(all_hosts, members, limit, path) if limit else all_hosts
    targets = []
    for name in selected:
        hv, host_groups = _merged_vars(name, groups, members)
        network_only = hv.get("cwh_access") == NETWORK_ACCESS
        if not network_only and not _is_winrm(hv):
            continue
        where = f"inventory {path}: host {name}"
        for key in [k for k in hv if k.startswith("cwh_")]:
            hv[key] = _resolve_secret(where, key, hv[key], environ)
        _resolve_paths(path.parent, hv)
        check_suite_vars(where, hv, known_controls)
        connection = _network_connection(where, name, hv, environ) if network_only else \
            _connection(where, name, hv, environ)
        targets.append(Target(name, tuple(host_groups), connection, hv))
    if not targets:
        reason = f" matching --limit {limit}" if limit else ""
        raise ConfigError(f"inventory {path}: no WinRM hosts{reason} (and no host with "
                          "cwh_access: network)")
    return Inventory(str(path), targets, members)


def select_hosts(hosts: Iterable[str], members: Mapping[str, set[str]], limit: str,
                 path: Path | str = "") -> list[str]:
    """Ansible-like --limit: comma-separated host or group names and globs; '!' excludes."""
    hosts = list(hosts)
    include: set[str] = set()
    exclude: set[str] = set()
    patterns = [p.strip() for p in limit.split(",") if p.strip()]
    if not patterns:
        raise ConfigError(f"--limit {limit!r}: no pattern given")
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        matched = {h for h in hosts if fnmatch.fnmatchcase(h, pattern)}
        for group, group_hosts in members.items():
            if fnmatch.fnmatchcase(group, pattern):
                matched |= group_hosts
        if not matched:
            raise ConfigError(f"--limit: {pattern!r} matches no host or group in inventory {path}")
        (exclude if negate else include).update(matched)
    if not include:
        include = set(hosts)
    return [h for h in hosts if h in include and h not in exclude]


def target_from_url(url: str, environ: Mapping[str, str] | None = None) -> Target:
    """testinfra-style `winrm://user[:password]@host[:port]?transport=...` for an ad-hoc run."""
    environ = os.environ if environ is None else environ
    parsed = urlparse(url)
    where = f"--hosts {parsed.scheme}://{parsed.hostname or ''}"
    if parsed.scheme != "winrm" or not parsed.hostname:
        raise ConfigError(f"{where}: expected winrm://user@host:port")
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    hv: dict[str, Any] = {
        "ansible_host": parsed.hostname,
        "ansible_user": unquote(parsed.username or ""),
        "ansible_winrm_transport": query.get("transport", "ntlm"),
    }
    if parsed.password:
        hv["ansible_password"] = unquote(parsed.password)
    no_ssl = query.get("no_ssl", "false").lower() == "true"
    hv["ansible_winrm_scheme"] = "http" if no_ssl else "https"
    try:
        port = parsed.port
    except ValueError:
        raise ConfigError(f"{where}: the port must be a number between 1 and 65535") from None
    hv["ansible_port"] = port or (5985 if no_ssl else 5986)
    if query.get("no_verify_ssl", "false").lower() == "true":
        hv["ansible_winrm_server_cert_validation"] = "ignore"
    for key in ("read_timeout_sec", "operation_timeout_sec", "ca_trust_path"):
        if key in query:
            hv[f"ansible_winrm_{key}"] = query[key]
    if "expected_hostname" in query:  # the host's own name, when the URL gives an address
        problem = expected_hostname_problem(query["expected_hostname"])
        if problem:
            raise ConfigError(f"{where}: expected_hostname {problem}")
        hv["cwh_expected_hostname"] = query["expected_hostname"]
    name = parsed.hostname
    return Target(name, (), _connection(where, name, hv, environ), hv)
