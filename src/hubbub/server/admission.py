"""Who may connect: the server-wide and per-address connection limits."""

from __future__ import annotations

from hubbub.config import LimitsSection


class Admission:
    """Counts open connections, in all and per IP address."""

    __slots__ = ("closed", "per_ip", "total")

    def __init__(self) -> None:
        self.total = 0
        self.per_ip: dict[str, int] = {}
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
        return None

    def admit(self, ip: str) -> None:
        """Count a connection from ``ip``."""
        self.total += 1
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1

    def release(self, ip: str) -> None:
        """A connection from ``ip`` closed."""
        self.total -= 1
        left = self.per_ip.get(ip, 1) - 1
        if left:
            self.per_ip[ip] = left
        else:
            self.per_ip.pop(ip, None)
