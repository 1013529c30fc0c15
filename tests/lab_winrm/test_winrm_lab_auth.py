"""Authentication on the lab endpoint: NTLM (HTTP with sealing, HTTPS with channel binding), Basic,
and credentials that are private to each endpoint."""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
import requests
from winrm.exceptions import InvalidCredentialsError

from cwh.lab.winrm import CommandResult, Credential, EndpointConfig

from .support import PASSWORD, USER, Lab, actions, run


@pytest.fixture
def lab(tmp_path):
    with Lab(tmp_path) as lab:
        yield lab


def test_ntlm_over_https_with_ca_validation_and_channel_binding(lab):
    lab.handler.on("hostname", lambda _: CommandResult(b"WIN01\r\n"))
    ep = lab.endpoint("tls", scheme="https")

    out, _, code = run(lab.client(ep), "hostname")

    assert (out, code) == (b"WIN01\r\n", 0)
    events = lab.events(ep)
    # No encryption-setup POST over HTTPS: Create rides on the AUTHENTICATE leg.
    assert [(e["status"], e["auth"], e["action"]) for e in events] == [
        (401, "none", None),
        (401, "ntlm-negotiate", None),
        (200, "ntlm-authenticate", "Create"),
        (200, "session", "Command"),
        (200, "session", "Receive"),
        (200, "session", "Signal"),
        (200, "session", "Delete"),
    ]
    assert not any(e["encrypted"] for e in events)


def test_https_rejects_ntlm_without_channel_binding(lab):
    ep = lab.endpoint("cbt", scheme="https")

    with pytest.raises(InvalidCredentialsError):
        lab.client(ep, send_cbt=False).open_shell()

    last = lab.events(ep)[-1]
    assert (last["status"], last["auth"]) == (401, "ntlm-authenticate")
    assert "BadBindings" in last["error"]


def test_https_certificate_is_validated_against_the_lab_ca(lab):
    ep = lab.endpoint("untrusted", scheme="https")

    with pytest.raises(requests.exceptions.SSLError):
        lab.client(ep, ca_trust_path=None).open_shell()  # certifi only: the lab CA is unknown

    assert lab.events(ep) == []


def test_https_accepts_client_side_encryption(lab):
    ep = lab.endpoint("tls-enc", scheme="https")

    out, _, _ = run(lab.client(ep, message_encryption="always"), "ver")

    assert out == b"ver"
    soap = [e for e in lab.events(ep) if e["action"]]
    assert actions(soap) == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert all(e["encrypted"] for e in soap)
    assert len(lab.events(ep)) == 8


def test_basic_over_https(lab):
    ep = lab.endpoint("basic", scheme="https", auth={"basic"})

    out, _, code = run(lab.client(ep, transport="basic"), "echo", ("hi",))

    assert (out, code) == (b"echo hi", 0)
    events = lab.events(ep)
    assert [(e["status"], e["auth"]) for e in events] == [(200, "basic")] * 5
    assert {e["user"] for e in events} == {USER}


def test_basic_wrong_password_is_rejected(lab):
    ep = lab.endpoint("basic-bad", scheme="https", auth={"basic", "ntlm"})

    with pytest.raises(InvalidCredentialsError):
        lab.client(ep, transport="basic", password="wrong").open_shell()

    assert [(e["status"], e["auth"]) for e in lab.events(ep)] == [(401, "basic")]


def test_basic_is_refused_over_http(lab):
    ep = lab.endpoint("basic-http", auth={"basic", "ntlm"})

    with pytest.raises(InvalidCredentialsError):
        lab.client(ep, transport="basic").open_shell()

    # Over HTTP only Negotiate is offered, and the preemptive Basic header is refused.
    response = requests.post(ep.url, data=b"", timeout=5, proxies={"http": None})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Negotiate"


