"""A fleet of lab hosts for one benchmark run, written as an Ansible-style inventory.

Each host gets its own loopback address (Linux routes all of 127/8 to lo, so no setup and no
root are needed). Addresses come from 127.<prefix>.*.* and never from 127.0.0.*, where the demo
lives (127.0.0.11/12); every run of a benchmark takes a fresh block, so a lab that is still
releasing its ports can never collide with the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cwh.lab.expectations import EXEMPTIONS, lab_stig_inputs

IMAGES = ("hardened", "drifted")
PORT_MAP = {135: 10135, 139: 10139, 443: 10443, 445: 10445}
PASSWORD = "lab-only-not-a-secret"  # the lab accepts nothing else; never a real secret
ADDRESSES_PER_OCTET = 250  # .2 to .251 in the last octet


# The organization-defined values the lab's organization declares for the STIG rules, read from
# inventory/lab.yml (as tests/stig/harness.py does): without them those rules wait,
# Not_Reviewed, for the inventory. cwh_approved_admins and the logon banner are among them.
STIG_INPUTS: dict[str, Any] = lab_stig_inputs()
# Results that are right although they are not what the image's name suggests, not wrong
# results of a run: the lab's one list of them, each with why (cwh/lab/expectations.py; every
# Windows Server 2019 build is 17763, the bound of the supported-version rule, so no 2019 host
# can be Open on it).
KNOWN_DEVIATIONS = {(e.image, e.stig_id) for e in EXEMPTIONS}


def lab_banner() -> str:
    """The hardened image's logon banner: the lab organization's own (DoD's text is DISA's and
    never committed), so its inventory declares it as cwh_legal_notice_text."""
    from cwh.lab.image import load_image

    winlogon = load_image("hardened").get("registry")[
        "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System"]
    return str(winlogon["LegalNoticeText"]["value"])


@dataclass(frozen=True)
class FleetHost:
    name: str
    image: str
    address: str


def address(index: int, prefix: int = 42) -> str:
    """The index-th address of the 127.<prefix>.0.0 range (and onwards), never 127.0.0.*."""
    if not 1 <= prefix <= 254:
        raise ValueError("prefix must be 1..254 (127.0.0.* is the demo's)")
    per_second = ADDRESSES_PER_OCTET * 256
    second = prefix + index // per_second
    if second > 254:
        raise ValueError(f"address index {index} is past 127.254.255.*")
    rest = index % per_second
    return f"127.{second}.{rest // ADDRESSES_PER_OCTET}.{rest % ADDRESSES_PER_OCTET + 2}"


def image_of(index: int, drifted_share: float) -> str:
    """Spread drifted hosts evenly: host i is drifted when floor((i+1)s) > floor(i s)."""
    return "drifted" if int((index + 1) * drifted_share) > int(index * drifted_share) \
        else "hardened"


def plan(count: int, *, first_address: int = 0, prefix: int = 42,
         drifted_share: float = 0.5) -> list[FleetHost]:
    """`count` hosts named sc0000-hardened, sc0001-drifted, ... on consecutive addresses."""
    if not 0.0 <= drifted_share <= 1.0:
        raise ValueError("drifted share must be between 0 and 1")
    hosts = []
    for i in range(count):
        image = image_of(i, drifted_share)
        hosts.append(FleetHost(f"sc{i:04d}-{image}", image, address(first_address + i, prefix)))
    return hosts


def machine_image(directory: Path, host: FleetHost, index: int) -> Path:
    """The host's image as a machine of its own: the image its name says, with a network card
    of its own. cwh/identity.py tells machines apart by name, domain and MAC addresses, so
    without it every host of one image would be one machine under many inventory names, which
    the gate refuses (at most one of them audited), as it should for a real fleet."""
    path = directory / f"{host.name}.yml"
    mac = ":".join(["02", "00", "5E"] + [f"{(index >> s) & 0xFF:02X}" for s in (16, 8, 0)])
    path.write_text(yaml.safe_dump({"extends": host.image,
                                    "identity": {"mac_addresses": [mac]}}))
    return path


def host_vars(host: FleetHost, ca_pem: Path, image: str | None = None) -> dict[str, Any]:
    """Inventory variables of one lab host: hardened speaks NTLM over http (message encryption),
    drifted Basic over https with the WinRM certificate checked against the lab CA. `image`:
    the host's own machine image (machine_image), else the bundled image itself."""
    variables: dict[str, Any] = {"ansible_host": host.address,
                                 "cwh_lab_image": image or host.image,
                                 "cwh_ca_bundle": str(ca_pem),
                                 # the machine the image describes answers on the address
                                 "cwh_expected_hostname": f"SC-{host.image.upper()}"}
    if host.image == "hardened":
        variables.update(ansible_port=5985, ansible_winrm_transport="ntlm")
    else:
        variables.update(ansible_port=5986, ansible_winrm_transport="basic",
                         ansible_winrm_ca_trust_path=str(ca_pem),
                         # users reach drifted through its TLS front end on 443
                         cwh_web_url=f"https://{host.address}:443/")
    return variables


def inventory_data(hosts: list[FleetHost], *, lab_dir: Path, latency_ms: int = 0,
                   images: dict[str, str] | None = None) -> dict:
    """The inventory: group `fleet` with one child group per image (so `--limit hardened` or
    `--limit 'sc00*'` slice it the way a real fleet would be sliced). `images`: each host's
    machine image by host name."""
    images = images or {}
    ca_pem = lab_dir / "ca.pem"
    common: dict[str, Any] = {
        "ansible_connection": "winrm", "ansible_user": "auditor", "ansible_password": PASSWORD,
        "cwh_probe_timeout_sec": 1,
        "cwh_port_map": dict(PORT_MAP),  # privileged ports served unprivileged: no root
        **STIG_INPUTS,  # cwh_approved_admins, the banner, ... (inventory/lab.yml)
    }
    if latency_ms:
        common["cwh_lab_latency_ms"] = int(latency_ms)
    groups: dict[str, Any] = {}
    for image in IMAGES:
        members = {h.name: host_vars(h, ca_pem, images.get(h.name)) for h in hosts
                   if h.image == image}
        if members:
            groups[image] = {"hosts": members}
    return {"all": {"vars": common, "children": {"fleet": {"children": groups}}}}


def write_inventory(path: Path, hosts: list[FleetHost], *, lab_dir: Path,
                    latency_ms: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    machines = path.parent / "machines"
    machines.mkdir(exist_ok=True)
    images = {h.name: str(machine_image(machines, h, i)) for i, h in enumerate(hosts)}
    data = inventory_data(hosts, lab_dir=lab_dir, latency_ms=latency_ms, images=images)
    path.write_text("# generated by bench/run.py: lab hosts only, safe to delete\n" +
                    yaml.safe_dump(data, sort_keys=False))
    return path
