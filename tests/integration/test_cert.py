"""`hubbub cert` and the README's local TLS recipe: a self-signed certificate
in the data dir, served by `hubbub serve --tls-listen`, renewed in place."""

from __future__ import annotations

import ipaddress
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

from cryptography import x509

from hubbub.client.trust import fingerprint

from hubtest import free_port, start_server


def hubbub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hubbub", *args],
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def printed_fingerprint(out: str) -> str:
    (line,) = [x for x in out.splitlines() if x.startswith("SHA-256 fingerprint: ")]
    return line.split(": ", 1)[1]


def served_fingerprint(port: int) -> str:
    """The fingerprint of the certificate a new TLS connection is shown."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), 5) as raw, ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return fingerprint(der)


def test_cert_makes_a_certificate_clients_can_check_by_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = hubbub("cert", "--data-dir", str(data), "--name", "irc.example.org",
                  "--host", "chat.example.org", "--host", "192.0.2.7")  # fmt: skip
    assert made.returncode == 0, made.stderr
    cert_file, key_file = data / "tls" / "cert.pem", data / "tls" / "key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # the key is private
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {
        "irc.example.org", "chat.example.org", "localhost"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("192.0.2.7"), ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1")}  # fmt: skip
    der = ssl.PEM_cert_to_DER_cert(cert_file.read_text())
    assert printed_fingerprint(made.stdout) == fingerprint(der)
    assert f"--tls-ca {cert_file}" in made.stdout

    # It does not overwrite by accident; --force renews.
    again = hubbub("cert", "--data-dir", str(data))
    assert again.returncode == 2 and "already exists; --force replaces it" in again.stderr
    renewed = hubbub("cert", "--data-dir", str(data), "--force")
    assert renewed.returncode == 0
    assert printed_fingerprint(renewed.stdout) != printed_fingerprint(made.stdout)


def test_tls_listen_without_a_certificate_says_what_to_do(tmp_path: Path) -> None:
    out = hubbub("serve", "--data-dir", str(tmp_path / "data"),
                 "--listen", f"127.0.0.1:{free_port()}",
                 "--tls-listen", f"127.0.0.1:{free_port()}")  # fmt: skip
    assert out.returncode == 2
    assert "server.tls_cert: not set" in out.stderr
    assert "run `hubbub cert`" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_renewed_certificate_is_served_after_sigusr1_without_a_config_file(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = printed_fingerprint(hubbub("cert", "--data-dir", str(data)).stdout)
    tls_port = free_port()
    srv = start_server(tmp_path, None, "--tls-listen", f"127.0.0.1:{tls_port}")
    try:
        assert served_fingerprint(tls_port) == first
        second = printed_fingerprint(hubbub("cert", "--data-dir", str(data), "--force").stdout)
        srv.proc.send_signal(signal.SIGUSR1)
        srv.wait_for_log("configuration reloaded")
        deadline = time.monotonic() + 5
        while served_fingerprint(tls_port) != second:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        assert srv.stop() == 0
