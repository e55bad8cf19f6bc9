"""Who may connect: the server-wide and per-address connection limits.

Three counts: all open connections, those per address, and those per
address that have not registered yet. The last one is what a connection
flood fills: sockets that hold a slot and say nothing until the
registration timeout closes them. Capping it per address leaves the rest
of ``max_clients_per_ip`` to clients that do register.
"""

from __future__ import annotations

from hubbub.config import LimitsSection


def _down(counts: dict[str, int], ip: str) -> None:
    left = counts.get(ip, 1) - 1
    if left:
        counts[ip] = left
    else:
        counts.pop(ip, None)


class Admission:
    """Counts open connections: in all, per IP, and unregistered per IP."""

    __slots__ = ("closed", "per_ip", "total", "unregistered")

    def __init__(self) -> None:
        self.total = 0
        self.per_ip: dict[str, int] = {}
        self.unregistered: dict[str, int] = {}
        #: Why nobody may connect for now (a cluster node rejoining), or None.
        self.closed: str | None = None

    def refusal(self, ip: str, limits: LimitsSection) -> str | None:
        """Why a new connection from ``ip`` is refused, or None to let it in."""
        if self.closed is not None:
            return self.closed
        if self.total >= limits.max_clients:
            return "Too many connections on this server"
        if self.per_ip.get(ip, 0) >= limits.max_clients_per_ip:
            return "Too many connections from your IP address"
        if self.unregistered.get(ip, 0) >= limits.max_unregistered_per_ip:
            return "Too many unregistered connections from your IP address"
        return None

    def admit(self, ip: str) -> None:
        """Count a new (unregistered) connection from ``ip``."""
        self.total += 1
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        self.unregistered[ip] = self.unregistered.get(ip, 0) + 1

    def registered(self, ip: str) -> None:
        """A connection from ``ip`` finished registering."""
        _down(self.unregistered, ip)

    def release(self, ip: str, *, registered: bool) -> None:
        """A connection from ``ip`` closed (``registered``: it had registered)."""
        self.total -= 1
        _down(self.per_ip, ip)
        if not registered:
            _down(self.unregistered, ip)
