"""cwh.parse.webconfig: ScreenConnect's web.config appSettings and listener URIs (CWH-SC-03)."""

from __future__ import annotations

import re
import time

import pytest

from cwh.parse.webconfig import (
    ListenUri,
    ListenUriError,
    WebConfigError,
    app_setting,
    load_config_xml,
    parse_app_settings,
    parse_listen_uri,
)

# Shaped like a ScreenConnect 23.9 web.config (abridged), CRLF as on disk.
WEB_CONFIG = """\ufeff<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <configSections>
    <section name="screenconnect.routing"
             type="ScreenConnect.RoutingConfigurationHandler, ScreenConnect.Server" />
  </configSections>
  <appSettings>
    <add key="WebServerListenUri" value="http://+:8040/" />
    <add key="WebServerAddressableUri" value="https://support.example.com/" />
    <add key="RelayListenUri" value="relay://+:8041/" />
    <add key="RelayAddressableUri" value="relay://support.example.com:8041/" />
    <!-- <add key="WebServerListenUri" value="https://+:443/" /> -->
    <add key="UsePersistentTicketCookie" value="true" />
    <add key="CookieSameSiteMode" value="None" />
    <add key="TrustDeviceExpireDays" value="90" />
  </appSettings>
  <location path="Host.aspx">
    <appSettings>
      <add key="MinAuthenticationFactorCount" value="0" />
    </appSettings>
  </location>
  <location path="Administration.aspx">
    <appSettings>
      <add key="MinAuthenticationFactorCount" value="2" />
      <add key="RestrictToIPs" value="10.0.0.0/8,192.168.1.0/24" />
    </appSettings>
  </location>
  <system.web>
    <membership defaultProvider="InternalMembershipProvider">
      <providers>
        <clear />
        <add name="InternalMembershipProvider"
             type="ScreenConnect.InternalMembershipProvider, ScreenConnect.Server" />
      </providers>
    </membership>
  </system.web>
  <system.serviceModel>
    <client>
      <endpoint name="SessionManager" contract="ScreenConnect.ISessionManagerChannel"
                binding="netTcpBinding" />
    </client>
  </system.serviceModel>
</configuration>
""".replace("\n", "\r\n")


def settings_of(body: str) -> dict[str, str]:
    return parse_app_settings(f"<configuration><appSettings>{body}</appSettings></configuration>")


def test_root_app_settings() -> None:
    settings = parse_app_settings(WEB_CONFIG)
    assert settings == {
        "WebServerListenUri": "http://+:8040/",
        "WebServerAddressableUri": "https://support.example.com/",
        "RelayListenUri": "relay://+:8041/",
        "RelayAddressableUri": "relay://support.example.com:8041/",
        "UsePersistentTicketCookie": "true",
        "CookieSameSiteMode": "None",
        "TrustDeviceExpireDays": "90",
    }
    # Per-page location settings are not root settings.
    assert "MinAuthenticationFactorCount" not in settings


def test_linux_how_to_form() -> None:
    text = WEB_CONFIG.replace('value="http://+:8040/"', 'value="http://127.0.0.1:8040/"')
    listen = parse_listen_uri(parse_app_settings(text)["WebServerListenUri"])
    assert (listen.scheme, listen.host, listen.port) == ("http", "127.0.0.1", 8040)
    assert listen.loopback is True
    assert listen.wildcard is False


def test_later_duplicate_wins_case_insensitively() -> None:
    settings = settings_of('<add key="CookieSameSiteMode" value="None" />'
                           '<add key="UsePersistentTicketCookie" value="true" />'
                           '<add key="cookiesamesitemode" value="Strict" />')
    assert settings == {"UsePersistentTicketCookie": "true", "cookiesamesitemode": "Strict"}
    assert list(settings) == ["UsePersistentTicketCookie", "cookiesamesitemode"]  # file order
    assert app_setting(settings, "CookieSameSiteMode") == "Strict"
    assert app_setting(settings, "AllowPasswordAutoComplete") is None


def test_remove_and_clear_in_order() -> None:
    assert settings_of('<add key="A" value="1" /><add key="B" value="2" /><remove key="a" />') == \
        {"B": "2"}
    assert settings_of('<add key="A" value="1" /><clear /><add key="C" value="3" />') == \
        {"C": "3"}
    assert settings_of('<remove key="A" /><add key="A" value="1" />') == {"A": "1"}
    assert settings_of("") == {}


