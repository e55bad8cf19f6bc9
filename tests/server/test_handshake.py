"""The WebSocket handshake's decisions, without sockets: subprotocol,
origin, and the client address behind a proxy."""

from __future__ import annotations

import pytest

from hubbub.config import parse_network
from hubbub.server.transports.handshake import (
    BINARY,
    TEXT,
    OriginPolicy,
    choose_subprotocol,
    client_address,
    forwarded_tls,
)


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ([TEXT, BINARY], TEXT),
        ([BINARY, TEXT], BINARY),
        (["x.example", BINARY], BINARY),
        (["x.example"], None),
        ([], None),
    ],
)
def test_subprotocol_in_the_clients_order(offered: list[str], chosen: str | None) -> None:
    assert choose_subprotocol(offered) == chosen


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "chat.example.org", True),  # not a browser page
        ("https://chat.example.org", "chat.example.org", True),  # the page we serve
        ("https://chat.example.org", "chat.example.org:443", True),
        ("http://127.0.0.1:8097", "127.0.0.1:8097", True),
        ("HTTP://Chat.Example.ORG:80", "chat.example.org", True),
        ("http://[::1]:8097", "[::1]:8097", True),
        ("https://chat.example.org", "chat.example.org:8097", False),  # another port
        ("https://evil.example", "chat.example.org", False),
        ("https://evil.example", None, False),
        ("null", "chat.example.org", False),
        ("not an origin", "chat.example.org", False),
    ],
)
def test_same_origin_is_the_default(origin: str | None, host: str | None, allowed: bool) -> None:
    assert OriginPolicy(()).allows(origin, host) is allowed


def test_allowed_origins_add_sites_and_star_allows_any() -> None:
    policy = OriginPolicy(("https://gamja.example.org",))
    assert policy.allows("https://gamja.example.org", "irc.example.org")
    assert policy.allows("https://GAMJA.example.org:443/", "irc.example.org")
    assert not policy.allows("https://kiwi.example.org", "irc.example.org")
    assert OriginPolicy(("*",)).allows("null", None)


PROXIES = (parse_network("10.0.0.0/8"), parse_network("::1"))


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("10.0.0.5", ["203.0.113.9"], "203.0.113.9"),
        # Read from the right: the client's own claim (left) is not believed.
        ("10.0.0.5", ["1.2.3.4, 203.0.113.9"], "203.0.113.9"),
        ("10.0.0.5", ["1.2.3.4, 203.0.113.9, 10.0.0.7"], "203.0.113.9"),  # two proxies
        ("10.0.0.5", ["1.2.3.4", "203.0.113.9"], "203.0.113.9"),  # repeated headers
        ("10.0.0.5", ["garbage, 203.0.113.9"], "203.0.113.9"),
        ("10.0.0.5", ["203.0.113.9, garbage"], "10.0.0.5"),  # unreadable nearest hop
        ("10.0.0.5", ["10.0.0.9"], "10.0.0.9"),  # only proxies: the farthest one
        ("10.0.0.5", ["::ffff:203.0.113.9"], "203.0.113.9"),
        ("10.0.0.5", ["2001:db8::1"], "2001:db8::1"),
        ("::1", ["203.0.113.9"], "203.0.113.9"),
        ("198.51.100.1", ["203.0.113.9"], "198.51.100.1"),  # not a trusted proxy
        ("10.0.0.5", [], "10.0.0.5"),
    ],
)
def test_x_forwarded_for_from_trusted_proxies(peer: str, header: list[str], client: str) -> None:
    assert client_address(peer, header, PROXIES) == client


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address("127.0.0.1", ["203.0.113.9"], ()) == "127.0.0.1"


@pytest.mark.parametrize(
    ("proto", "tls"), [("https", True), ("HTTPS", True), ("wss", True), ("http", False),
                       (None, False), ("https, http", True)]
)  # fmt: skip
def test_forwarded_proto(proto: str | None, tls: bool) -> None:
    assert forwarded_tls(proto) is tls
