"""CKL: the STIG Viewer 2 checklist (XML), valid against the DISA checklist XSD 2.5.

Element order is the XSD's (every content model is a sequence); STIG_DATA follows the order
STIG Viewer 2.17 writes, with one STIG_DATA per CCI_REF and LEGACY_ID value; STIG_INFO carries all
eleven SID_NAMEs, an empty one without SID_DATA as STIG Viewer writes it. The tree is built with
ElementTree, so markup in host-provided text is escaped; the model already replaced the
characters XML 1.0 forbids.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from cwh.report.checklist import Asset, IStig, Vuln, clean

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


def _child(parent: ET.Element, tag: str, text: str | None = "") -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = clean(text)
    return element


def _asset(root: ET.Element, asset: Asset) -> None:
    node = ET.SubElement(root, "ASSET")
    _child(node, "ROLE", asset.role)
    _child(node, "ASSET_TYPE", asset.asset_type)
    if asset.marking:
        _child(node, "MARKING", asset.marking)
    _child(node, "HOST_NAME", asset.host_name)
    _child(node, "HOST_IP", asset.host_ip)
    _child(node, "HOST_MAC", asset.host_mac)
    _child(node, "HOST_FQDN", asset.host_fqdn)
    _child(node, "TARGET_COMMENT", asset.target_comment)
    _child(node, "TECH_AREA", asset.tech_area)
    _child(node, "TARGET_KEY", asset.target_key)
    _child(node, "WEB_OR_DATABASE", "true" if asset.web_or_database else "false")
    _child(node, "WEB_DB_SITE", asset.web_db_site)
    _child(node, "WEB_DB_INSTANCE", asset.web_db_instance)


def _stig_info(parent: ET.Element, istig: IStig) -> None:
    values = {
        "version": istig.version, "classification": istig.classification,
        "customname": istig.customname, "stigid": istig.benchmark_id,
        "description": istig.description, "filename": istig.filename,
        "releaseinfo": istig.release_info, "title": istig.title, "uuid": istig.uuid,
        "notice": istig.notice, "source": istig.source,
    }
    info = ET.SubElement(parent, "STIG_INFO")
    for name in SID_NAMES:
        item = ET.SubElement(info, "SI_DATA")
        _child(item, "SID_NAME", name)
        if values[name]:
            _child(item, "SID_DATA", values[name])


def _stig_data(vuln_node: ET.Element, attribute: str, value: str) -> None:
    item = ET.SubElement(vuln_node, "STIG_DATA")
    _child(item, "VULN_ATTRIBUTE", attribute)
    _child(item, "ATTRIBUTE_DATA", value)


def _vuln(parent: ET.Element, vuln: Vuln) -> None:
    node = ET.SubElement(parent, "VULN")
    for attribute, name in STIG_DATA_FIELDS:
        _stig_data(node, attribute, getattr(vuln, name))
    for legacy in vuln.legacy_ids or ("",):
        _stig_data(node, "LEGACY_ID", legacy)
    for cci in vuln.ccis:
        _stig_data(node, "CCI_REF", cci)
    _child(node, "STATUS", vuln.status)
    _child(node, "FINDING_DETAILS", vuln.finding_details)
    _child(node, "COMMENTS", vuln.comments)
    _child(node, "SEVERITY_OVERRIDE", vuln.severity_override)
    _child(node, "SEVERITY_JUSTIFICATION", vuln.severity_justification)


def render_ckl(asset: Asset, istigs: list[IStig]) -> bytes:
    """The checklist as UTF-8 XML with a declaration. An iSTIG without rules is left out (the
    XSD needs at least one VULN); ValueError when nothing is left to write."""
    kept = [istig for istig in istigs if istig.vulns]
    if not kept:
        raise ValueError(f"no checklist for {asset.host_name}: there are no results to write")
    root = ET.Element("CHECKLIST")
    _asset(root, asset)
    stigs = ET.SubElement(root, "STIGS")
    for istig in kept:
        node = ET.SubElement(stigs, "iSTIG")
        _stig_info(node, istig)
        for vuln in istig.vulns:
            _vuln(node, vuln)
    ET.indent(root, space="\t")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!--{HEADER}-->\n{body}\n').encode()