def test_add_without_value_is_empty_as_in_dotnet() -> None:
    assert settings_of('<add key="DuoSecretKey" />') == {"DuoSecretKey": ""}


def test_hostile_values_survive_as_plain_strings() -> None:
    text = ('<configuration><appSettings>'
            '<add key="A" value="&lt;script&gt;alert(1)&lt;/script&gt;" />'
            '<add key="B" value="]]&gt;&amp;&quot;\'" />'
            '<add key="C" value="tab&#9;nl&#10;cr&#13;bell-free" />'
            '<add key="D" value="Z\u00fcrich \u2013 \u65e5\u672c \u2013 \U0001f512" />'
            '<add key="E"><![CDATA[ignored text]]></add>'
            '</appSettings></configuration>')
    settings = parse_app_settings(text)
    assert settings["A"] == "<script>alert(1)</script>"
    assert settings["B"] == "]]>&\"'"
    assert settings["C"] == "tab\tnl\ncr\rbell-free"
    assert settings["D"] == "Z\u00fcrich \u2013 \u65e5\u672c \u2013 \U0001f512"
    assert settings["E"] == ""
    assert all(type(key) is str and type(value) is str for key, value in settings.items())


@pytest.mark.parametrize(("text", "message"), [
    ("<configuration><system.web /></configuration>", "no root <appSettings>"),
    ("<configuration><appSettings /><appSettings /></configuration>", "more than one"),
    ('<configuration><appSettings><add value="x" /></appSettings></configuration>', "no key"),
    ('<configuration><appSettings><set key="x" /></appSettings></configuration>', "unknown"),
    ('<configuration><appSettings file="user.config" /></configuration>', "another file"),
    ('<configuration><appSettings configSource="app.config" /></configuration>', "another file"),
    ('<configuration><appSettings /><location path="."><appSettings>'
     '<add key="WebServerListenUri" value="http://+:80/" /></appSettings></location>'
     "</configuration>", "whole application"),
    ("<appSettings />", "not <configuration>"),
    ("", "empty"),
    ("<configuration><appSettings>", "not well-formed"),
    ("The system cannot find the file specified.", "not well-formed"),
])
def test_unusable_web_config_is_an_error(text: str, message: str) -> None:
    with pytest.raises(WebConfigError, match=message):
        parse_app_settings(text)


@pytest.mark.parametrize(("text", "message"), [
    ('<!DOCTYPE configuration [<!ENTITY a "x"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
     '<configuration><appSettings><add key="k" value="&b;" /></appSettings></configuration>',
     r"declares entities \(possible XML bomb\)"),
    ('<!DOCTYPE configuration [<!ENTITY x SYSTEM "\\\\attacker\\share\\x">]>'
     '<configuration><appSettings><add key="k" value="&x;" /></appSettings></configuration>',
     "external entity"),
    ('<!DOCTYPE configuration PUBLIC "-//X//DTD X//EN" "http://attacker.example/x.dtd">'
     "<configuration><appSettings /></configuration>", "declares a DTD"),
])
def test_hostile_xml_is_refused(text: str, message: str) -> None:
    with pytest.raises(WebConfigError, match=message):
        parse_app_settings(text)


def test_size_cap() -> None:
    big = "<configuration><appSettings>" + '<add key="k" value="v" />' * 400_000 + \
        "</appSettings></configuration>"
    assert len(big) > 8 * 1024 * 1024
    started = time.perf_counter()
    with pytest.raises(WebConfigError, match="cap"):
        parse_app_settings(big)
    assert time.perf_counter() - started < 0.5


def test_loader_raises_the_callers_error_type() -> None:
    class OtherError(ValueError):
        pass

    with pytest.raises(OtherError, match=r"machine\.config is not well-formed"):
        load_config_xml("<configuration>", name="machine.config", error=OtherError)


