"""HTTP authentication for the lab endpoint: an NTLM acceptor (pyspnego) and Basic.

pyspnego's NTLM acceptor takes its user database only from the file named by the process-wide
environment variable NTLM_USER_FILE, and reads that variable twice: when the context is constructed
(it refuses to build without an existing file) and again inside the AUTHENTICATE step, where it
opens the file to look the user up (spnego/_ntlm.py: `_NTLMCredential` -> `_get_credential_file()`).
Each endpoint has its own credentials, so each gets its own file, and both moments run under one
process-wide lock with the variable pointing at that endpoint's file. The lock is held only for the
few milliseconds of those two steps; the NEGOTIATE -> CHALLENGE step does not read the file.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import tempfile
import threading
import weakref
from collections.abc import Iterator

import spnego
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

# Private in pyspnego, but it is the only MD4 available: OpenSSL 3 drops MD4 from hashlib.
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
from spnego.channel_bindings import GssChannelBindings
from spnego.exceptions import SpnegoError

from .model import Credential

_ENV_VAR = "NTLM_USER_FILE"
_ENV_LOCK = threading.Lock()
# Acceptors whose credential file exists, so a process that exits without stop() (Ctrl-C in the
# lab CLI, a failing test run) still removes them. SIGKILL cannot be helped.
_OPEN: weakref.WeakSet[NtlmAcceptor] = weakref.WeakSet()


@atexit.register
def _remove_leftover_files() -> None:
    for acceptor in list(_OPEN):
        acceptor.close()


NTLM_NEGOTIATE = 1
NTLM_CHALLENGE = 2
NTLM_AUTHENTICATE = 3

AuthFailure = SpnegoError


def ntlm_message_type(token: bytes) -> int | None:
    """The NTLMSSP message type of a raw token, or None for anything else (e.g. SPNEGO-wrapped)."""
    if len(token) < 12 or not token.startswith(b"NTLMSSP\x00"):
        return None
    return int.from_bytes(token[8:12], "little")


def tls_server_end_point(cert_der: bytes) -> GssChannelBindings:
    """RFC 5929 tls-server-end-point bindings: the certificate hashed with its signature hash,
    SHA-256 when that is MD5 or SHA-1 (same rule as requests-ntlm)."""
    cert = x509.load_der_x509_certificate(cert_der)
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        digest = hashlib.sha256(cert_der).digest()
    else:
        h = hashes.Hash(algorithm)
        h.update(cert_der)
        digest = h.finalize()
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest)


def _store_line(cred: Credential) -> str:
    # smbpasswd layout (USER:UID:LM:NT:FLAGS:LCT) stores hashes, so any password character is safe;
    # the Heimdal DOMAIN:USER:PASSWORD layout would break on a ':' in the password.
    user = f"{cred.domain}\\{cred.user}" if cred.domain else cred.user
    lm = lmowfv1(cred.password).hex().upper()
    nt = ntowfv1(cred.password).hex().upper()
    return f"{user}:0:{lm}:{nt}:[U          ]:LCT-00000000"


class NtlmAcceptor:
    """Builds and steps NTLM server contexts against one endpoint's credentials."""

    def __init__(self, credentials: tuple[Credential, ...], cert_der: bytes | None) -> None:
        self._credentials = credentials
        self._bindings = tls_server_end_point(cert_der) if cert_der else None
        self._path: str | None = None

    def open(self) -> None:
        fd, path = tempfile.mkstemp(prefix="cwh-lab-ntlm-", suffix=".users")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:  # mkstemp creates it 0600
            fh.write("".join(_store_line(c) + "\n" for c in self._credentials))
        self._path = path
        _OPEN.add(self)

    def close(self) -> None:
        path, self._path = self._path, None
        _OPEN.discard(self)
        if path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    @contextlib.contextmanager
    def _user_file(self) -> Iterator[None]:
        if not self._path:
            raise SpnegoError(context_msg="endpoint is stopped")
        with _ENV_LOCK:
            previous = os.environ.get(_ENV_VAR)
            os.environ[_ENV_VAR] = self._path
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop(_ENV_VAR, None)
                else:
                    os.environ[_ENV_VAR] = previous

    def challenge(self, negotiate: bytes) -> tuple[spnego.ContextProxy, bytes]:
        """A fresh context and its CHALLENGE for a NEGOTIATE token."""
        with self._user_file():
            context = spnego.server(
                protocol="ntlm",
                channel_bindings=self._bindings,
                # Pin the pure-Python acceptor: gss-ntlmssp would read the file at other times.
                options=spnego.NegotiateOptions.use_ntlm,
            )
        out = context.step(negotiate)
        if not out:
            raise SpnegoError(context_msg="NTLM acceptor produced no challenge")
        return context, out

    def authenticate(self, context: spnego.ContextProxy, token: bytes) -> str:
        """Verify an AUTHENTICATE token; returns the client principal or raises SpnegoError
        (wrong password, unknown user, channel-binding mismatch, bad MIC)."""
        with self._user_file():
            context.step(token)
        if not context.complete:
            raise SpnegoError(context_msg="NTLM context incomplete after AUTHENTICATE")
        return context.client_principal or ""


def check_basic(header_token: str, credentials: tuple[Credential, ...]) -> str | None:
    """The principal for a valid Basic token, else None. `DOMAIN\\user` and bare `user` are
    accepted; user and domain compare case-insensitively, the password exactly."""
    try:
        decoded = base64.b64decode(header_token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        text = decoded.decode("latin-1")
    user_part, sep, password = text.partition(":")
    if not sep:
        return None
    domain, _, user = user_part.rpartition("\\")
    for cred in credentials:
        # compare_digest keeps the lab honest about timing, and is cheap.
        if (
            cred.user.lower() == user.lower()
            and cred.domain.lower() == domain.lower()
            and hmac.compare_digest(cred.password.encode(), password.encode())
        ):
            return user_part
    return None
