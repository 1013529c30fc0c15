"""CWH-WEB-01/03 judged on the configuration IIS applies: applicationHost.config, its location
tags, every site's, application's and folder's web.config, and shared configuration
(issue 10, item 18). Each case goes through the lab's answer to the collector."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from cwh.catalog.model import load_catalog
from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for
from cwh.judge import judge
from cwh.judge.iis_effective import effective_filtering
from cwh.judge.verdict import Status
from cwh.lab.emulator import encode_document, run_collector
from cwh.lab.image import Image, load_image
from cwh.parse.iis import RequestFiltering, SiteRequestFiltering, Verb

CATALOG = load_catalog()
IIS = ("CWH-WEB-01", "CWH-WEB-03")
ROOT = r"C:\inetpub\wwwroot"


def web_config(filtering: str, location: str = "") -> str:
    """A site's web.config as IIS Manager writes it."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\r\n<configuration>\r\n'
            f"  <system.webServer>\r\n    <security>\r\n{filtering}\r\n    </security>\r\n"
            f"  </system.webServer>\r\n{location}</configuration>\r\n")


REOPENS = web_config('      <requestFiltering removeServerHeader="false">\r\n'
                     '        <verbs><remove verb="OPTIONS" /></verbs>\r\n'
                     "      </requestFiltering>")
HARMLESS = web_config('      <requestFiltering>\r\n'
                      '        <fileExtensions><add fileExtension=".bak" allowed="false" />'
                      "</fileExtensions>\r\n      </requestFiltering>")


def facts_with(**iis: Any) -> HostFacts:
    base = load_image("hardened")
    data = copy.deepcopy(base.data)
    data["iis"] = {**data["iis"], **iis}
    request = json.loads(request_for(CATALOG.controls).to_json())
    document = run_collector(Image(base.name, base.path, data), request)
    return HostFacts("h", parse_output(encode_document(document), b"", 0))


def verdicts(facts: HostFacts) -> dict[str, Any]:
    return {control: judge(CATALOG[control], facts, {}) for control in IIS}


def test_hardened_without_web_config_passes_and_says_what_was_read() -> None:
    for control, verdict in verdicts(facts_with()).items():
        assert verdict.status is Status.NOT_A_FINDING, (control, verdict.reason)
        assert "no site has a web.config" in verdict.reason


def test_a_harmless_web_config_is_read_and_changes_nothing() -> None:
    for verdict in verdicts(facts_with(files={ROOT + r"\web.config": HARMLESS})).values():
        assert verdict.status is Status.NOT_A_FINDING, verdict.reason
        assert "also read: 1 web.config file(s)" in verdict.reason


def test_the_site_web_config_reopens_both() -> None:
    results = verdicts(facts_with(files={ROOT + r"\web.config": REOPENS}))
    assert results["CWH-WEB-01"].status is Status.OPEN
    assert "turned off again for site Default Web Site (C:\\inetpub\\wwwroot\\web.config)" in \
        results["CWH-WEB-01"].reason
    assert results["CWH-WEB-03"].status is Status.OPEN
    assert "allowed again for site Default Web Site (C:\\inetpub\\wwwroot\\web.config)" in \
        results["CWH-WEB-03"].reason


def test_a_folder_web_config_reopens_options_for_its_path() -> None:
    allows = web_config('      <requestFiltering><verbs><add verb="OPTIONS" allowed="true" />'
                        "</verbs></requestFiltering>")
    results = verdicts(facts_with(files={ROOT + r"\api\v1\web.config": allows}))
    assert results["CWH-WEB-01"].status is Status.NOT_A_FINDING
    assert results["CWH-WEB-03"].status is Status.OPEN
    assert "allowed again for site Default Web Site/api/v1" in results["CWH-WEB-03"].reason


def test_a_location_tag_in_a_web_config_counts_for_its_path() -> None:
    text = web_config("", '  <location path="admin">\r\n    <system.webServer><security>\r\n'
                      '      <requestFiltering removeServerHeader="false" />\r\n'
                      "    </security></system.webServer>\r\n  </location>\r\n")
    verdict = verdicts(facts_with(files={ROOT + r"\web.config": text}))["CWH-WEB-01"]
    assert verdict.status is Status.OPEN
    assert "turned off again for site Default Web Site/admin" in verdict.reason


CHAIN_APPHOST = """<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.applicationHost>
    <sites>
      <site name="Default Web Site" id="1">
        <application path="/">
          <virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" />
        </application>
      </site>
    </sites>
  </system.applicationHost>
  <system.webServer>
    <security>
      <requestFiltering removeServerHeader="true">
        <verbs allowUnlisted="false">
          <add verb="GET" allowed="true" />
          <add verb="OPTIONS" allowed="false" />
        </verbs>
      </requestFiltering>
    </security>
  </system.webServer>
  <location path="Default Web Site">
    <system.webServer><security><requestFiltering>
      <verbs><remove verb="OPTIONS" /></verbs>
    </requestFiltering></security></system.webServer>
  </location>
</configuration>
"""