@pytest.mark.parametrize(
    ("username", "password"),
    [(USER, "wrong"), ("nobody", PASSWORD), (f"LAB\\{USER}", PASSWORD)],
    ids=["wrong-password", "unknown-user", "wrong-domain"],
)
def test_ntlm_bad_credentials_are_rejected(lab, username, password):
    ep = lab.endpoint("ntlm-bad")

    with pytest.raises(InvalidCredentialsError):
        lab.client(ep, username=username, password=password).open_shell()

    assert [(e["status"], e["auth"]) for e in lab.events(ep)] == [
        (401, "none"),
        (401, "ntlm-negotiate"),
        (401, "ntlm-authenticate"),
    ]
    assert lab.handler.calls == []


def test_ntlm_with_domain_credential(lab):
    ep = lab.endpoint("domain", credentials=(Credential(USER, PASSWORD, domain="LAB"),))

    out, _, _ = run(lab.client(ep, username=f"lab\\{USER.upper()}"), "ver")

    assert out == b"ver"
    assert lab.events(ep)[2]["user"].lower() == f"lab\\{USER}"
    with pytest.raises(InvalidCredentialsError):
        lab.client(ep, username=USER).open_shell()


def test_credentials_are_per_endpoint(lab):
    alpha = lab.endpoint("alpha", credentials=(Credential(USER, "alpha-pw"),))
    beta = lab.endpoint("beta", credentials=(Credential(USER, "beta-pw"),))

    assert run(lab.client(alpha, password="alpha-pw"), "a")[0] == b"a"
    assert run(lab.client(beta, password="beta-pw"), "b")[0] == b"b"
    with pytest.raises(InvalidCredentialsError):
        lab.client(alpha, password="beta-pw").open_shell()
    with pytest.raises(InvalidCredentialsError):
        lab.client(beta, password="alpha-pw").open_shell()


def test_per_endpoint_credentials_hold_under_concurrency(lab):
    endpoints = [
        lab.endpoint(f"conc{i}", credentials=(Credential(USER, f"pw-{i}"),)) for i in range(4)
    ]
    failures: list[str] = []

    def attempt(i: int) -> None:
        ep = endpoints[i % 4]
        for round_ in range(3):
            own = f"pw-{i % 4}"
            other = f"pw-{(i + 1) % 4}"
            try:
                lab.client(ep, password=own).close_shell(lab.client(ep, password=own).open_shell())
            except Exception as exc:
                failures.append(f"{ep.config.name} own password round {round_}: {exc!r}")
            try:
                lab.client(ep, password=other).open_shell()
                failures.append(f"{ep.config.name} accepted another endpoint's password")
            except InvalidCredentialsError:
                pass

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert failures == []
    assert "NTLM_USER_FILE" not in os.environ


def test_credential_file_exists_only_while_running(lab):
    user = f"cred-{uuid.uuid4().hex[:12]}"  # unique, so parallel test runs cannot confuse us
    pattern = os.path.join(tempfile.gettempdir(), "cwh-lab-ntlm-*")

    def ours() -> list[str]:
        found = []
        for path in glob.glob(pattern):
            with contextlib.suppress(FileNotFoundError):
                if user in Path(path).read_text(encoding="utf-8"):
                    found.append(path)
        return found

    ep = lab.endpoint("credfile", credentials=(Credential(user, PASSWORD),))
    (path,) = ours()
    assert os.stat(path).st_mode & 0o077 == 0
    assert PASSWORD not in Path(path).read_text(encoding="utf-8")  # hashes only
    assert run(lab.client(ep, username=user), "ver")[0] == b"ver"

    ep.stop()

    assert not os.path.exists(path)


def test_config_validation():
    with pytest.raises(ValueError, match="unknown fault"):
        EndpointConfig("x", "127.0.0.1", 0, fault="explode")
    with pytest.raises(ValueError, match="cert_file"):
        EndpointConfig("x", "127.0.0.1", 0, scheme="https")
    with pytest.raises(ValueError, match="auth"):
        EndpointConfig("x", "127.0.0.1", 0, auth={"kerberos"})
    with pytest.raises(ValueError):
        Credential("dom:user", "pw")
    assert EndpointConfig("x", "127.0.0.1", 0, auth=["basic"]).auth == frozenset({"basic"})
