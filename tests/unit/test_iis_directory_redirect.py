"""Review of issue 13, finding 9: the lab's IIS leaks its internal address only in the redirect
it makes for a directory asked without its slash (/aspnet_client, the guide's probe path), not
on every path; so only a judge that sends the guide's probe there can find it."""

from __future__ import annotations

from cwh.lab.listeners import WebEndpoint

LEAK = "https://10.20.31.22/aspnet_client/"


def _endpoint(redirect_path: str | None) -> WebEndpoint:
    return WebEndpoint("127.0.0.1", tls=None, server_header=None, options_allowed=False,
                       internal_redirect=LEAK, redirect_path=redirect_path)


def test_the_directory_redirect_leaks_only_for_its_path_without_a_host_header() -> None:
    web = _endpoint("/aspnet_client")
    assert web.respond(b"HEAD / HTTP/1.0\r\n\r\n").status == 200
    answer = web.respond(b"HEAD /aspnet_client HTTP/1.0\r\n\r\n")
    assert answer.status == 302 and ("Location", LEAK) in answer.headers
    assert web.respond(b"HEAD /ASPNET_CLIENT HTTP/1.0\r\n\r\n").status == 302
    assert web.respond(b"HEAD /aspnet_client HTTP/1.1\r\nHost: cwa\r\n\r\n").status == 200


def test_without_a_path_every_hostless_request_leaks_as_before() -> None:
    assert _endpoint(None).respond(b"HEAD / HTTP/1.0\r\n\r\n").status == 302
