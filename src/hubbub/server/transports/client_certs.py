"""TLS client certificates: ask for one, accept a self-signed one, fingerprint it.

Theory of operation
-------------------
On IRC a client certificate is an identity, not a credential signed by some
authority: people make their own (self-signed), register its fingerprint
with NickServ (``CERT ADD``) and log in with SASL EXTERNAL. So the server
must ask for a certificate, accept any, and only fingerprint it.

Python's :mod:`ssl` can ask (``CERT_OPTIONAL``), but then OpenSSL checks the
certificate against trusted authorities and fails the handshake of anyone
with a self-signed one, and the module offers no verify callback to say
"any certificate will do". So :func:`accept_any_client_certificate` sets
one through OpenSSL's own API (``SSL_CTX_set_verify`` with a callback that
accepts), found with :mod:`ctypes` in the library the ``_ssl`` module is
linked to. Python keeps that callback whenever it changes the verify mode
later. Before touching anything it checks that it found the right
``SSL_CTX`` (its verify mode must follow what Python sets); if anything is
off it changes nothing and says why: the server then simply does not offer
SASL EXTERNAL. Clients without a certificate are not affected either way.
"""

from __future__ import annotations

import ctypes
import hashlib
import ssl
from typing import Any

_SSL_VERIFY_NONE = 0
_SSL_VERIFY_PEER = 1
_VerifyCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


def _accept(preverify_ok: int, store_ctx: int) -> int:
    """OpenSSL's verify callback: every certificate is acceptable (it is only
    fingerprinted)."""
    return 1


#: The C callback, kept at module level so it is never garbage-collected.
_accept_any = _VerifyCallback(_accept)


def _openssl() -> Any:
    import _ssl

    return ctypes.CDLL(_ssl.__file__)


def accept_any_client_certificate(context: ssl.SSLContext) -> str | None:
    """Make ``context`` ask TLS clients for a certificate and accept any;
    None when done, else why it could not be (nothing was changed)."""
    try:
        lib = _openssl()
        get_mode = lib.SSL_CTX_get_verify_mode
        set_verify = lib.SSL_CTX_set_verify
    except (OSError, AttributeError, ImportError) as exc:
        return f"OpenSSL's API is not reachable ({exc})"
    get_mode.restype = ctypes.c_int
    get_mode.argtypes = [ctypes.c_void_p]
    set_verify.restype = None
    set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VerifyCallback]
    # PySSLContext starts {PyObject_HEAD; SSL_CTX *ctx; ...}.
    pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not pointer:
        return "the TLS context has no OpenSSL context"
    before = context.verify_mode
    try:
        for mode, expected in ((ssl.CERT_OPTIONAL, _SSL_VERIFY_PEER),
                               (ssl.CERT_NONE, _SSL_VERIFY_NONE)):  # fmt: skip
            context.verify_mode = mode
            if get_mode(pointer) != expected:
                return "this Python's TLS context is laid out differently than expected"
    finally:
        context.verify_mode = before
    set_verify(pointer, _SSL_VERIFY_PEER, _accept_any)
    return None


def fingerprint(ssl_object: Any) -> str | None:
    """The SHA-256 fingerprint (lower-case hex) of the certificate the peer
    of ``ssl_object`` showed, or None."""
    if ssl_object is None:
        return None
    try:
        der = ssl_object.getpeercert(binary_form=True)
    except (ValueError, ssl.SSLError):
        return None
    return hashlib.sha256(der).hexdigest() if der else None
