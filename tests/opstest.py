"""Talking to a server's operations listener (``[metrics] listen``) in tests:
plain HTTP over a socket, and /metrics parsed by prometheus_client's own parser."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Mapping

from prometheus_client.parser import text_string_to_metric_families

from hubtest import free_port
from ircclient import Closed, LineClient

#: A sample's identity: its name and its labels, sorted.
Key = tuple[str, tuple[tuple[str, str], ...]]


class Samples(dict[Key, float]):
    """Every sample of one scrape."""

    def get_value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels`` (KeyError if absent)."""
        return self[(name, tuple(sorted(labels.items())))]

    def total(self, name: str, **labels: str) -> float:
        """Sum of the samples called ``name`` whose labels include ``labels``."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.items() if n == name and want <= set(ls))

    def label_values(self) -> set[str]:
        """Every label value of every sample."""
        return {value for (_, labels) in self for _, value in labels}


def gone(client: LineClient) -> None:
    """Until the server has closed ``client`` (its ERROR line, or the socket)."""
    with contextlib.suppress(Closed):
        client.wait_for(lambda m: m.command == "ERROR")


def metrics_section(port: int | None = None) -> tuple[str, int]:
    """A ``[metrics]`` config section on a free port, and the port."""
    port = port or free_port()
    return f'[metrics]\nlisten = "127.0.0.1:{port}"\n', port


def http(
    port: int, path: str, method: str = "GET", headers: Mapping[str, str] | None = None,
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One request (or ``raw`` bytes); the status, headers (lower-case names) and body."""
    request = raw or (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        + "\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return status, fields, body


def scrape(port: int) -> Samples:
    """GET /metrics, parsed."""
    status, _, body = http(port, "/metrics")
    assert status == 200, body
    samples = Samples()
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def wait_for_scrape(port: int, ok: Callable[[Samples], bool], timeout: float = 5.0) -> Samples:
    """Scrape until ``ok`` holds (the page is kept a moment, and the server
    counts as the loop turns); the last scrape."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(port)
        if ok(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def wait_for_status(
    port: int, path: str, status: int, timeout: float = 5.0, containing: str = ""
) -> bytes:
    """GET ``path`` until it answers ``status`` (with ``containing`` in the
    body); the body (fails with the last answer)."""
    deadline = time.monotonic() + timeout
    while True:
        got, _, body = http(port, path)
        if got == status and containing.encode() in body:
            return body
        assert time.monotonic() < deadline, (got, body)
        time.sleep(0.1)
