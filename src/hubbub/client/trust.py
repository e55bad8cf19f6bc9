"""Which TLS certificates the client trusts, and what it says when it does not.

Theory of operation
-------------------
A :class:`Trust` says how to check the server's certificate, safest first:

* the system's certificate authorities (the default with ``--tls``);
* a CA file (``--tls-ca FILE``): a private CA, or the server's own
  self-signed certificate (``hubbub cert`` makes one);
* a pinned SHA-256 fingerprint (``--tls-fingerprint``): exactly that
  certificate, whoever signed it and whatever names it carries (how SSH
  trusts host keys);
* nothing at all (``--tls-insecure``): for tests only; the traffic is still
  encrypted, but anyone in the middle can read it.

A failed check is not a network hiccup: trying again cannot fix it, and
retrying forever hides the reason. The client stops and says why, with the
certificate's fingerprint (:func:`peer_fingerprint` asks for it over a
second, unchecked connection that sends nothing), so a person can compare
it with the one ``hubbub cert`` printed and pin it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from dataclasses import dataclass

#: Hex digits in a SHA-256 fingerprint.
_SHA256_HEX = 64


class UntrustedCertificate(Exception):
    """The server's certificate failed the check: do not retry."""


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate, as ``AB:CD:...``
    (the form ``openssl x509 -fingerprint -sha256`` prints)."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def parse_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as typed (with or without colons or a
    ``sha256:`` prefix, any case) -> ``AB:CD:...``; ValueError with a reason."""
    raw = text.strip()
    if raw.lower().startswith(("sha256:", "sha256=")):
        raw = raw[7:]
    digits = raw.replace(":", "").replace(" ", "").upper()
    if len(digits) != _SHA256_HEX or any(c not in "0123456789ABCDEF" for c in digits):
        raise ValueError(
            f"{text!r} is not a SHA-256 fingerprint: expected 64 hex digits, "
            "optionally in pairs separated by colons (as `hubbub cert` prints it)"
        )
    return ":".join(digits[i : i + 2] for i in range(0, _SHA256_HEX, 2))


@dataclass(frozen=True, slots=True)
class Trust:
    """How to check a server's certificate (see the module docstring)."""

    ca_file: str | None = None
    #: ``AB:CD:...`` (see :func:`parse_fingerprint`).
    pinned: str | None = None
    insecure: bool = False

    def context(self) -> ssl.SSLContext:
        """The client TLS context; ValueError naming the file if a CA file
        cannot be loaded."""
        if self.pinned is not None or self.insecure:
            # The pin is checked after the handshake (:meth:`check`).
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ValueError(f"cannot load the CA file {self.ca_file}: {why}") from None

    def check(self, der: bytes | None, where: str) -> None:
        """Raise :class:`UntrustedCertificate` if a pinned certificate is not
        the one the server showed (``der``)."""
        if self.pinned is None:
            return
        seen = fingerprint(der) if der else "(none)"
        if seen != self.pinned:
            raise UntrustedCertificate(
                f"The TLS certificate of {where} is not the pinned one: its SHA-256 "
                f"fingerprint is {seen}, not {self.pinned}. Not connecting; if the server "
                "has a new certificate, pin the new fingerprint."
            )


def untrusted_reason(exc: ssl.SSLCertVerificationError, where: str, seen: str | None) -> str:
    """What to tell a person whose server's certificate failed verification."""
    why = exc.verify_message or exc.reason or str(exc)
    text = f"The TLS certificate of {where} is not trusted: {why}. Not retrying."
    if seen is not None:
        text += (
            f" Its SHA-256 fingerprint is {seen}. If that is your server's certificate, "
            f"connect with --tls-fingerprint {seen}"
        )
    else:
        text += " If the server's certificate is self-signed, connect with --tls-fingerprint"
    return text + (
        " (or --tls-ca with the certificate file; --tls-insecure skips the check, "
        "for tests only)."
    )


async def peer_fingerprint(host: str, port: int, timeout: float) -> str | None:
    """The fingerprint of the certificate ``host:port`` shows, unchecked;
    None if it cannot be had. Nothing is sent over the connection."""
    ctx = Trust(insecure=True).context()
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx), timeout
        )
    except (OSError, TimeoutError, ssl.SSLError):
        return None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        return fingerprint(der) if der else None
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