def test_only_the_chain_of_levels_reopens_options() -> None:
    """Each level alone keeps OPTIONS denied (removed, but unlisted verbs are denied; unlisted
    verbs allowed, but OPTIONS explicitly denied); applied in turn they allow it."""
    unlisted = web_config('      <requestFiltering><verbs allowUnlisted="true" />'
                          "</requestFiltering>")
    alone = facts_with(config_text=CHAIN_APPHOST)
    assert verdicts(alone)["CWH-WEB-03"].status is Status.NOT_A_FINDING
    chained = facts_with(config_text=CHAIN_APPHOST, files={ROOT + r"\web.config": unlisted})
    verdict = verdicts(chained)["CWH-WEB-03"]
    assert verdict.status is Status.OPEN
    assert "applicationHost.config; C:\\inetpub\\wwwroot\\web.config" in verdict.reason


def test_either_merge_order_reopening_options_is_open() -> None:
    server = RequestFiltering(True, "configuration", True, True, (), ())
    def level(path: str, source: str, **kw: Any) -> SiteRequestFiltering:
        return SiteRequestFiltering(path, None, None, kw.get("verbs", ()), False,
                                    kw.get("removed", ()), source)
    levels = [level("Site", r"C:\site\web.config", verbs=(Verb("OPTIONS", False),)),
              level("Site/app", "applicationHost.config", removed=("OPTIONS",))]
    paths = {p.path: p for p in effective_filtering(server, levels)}
    assert paths["Site"].options_denied is True
    # depth order: Site's deny, then app's remove -> allowed; applicationHost.config first:
    # the remove, then Site's deny -> denied. Only one order denies: not denied.
    assert paths["Site/app"].options_denied is False


SHARED = ('<configuration>\r\n  <configSections>\r\n'
          '    <section name="configurationRedirection" />\r\n  </configSections>\r\n'
          '  <configurationRedirection enabled="true" path="\\\\fs01\\iis-shared" '
          'userName="CORP\\iis-config" password="[enc:IISCngProvider:Zm9vYmFy:enc]" />\r\n'
          "</configuration>\r\n")
STOCK_REDIRECTION = SHARED.replace('enabled="true" path="\\\\fs01\\iis-shared" '
                                   'userName="CORP\\iis-config" '
                                   'password="[enc:IISCngProvider:Zm9vYmFy:enc]" ', "")


def test_shared_configuration_is_not_reviewed_and_keeps_its_password_out() -> None:
    for control, verdict in verdicts(facts_with(redirection_config=SHARED)).items():
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert "shared configuration is enabled" in verdict.reason
        assert "\\\\fs01\\iis-shared" in verdict.reason
        text = json.dumps(verdict.to_dict())
        assert "Zm9vYmFy" not in text and "iis-config" not in text


def test_stock_redirection_config_changes_nothing() -> None:
    for verdict in verdicts(facts_with(redirection_config=STOCK_REDIRECTION)).values():
        assert verdict.status is Status.NOT_A_FINDING, verdict.reason


@pytest.mark.parametrize(("iis", "why"), [
    ({"files": {ROOT + r"\web.config": {"error": "Access to the path "
                                                  "'C:\\inetpub\\wwwroot\\web.config' is "
                                                  "denied."}}}, "is denied"),
    ({"dir_errors": {ROOT: "The network path was not found."}},
     "Default Web Site (C:\\inetpub\\wwwroot) could not be read: The network path"),
    ({"files": {ROOT + r"\web.config": "<configuration><system.webServer>"}},
     "is not well-formed XML"),
    ({"files": {ROOT + r"\web.config": web_config(
        '      <requestFiltering configSource="rf.config" />')}}, "kept in another file"),
    ({"files": {rf"{ROOT}\d{i}\web.config": HARMLESS for i in range(501)}},
     "more than 500 web.config files"),
    ({"redirection_config": "<configuration><configurationRedirection enabled=\"yes\" />"
                            "</configuration>"}, "redirection.config: enabled='yes'"),
])
def test_configuration_that_cannot_be_read_is_not_reviewed(iis: dict, why: str) -> None:
    for control, verdict in verdicts(facts_with(**iis)).items():
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert why in verdict.reason, (control, verdict.reason)


def test_an_older_collector_without_site_configuration_is_not_reviewed() -> None:
    facts = facts_with()
    data = facts.document["sections"]["iis"]["data"]
    for key in ("site_configs", "site_configs_error"):
        data.pop(key)
    for verdict in verdicts(facts).values():
        assert verdict.status is Status.NOT_REVIEWED
        assert "did not read the sites' web.config files" in verdict.reason


def test_the_lab_refuses_a_dtd_in_applicationhost_as_the_collector_does() -> None:
    text = CHAIN_APPHOST.replace("<configuration>", "<!DOCTYPE configuration [<!ENTITY a 'b'>]>"
                                 "\n<configuration>", 1)
    data = facts_with(config_text=text).document["sections"]["iis"]["data"]
    assert data["site_configs"] == []
    assert "For security reasons DTD is prohibited" in data["site_configs_error"]


def test_the_lab_caps_site_configs_where_the_collector_does() -> None:
    from cwh.collect.script import collector_body
    from cwh.lab.iis_files import MAX_IIS_SITE_CONFIGS
    assert f"$MaxIisSiteConfigs = {MAX_IIS_SITE_CONFIGS}\n" in collector_body()
