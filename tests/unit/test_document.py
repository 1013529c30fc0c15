"""cwh.collect.document: the collector's output line -> facts document, or exactly why not."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from cwh.collect import document as document_module
from cwh.collect.document import (
    MARKER,
    DocumentError,
    collection_warnings,
    excerpt,
    parse_output,
    stderr_text,
)
from cwh.lab.emulator import encode_document
from tests.unit.helpers import LSA, document, reg, registry

DOC = document({"registry": registry(reg(LSA, "RestrictAnonymous", "DWord", 1)),
                "identity": {"ok": True, "data": {"computer_name": "SC-PRÜF-01",
                                                  "user": "SC-PRÜF-01\\Администратор"}}})


def line_for(raw: bytes) -> bytes:
    """The marker line for arbitrary (already gzip'd or not) bytes."""
    return MARKER + base64.b64encode(raw) + b"\r\n"


def test_happy_path_round_trips_non_ascii() -> None:
    parsed = parse_output(encode_document(DOC), b"", 0)
    assert parsed == DOC
    assert parsed["sections"]["identity"]["data"]["user"] == "SC-PRÜF-01\\Администратор"


def test_banner_lines_before_the_marker_are_ignored() -> None:
    stdout = (b"Windows PowerShell\r\nCopyright (C) Microsoft Corporation.\r\n\r\n"
              b"   " + encode_document(DOC))
    assert parse_output(stdout, b"", 0) == DOC


def test_clixml_progress_on_stderr_does_not_matter_on_success() -> None:
    stderr = b'#< CLIXML\r\n<Objs Version="1.1.0.1"><Obj S="progress" RefId="0"/></Objs>'
    assert parse_output(encode_document(DOC), stderr, 0) == DOC


@pytest.mark.parametrize("stdout", [b"", b"\r\n", b"   \r\n  "])
def test_empty_output_with_exit_0_is_the_truncation_signature(stdout: bytes) -> None:
    with pytest.raises(DocumentError) as caught:
        parse_output(stdout, b"", 0)
    message = str(caught.value)
    assert "no output" in message and "exit code 0" in message
    assert "cmd.exe" in message


def test_empty_output_shows_stderr() -> None:
    with pytest.raises(DocumentError, match=r"stderr: The command line is too long\."):
        parse_output(b"", b"The command line is too long.\r\n", 1)


def test_output_without_marker() -> None:
    with pytest.raises(DocumentError) as caught:
        parse_output(b"The command line is too long.\r\n", b"", 0)
    message = str(caught.value)
    assert "no facts document" in message
    assert "The command line is too long." in message and "exit code 0" in message


def test_output_without_marker_includes_stderr_excerpt() -> None:
    with pytest.raises(DocumentError, match="stderr: ConvertFrom-Json : Invalid JSON"):
        parse_output(b"hello\r\n", b"ConvertFrom-Json : Invalid JSON primitive: x.", 1)


def test_bad_base64() -> None:
    with pytest.raises(DocumentError, match="not valid base64"):
        parse_output(MARKER + b"H4sI@@@notbase64!!\r\n", b"", 0)


def test_truncated_gzip() -> None:
    blob = gzip.compress(json.dumps(DOC).encode())
    with pytest.raises(DocumentError, match="truncated"):
        parse_output(line_for(blob[:-12]), b"", 0)


def test_base64_that_is_not_gzip() -> None:
    with pytest.raises(DocumentError, match="not valid gzip"):
        parse_output(line_for(json.dumps(DOC).encode()), b"", 0)


def test_corrupted_gzip_body() -> None:
    blob = bytearray(gzip.compress(json.dumps(DOC).encode()))
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises(DocumentError, match="not valid gzip"):
        parse_output(line_for(bytes(blob)), b"", 0)


@pytest.mark.parametrize("payload", [b"{not json", b"\xff\xfe{}", b""])
def test_invalid_json(payload: bytes) -> None:
    with pytest.raises(DocumentError, match="not valid JSON"):
        parse_output(line_for(gzip.compress(payload)), b"", 0)


@pytest.mark.parametrize("doc", [
    [DOC], {**DOC, "schema": 2}, {**DOC, "schema": "1"}, {k: v for k, v in DOC.items()
                                                           if k != "schema"},
])
def test_wrong_schema(doc: object) -> None:
    with pytest.raises(DocumentError, match="not schema 1"):
        parse_output(encode_document(doc), b"", 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("sections", [None, [], "os,registry"])
def test_no_sections(sections: object) -> None:
    with pytest.raises(DocumentError, match="has no sections"):
        parse_output(encode_document({**DOC, "sections": sections}), b"", 0)


def test_non_zero_exit_after_a_complete_document_keeps_the_document() -> None:
    """Issue 10, item 15: the sections carry their own ok/error; the exit code is a warning."""
    stderr = b"out-file : Access to the path is denied."
    assert parse_output(encode_document(DOC), stderr, 1) == DOC
    [warning] = collection_warnings(stderr, 1)
    assert "exited with code 1 after writing a complete facts document" in warning
    assert "Access to the path is denied." in warning


@pytest.mark.parametrize("exit_code", [1, -1, 259, 0xC0000005])
def test_non_zero_exit_without_a_document_is_still_an_error(exit_code: int) -> None:
    with pytest.raises(DocumentError, match=f"exit code {exit_code}"):
        parse_output(b"", b"boom", exit_code)
    with pytest.raises(DocumentError):
        parse_output(encode_document(DOC)[:40] + b"\r\n", b"boom", exit_code)


CLIXML_ERROR = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/'
                b'powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.'
                b'Management.Automation.PSCustomObject</T></TN></Obj><S S="Error">Remove-Item : '
                b'Access to the path &apos;C:\\x&apos; is denied._x000D__x000A_</S>'
                b'<S S="Error">    + CategoryInfo : PermissionDenied_x000D__x000A_</S></Objs>')


def test_clixml_stderr_becomes_its_error_text() -> None:
    said = stderr_text(CLIXML_ERROR)
    assert said.startswith("Remove-Item : Access to the path 'C:\\x' is denied.")
    assert "CategoryInfo : PermissionDenied" in said and "<" not in said


def test_progress_only_stderr_says_nothing() -> None:
    progress = (b'#< CLIXML\r\n<Objs Version="1.1.0.1"><Obj S="progress" RefId="0">'
                b'<MS><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj>'
                b'</Objs>')
    assert stderr_text(progress) == ""
    assert collection_warnings(progress, 0) == []
    assert collection_warnings(b"", 0) == []


def test_errors_on_stderr_with_exit_0_are_a_warning() -> None:
    [warning] = collection_warnings(CLIXML_ERROR, 0)
    assert warning.startswith("the collector wrote to stderr: Remove-Item")


def test_a_repeated_key_in_one_object_is_not_a_document() -> None:
    """ConvertTo-Json never writes a key twice; json.loads would keep the last one silently."""
    text = (b'{"schema": 1, "sections": {"secedit": {"ok": false, "error": "Access is denied",'
            b' "ok": true, "data": {"inf": "x"}}}}')
    with pytest.raises(DocumentError, match="repeats the key 'ok'"):
        parse_output(line_for(gzip.compress(text)), b"", 0)


def test_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(document_module, "MAX_DOCUMENT_BYTES", 64 * 1024)
    bomb = gzip.compress(b'{"schema": 1, "sections": {}, "pad": "' + b"A" * 8_000_000 + b'"}')
    assert len(bomb) < 64 * 1024  # small on the wire, 8 MB unpacked
    with pytest.raises(DocumentError, match="larger than 65536 bytes"):
        parse_output(line_for(bomb), b"", 0)


def test_size_limit_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = json.dumps(DOC).encode()
    monkeypatch.setattr(document_module, "MAX_DOCUMENT_BYTES", len(raw))
    assert parse_output(line_for(gzip.compress(raw)), b"", 0) == DOC
    monkeypatch.setattr(document_module, "MAX_DOCUMENT_BYTES", len(raw) - 1)
    with pytest.raises(DocumentError, match="larger than"):
        parse_output(line_for(gzip.compress(raw)), b"", 0)


def test_excerpt_is_one_short_printable_line() -> None:
    text = excerpt(b"line one\r\nline\x00two\x1b[31m" + b"x" * 500, limit=40)
    assert "\n" not in text and "\x00" not in text and "\x1b" not in text
    assert text.endswith("...") and len(text) == 43
    assert excerpt("\xff".encode("latin-1")) == "\ufffd"
