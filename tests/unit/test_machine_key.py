"""CWH-SC-04: below ScreenConnect 26.1, web.config holds no plaintext machineKey; the keys are
never repeated in any verdict, only their lengths."""

from __future__ import annotations

import pytest

from cwh.judge import judge
from cwh.judge.verdict import Status
from cwh.parse.machinekey import machine_keys
from tests.unit.helpers import control, facts, ok

VALIDATION = "9E2B4A1C0F7D3E6B8A5C2D1F0E9B8A7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A"
DECRYPTION = "4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B9C8D7E6F5A4B3C2D1E"
ROOT = r"C:\Program Files (x86)\ScreenConnect"


def web_config(system_web: str = "", location: str = "") -> str:
    return ("<?xml version=\"1.0\"?><configuration><appSettings>"
            "<add key=\"WebServerListenUri\" value=\"https://+:8040/\" /></appSettings>"
            f"<system.web>{system_web}</system.web>{location}</configuration>")


def screenconnect(version: str | None, text: str | None) -> dict:
    return ok({"install_root": ROOT, "root_source": "service image path",
               "service_exe": ROOT + r"\Bin\ScreenConnect.Service.exe" if version else None,
               "file_version": version, "product_version": version,
               "web_config_path": ROOT + r"\web.config", "web_config_text": text})


def verdict(version: str | None, text: str | None):
    return judge(control("CWH-SC-04"), facts(screenconnect=screenconnect(version, text)),
                 {"cwh_products": ["screenconnect"]})


PLAINTEXT = f'<machineKey validationKey="{VALIDATION}" decryptionKey="{DECRYPTION}" ' \
    'validation="SHA1" decryption="AES" />'


def test_a_plaintext_machine_key_below_26_1_is_open_and_the_keys_never_shown() -> None:
    result = verdict("25.2.3.9000", web_config(PLAINTEXT))
    assert result.status is Status.OPEN
    assert "validationKey (64 characters), decryptionKey (48 characters)" in result.reason
    shown = repr(result.to_dict())
    assert VALIDATION not in shown and DECRYPTION not in shown


def test_a_key_in_a_location_element_counts_too() -> None:
    location = f'<location path="Services"><system.web>{PLAINTEXT}</system.web></location>'
    assert verdict("25.4.16.9293", web_config(location=location)).status is Status.OPEN


@pytest.mark.parametrize("system_web", [
    "", '<machineKey validationKey="AutoGenerate,IsolateApps" '
        'decryptionKey="AutoGenerate,IsolateApps" />',
    '<machineKey configProtectionProvider="RsaProtectedConfigurationProvider"><EncryptedData '
    'Type="http://www.w3.org/2001/04/xmlenc#Element"><CipherData><CipherValue>AAAA'
    '</CipherValue></CipherData></EncryptedData></machineKey>',
], ids=["none", "autogenerate", "protected"])
def test_no_plaintext_key_passes(system_web: str) -> None:
    result = verdict("25.4.16.9293", web_config(system_web))
    assert result.status is Status.NOT_A_FINDING, result.reason


def test_26_1_and_later_encrypt_the_keys_themselves() -> None:
    result = verdict("26.1.2.9500", web_config(PLAINTEXT))
    assert result.status is Status.NOT_APPLICABLE and "CVE-2026-3564" in result.reason


@pytest.mark.parametrize(("version", "text", "why"), [
    (None, web_config(), "version cannot be judged"),
    ("2\u0665.4.16", web_config(), "not a dotted version"),
    ("25.4.16.9293", None, "web.config was not found"),
    ("25.4.16.9293", "<!DOCTYPE x [<!ENTITY a 'b'>]><configuration/>", "could not be read"),
    ("25.4.16.9293", web_config('<machineKey configSource="machineKey.config" />'),
     "kept in another file"),
])
def test_what_cannot_be_read_is_not_reviewed(version, text, why) -> None:
    result = verdict(version, text)
    assert result.status is Status.NOT_REVIEWED and why in result.reason, result.reason


def test_the_parser_reports_lengths_not_values() -> None:
    [key] = machine_keys(web_config(PLAINTEXT))
    assert key.plaintext == ("validationKey (64 characters)", "decryptionKey (48 characters)")
    assert VALIDATION not in key.describe()
