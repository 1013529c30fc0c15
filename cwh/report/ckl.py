"""CKL: the STIG Viewer 2 checklist (XML), valid against the DISA checklist XSD 2.5.

Element order is the XSD's (every content model is a sequence); STIG_DATA follows the order
STIG Viewer 2.17 writes, with one STIG_DATA per CCI_REF and LEGACY_ID value; STIG_INFO carries all
eleven SID_NAMEs, an empty one without SID_DATA as STIG Viewer writes it. The text is written
the way ElementTree writes such a tree (indented with tabs), escaping markup in host-provided
text; the model already replaced the characters XML 1.0 forbids.
"""

from __future__ import annotations

from functools import lru_cache

from cwh.report.asset import Asset
from cwh.report.checklist import IStig, Vuln
from cwh.report.xml_text import clean

# (VULN_ATTRIBUTE, Vuln field) in the order STIG Viewer 2.17 writes them; LEGACY_ID and CCI_REF
# (repeated, one element per value) follow.
STIG_DATA_FIELDS = (
    ("Vuln_Num", "vuln_num"), ("Severity", "severity"), ("Group_Title", "group_title"),
    ("Rule_ID", "rule_id"), ("Rule_Ver", "rule_ver"), ("Rule_Title", "rule_title"),
    ("Vuln_Discuss", "discussion"), ("IA_Controls", "ia_controls"),
    ("Check_Content", "check_content"), ("Fix_Text", "fix_text"),
    ("False_Positives", "false_positives"), ("False_Negatives", "false_negatives"),
    ("Documentable", "documentable"), ("Mitigations", "mitigations"),
    ("Potential_Impact", "potential_impact"), ("Third_Party_Tools", "third_party_tools"),
    ("Mitigation_Control", "mitigation_control"), ("Responsibility", "responsibility"),
    ("Security_Override_Guidance", "security_override_guidance"),
    ("Check_Content_Ref", "check_content_ref"), ("Weight", "weight"), ("Class", "rule_class"),
    ("STIGRef", "stig_ref"), ("TargetKey", "target_key"), ("STIG_UUID", "stig_uuid"),
)
# STIG_INFO in the order STIG Viewer writes it.
SID_NAMES = ("version", "classification", "customname", "stigid", "description", "filename",
             "releaseinfo", "title", "uuid", "notice", "source")
HEADER = "cwh: ConnectWise ScreenConnect hardening audit, checklist export (not STIG Viewer)"


