"""What a WebSocket handshake decides, as plain functions (no sockets here).

Theory of operation
-------------------
A browser opening ``new WebSocket(url, ["text.ircv3.net"])`` sends an HTTP
GET with ``Upgrade: websocket``, its ``Origin``, the ``Host`` it dialled and
the subprotocols it wants, in order of preference. Before the connection
becomes an IRC session, three questions are answered here:

* **Which subprotocol** (:func:`choose_subprotocol`): the IRCv3 WebSocket
  spec has ``binary.ircv3.net`` and ``text.ircv3.net``; the server takes the
  first one the *client* listed that it knows. None offered (or none known)
  means text, the spec's legacy fallback, and no ``Sec-WebSocket-Protocol``
  in the answer.
* **May this page connect** (:class:`OriginPolicy`): a page on another site
  must not turn its visitors' browsers into clients of this server (their IP
  addresses, their per-IP limits). The page hubbub serves itself is always
  allowed, which means the ``Origin`` names the same host and port as the
  ``Host`` header; ``allowed_origins`` adds other sites; ``"*"`` allows any.
  A handshake without ``Origin`` is not from a browser page (a bot, irctest,
  a desktop client) and is allowed: the check protects browsers' users, and a
  non-browser client can send any header it likes anyway.
* **Who is it** (:func:`client_address`): behind a reverse proxy every
  connection comes from the proxy. Only when the peer is one of
  ``trusted_proxies`` is ``X-Forwarded-For`` believed, read from the right
  (the hop nearest to us) past further trusted proxies, so a client cannot
  choose its address by sending the header itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from hubbub.config import Network, normalize_origin

#: The IRCv3 WebSocket subprotocols (https://ircv3.net/specs/extensions/websocket).
BINARY = "binary.ircv3.net"
TEXT = "text.ircv3.net"
SUBPROTOCOLS = (BINARY, TEXT)


def choose_subprotocol(offered: Sequence[str]) -> str | None:
    """The first subprotocol in the client's order that we speak, or None
    (then the connection goes on without one, as text)."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None


class OriginPolicy:
    """Which pages may open a WebSocket here (see the module docstring)."""

    __slots__ = ("allow_any", "allowed")

    def __init__(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        self.allow_any = "*" in allowed
        self.allowed = frozenset(a for a in allowed if a != "*")

    def allows(self, origin: str | None, host: str | None) -> bool:
        """May a page from ``origin`` connect, asking for ``host``?"""
        if origin is None or self.allow_any:
            return True
        try:
            normal = normalize_origin(origin)
        except ValueError:
            # "null" (a sandboxed frame, a file:// page) or garbage: no site
            # to match, so only "*" lets it in.
            return False
        if normal in self.allowed:
            return True
        return host is not None and _same_host(normal, host)


_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _same_host(origin: str, host: str) -> bool:
    """Does ``origin`` (normalised) name the host:port of the ``Host`` header?

    The scheme is not compared: behind a TLS-terminating proxy the page is
    https while this listener speaks plain HTTP, and either way it is the page
    this listener (or its proxy) served."""
    scheme, _, netloc = origin.partition("://")
    want = host.strip().lower()
    if netloc == want:
        return True
    # "Host: example.org:443" against "https://example.org" (default port).
    return f"{netloc}:{_DEFAULT_PORTS[scheme]}" == want


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's IP address: ``peer``, or from ``X-Forwarded-For`` values
    when ``peer`` is a trusted proxy."""
    if not trusted or not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            # A hop we cannot read: everything left of it is unverifiable.
            break
        client = _plain(address)
        if not any(address in net for net in trusted):
            break
    return client


def _plain(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """An address as the TCP listener names clients (``::ffff:1.2.3.4`` -> ``1.2.3.4``)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _trusted(ip: str, trusted: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in net for net in trusted)


def forwarded_tls(proto: str | None) -> bool:
    """Whether a trusted proxy says the client came over TLS
    (``X-Forwarded-Proto: https``)."""
    return proto is not None and proto.split(",")[0].strip().lower() in ("https", "wss")
