"""TLS listeners: a client connects over TLS, WHOIS says so (671), and an
operator's REHASH loads a renewed certificate for new connections."""

from __future__ import annotations

import shutil
import socket
import ssl
from pathlib import Path

from hubbub.certs import make_self_signed

from hubtest import ServerFactory, free_port
from ircclient import LineClient


def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    make_self_signed(cert, key, [name], days=2)
    return cert, key


def served_cert(port: int) -> bytes:
    """The DER certificate a new TLS connection to ``port`` is shown."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        untrusting().wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def untrusting() -> ssl.SSLContext:
    """A client context for self-signed test certificates."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def der_of(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def test_tls_client_whois_and_rehash_of_a_renewed_certificate(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    live_cert, live_key = tmp_path / "live.crt", tmp_path / "live.key"
    first = make_cert(tmp_path, "first")
    second = make_cert(tmp_path, "second")
    shutil.copy(first[0], live_cert)
    shutil.copy(first[1], live_key)
    tls_port = free_port()
    srv = server_factory(
        f'[server]\ntls_listen = ["127.0.0.1:{tls_port}"]\n'
        f'tls_cert = "{live_cert}"\ntls_key = "{live_key}"\n'
        '[[operators]]\nname = "root"\npassword = "pw"\n'
    )
    assert served_cert(tls_port) == der_of(first[0])

    # A real IRC session over TLS, seen as secure by others.
    secure = LineClient("127.0.0.1", tls_port)
    secure.sock = untrusting().wrap_socket(secure.sock)
    srv.clients.append(secure)
    secure.register("secure")
    plain = srv.client("plain")
    plain.send("WHOIS secure")
    assert plain.expect("671").params[1] == "secure"
    plain.send("WHOIS plain")
    assert "671" not in [m.command for m in plain.collect("318")]

    # The certificate is renewed on disk; REHASH makes new connections use it.
    shutil.copy(second[0], live_cert)
    shutil.copy(second[1], live_key)
    plain.send("OPER root pw")
    plain.expect("381")
    plain.send("REHASH")
    plain.expect("382")
    assert served_cert(tls_port) == der_of(second[0])
    secure.send("PING :still here")  # the old session goes on
    secure.expect("PONG")