# --- listener URIs ---------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "scheme", "host", "port", "path", "kind", "wildcard",
                          "loopback"), [
    ("http://+:8040/", "http", "+", 8040, "/", "strong-wildcard", True, False),
    ("https://+:443/", "https", "+", 443, "/", "strong-wildcard", True, False),
    ("relay://+:8041/", "relay", "+", 8041, "/", "strong-wildcard", True, False),
    ("https://*:8443/sc/", "https", "*", 8443, "/sc/", "weak-wildcard", True, False),
    ("http://0.0.0.0:8040/", "http", "0.0.0.0", 8040, "/", "ip", True, False),
    ("http://127.0.0.1:8040/", "http", "127.0.0.1", 8040, "/", "ip", False, True),
    ("http://127.10.0.3:8040/", "http", "127.10.0.3", 8040, "/", "ip", False, True),
    ("http://10.20.30.12:8040/", "http", "10.20.30.12", 8040, "/", "ip", False, False),
    ("http://[::]:8040/", "http", "[::]", 8040, "/", "ip", True, False),
    ("http://[::1]:8040/", "http", "[::1]", 8040, "/", "ip", False, True),
    ("http://[0:0:0:0:0:0:0:1]:8040/", "http", "[0:0:0:0:0:0:0:1]", 8040, "/", "ip", False,
     True),
    ("http://[::ffff:127.0.0.1]:8040/", "http", "[::ffff:127.0.0.1]", 8040, "/", "ip", False,
     True),
    ("https://[2001:db8::5]/", "https", "[2001:db8::5]", 443, "/", "ip", False, False),
    ("http://[::1]", "http", "[::1]", 80, "/", "ip", False, True),
    ("HTTPS://SC.Example.com:8443/", "https", "SC.Example.com", 8443, "/", "name", False, False),
    ("http://sc.example.com/", "http", "sc.example.com", 80, "/", "name", False, False),
    # http.sys matches a name against the Host header on every interface: not loopback.
    ("http://localhost:8040/", "http", "localhost", 8040, "/", "name", False, False),
    ("relay://localhost:8041/", "relay", "localhost", 8041, "/", "name", False, False),
    ("  http://+:8040/\r\n", "http", "+", 8040, "/", "strong-wildcard", True, False),
])
def test_listen_uri_forms(value: str, scheme: str, host: str, port: int, path: str, kind: str,
                          wildcard: bool, loopback: bool) -> None:
    assert parse_listen_uri(value) == ListenUri(raw=value, scheme=scheme, host=host, port=port,
                                                path=path, host_kind=kind, wildcard=wildcard,
                                                loopback=loopback)


@pytest.mark.parametrize(("value", "message"), [
    ("", "empty"),
    ("   ", "empty"),
    ("relay://+/", "needs an explicit port"),
    ("relay://relay.example.com", "needs an explicit port"),
    ("ftp://+:21/", "unknown scheme"),
    ("+:8040", "not scheme://host:port/"),
    ("http:/+:8040/", "not scheme://host:port/"),
    ("http://:8040/", "no host"),
    ("http://+:0/", "port '0'"),
    ("http://+:65536/", "port '65536'"),
    ("http://+:08040/", "port '08040'"),
    ("http://+:80a/", "port '80a'"),
    ("http://+:/", "port ''"),
    ("http://+:8040:1/", "port '8040:1'"),
    ("http://[::1:8040/", "not scheme://host:port/"),
    ("http://[::g]:8040/", "not an IPv6"),
    ("http://[127.0.0.1]:8040/", "not an IPv6"),
    ("http://::1:8040/", "no host"),
    ("http://256.0.0.1:8040/", "not an IPv4"),
    ("http://127.1:8040/", "not an IPv4"),
    ("http://user@host:8040/", "not a host name"),
    ("http://-bad-.example:8040/", "not a host name"),
    ("http://+:8040/?x=1", "not a plain path"),
    ("http://+:8040/#frag", "not a plain path"),
    ("http://+:8040/<script>", "not a plain path"),
    ("http://+:8040/]]>", "not a plain path"),
    ("http://sc .example.com:8040/", "spaces, control or non-ASCII"),
    ("http://+:8040/\x00", "spaces, control or non-ASCII"),
    ("http://+:80\x1b[31m40/", "spaces, control or non-ASCII"),
    ("http://bücher.example:8040/", "spaces, control or non-ASCII"),
    ("http://+:\uff18\uff10\uff14\uff10/", "spaces, control or non-ASCII"),
])
def test_listen_uri_garbage_is_an_error(value: str, message: str) -> None:
    with pytest.raises(ListenUriError, match=re.escape(message)):
        parse_listen_uri(value)


def test_listen_uri_error_is_a_web_config_error() -> None:
    # Callers that catch WebConfigError around a whole web.config read also catch bad URIs.
    with pytest.raises(WebConfigError):
        parse_listen_uri("garbage")


def test_error_message_shows_hostile_value_escaped() -> None:
    with pytest.raises(ListenUriError) as caught:
        parse_listen_uri("http://+:80\x1b[2J/")
    assert "\x1b" not in str(caught.value)
    assert "\\x1b" in str(caught.value)
