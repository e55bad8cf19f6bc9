"""``hubbub cert``: a self-signed TLS certificate for a local or private server.

The certificate names the server (its ``server.name``), ``localhost``,
127.0.0.1 and ::1, plus any ``--host`` given, so clients on this machine
can check it by name. It is its own CA (basic constraints CA, key usage
``keyCertSign``), which is what lets a client use the certificate file
itself as the CA to trust (``hubbub chat --tls-ca cert.pem``). Clients that
cannot take a file pin its SHA-256 fingerprint instead.

Files are written whole and then renamed into place, so a running server
that reloads (SIGUSR1, REHASH) never reads half a certificate; the key is
readable by its owner only.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hubbub.client.trust import fingerprint

#: Names every local certificate carries, besides the server's own.
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)  # O_CREAT's mode is filtered by the umask
    os.replace(tmp, path)


def make_self_signed(
    cert_path: Path,
    key_path: Path,
    names: Sequence[str],
    *,
    days: int = 365,
    now: datetime | None = None,
) -> str:
    """Write a new key and a certificate for ``names`` (host names or IP
    addresses, the first one its subject); return its SHA-256 fingerprint."""
    if not names:
        raise ValueError("a certificate needs at least one name")
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    unique = list(dict.fromkeys(names))
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        # An hour back: a client whose clock runs a little slow still accepts it.
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_alt_name(n) for n in unique]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False)
        .sign(key, hashes.SHA256())
    )
    for path in (cert_path, key_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(key_path, key_pem, 0o600)
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return fingerprint(cert.public_bytes(serialization.Encoding.DER))