def _escape(text: str) -> str:
    """What ElementTree escapes in element text (the model already removed what XML 1.0
    forbids)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


class _Writer:
    """The document as ElementTree.indent(space="\\t") and tostring(short_empty_elements=False)
    write it, built as text: 50 times fewer calls for a fleet's checklists (1.6 million
    elements for 200 hosts x 274 rules)."""

    indent = tuple("\t" * depth for depth in range(8))

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.depth = 0

    def leaf(self, tag: str, text: str | None = "") -> None:
        # The model's texts are clean already (cwh/report/checklist.py); clean() keeps it so
        # for anything else, cheaply.
        self.parts.append(f"{self.indent[self.depth]}<{tag}>{_escape(clean(text))}</{tag}>\n")

    def open(self, tag: str) -> None:
        self.parts.append(f"{self.indent[self.depth]}<{tag}>\n")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.parts.append(f"{self.indent[self.depth]}</{tag}>\n")


def _asset(out: _Writer, asset: Asset) -> None:
    out.open("ASSET")
    out.leaf("ROLE", asset.role)
    out.leaf("ASSET_TYPE", asset.asset_type)
    if asset.marking:
        out.leaf("MARKING", asset.marking)
    out.leaf("HOST_NAME", asset.host_name)
    out.leaf("HOST_IP", asset.host_ip)
    out.leaf("HOST_MAC", asset.host_mac)
    out.leaf("HOST_FQDN", asset.host_fqdn)
    out.leaf("TARGET_COMMENT", asset.target_comment)
    out.leaf("TECH_AREA", asset.tech_area)
    out.leaf("TARGET_KEY", asset.target_key)
    out.leaf("WEB_OR_DATABASE", "true" if asset.web_or_database else "false")
    out.leaf("WEB_DB_SITE", asset.web_db_site)
    out.leaf("WEB_DB_INSTANCE", asset.web_db_instance)
    out.close("ASSET")


def _stig_info(out: _Writer, istig: IStig) -> None:
    values = {
        "version": istig.version, "classification": istig.classification,
        "customname": istig.customname, "stigid": istig.benchmark_id,
        "description": istig.description, "filename": istig.filename,
        "releaseinfo": istig.release_info, "title": istig.title, "uuid": istig.uuid,
        "notice": istig.notice, "source": istig.source,
    }
    out.open("STIG_INFO")
    for name in SID_NAMES:
        out.open("SI_DATA")
        out.leaf("SID_NAME", name)
        if values[name]:
            out.leaf("SID_DATA", values[name])
        out.close("SI_DATA")
    out.close("STIG_INFO")


def _stig_data(out: _Writer, attribute: str, value: str) -> None:
    out.open("STIG_DATA")
    out.leaf("VULN_ATTRIBUTE", attribute)
    out.leaf("ATTRIBUTE_DATA", value)
    out.close("STIG_DATA")


# STIG_UUID (the host's iSTIG) is the one STIG_DATA field that differs between two hosts' copies
# of a rule; the fields before it, and the LEGACY_ID and CCI_REF after it, are written once per
# rule and reused (a fleet's checklists hold the same 274 rules for every host).
_RULE_FIELDS = STIG_DATA_FIELDS[:-1]
assert STIG_DATA_FIELDS[-1] == ("STIG_UUID", "stig_uuid")


@lru_cache(maxsize=4096)
def _stig_data_text(depth: int, pairs: tuple[tuple[str, str], ...]) -> str:
    out = _Writer()
    out.depth = depth
    for attribute, value in pairs:
        _stig_data(out, attribute, value)
    return "".join(out.parts)


def _vuln(out: _Writer, vuln: Vuln) -> None:
    out.open("VULN")
    out.parts.append(_stig_data_text(out.depth, tuple(
        (attribute, getattr(vuln, name)) for attribute, name in _RULE_FIELDS)))
    _stig_data(out, "STIG_UUID", vuln.stig_uuid)
    out.parts.append(_stig_data_text(out.depth, (
        *(("LEGACY_ID", legacy) for legacy in vuln.legacy_ids or ("",)),
        *(("CCI_REF", cci) for cci in vuln.ccis))))
    out.leaf("STATUS", vuln.status)
    out.leaf("FINDING_DETAILS", vuln.finding_details)
    out.leaf("COMMENTS", vuln.comments)
    out.leaf("SEVERITY_OVERRIDE", vuln.severity_override)
    out.leaf("SEVERITY_JUSTIFICATION", vuln.severity_justification)
    out.close("VULN")


def render_ckl(asset: Asset, istigs: list[IStig]) -> bytes:
    """The checklist as UTF-8 XML with a declaration. An iSTIG without rules is left out (the
    XSD needs at least one VULN); ValueError when nothing is left to write."""
    kept = [istig for istig in istigs if istig.vulns]
    if not kept:
        raise ValueError(f"no checklist for {asset.host_name}: there are no results to write")
    out = _Writer()
    out.open("CHECKLIST")
    _asset(out, asset)
    out.open("STIGS")
    for istig in kept:
        out.open("iSTIG")
        _stig_info(out, istig)
        for vuln in istig.vulns:
            _vuln(out, vuln)
        out.close("iSTIG")
    out.close("STIGS")
    out.close("CHECKLIST")
    body = "".join(out.parts).rstrip("\n")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!--{HEADER}-->\n{body}\n').encode()
