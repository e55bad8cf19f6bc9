"""MONITOR: which local sessions watch which nicks.

A watch list belongs to a connection, not to the network: it is kept here,
beside the network state, and changed directly by the MONITOR command.
Delivery reads it to tell watchers when a nick comes and goes.
"""

from __future__ import annotations

from typing import Protocol

from hubbub.protocol import casefold

from .interfaces import Peer


class Watching(Peer, Protocol):
    """A session that can MONITOR: its own list of casefolded nicks."""

    monitoring: set[str] | frozenset[str]


class Monitors:
    """Casefolded nick -> the sessions watching it."""

    __slots__ = ("watchers_of",)

    def __init__(self) -> None:
        self.watchers_of: dict[str, set[Watching]] = {}

    def watchers(self, nick: str) -> set[Watching]:
        """Sessions that MONITOR ``nick``."""
        return self.watchers_of.get(casefold(nick), set())

    def watch(self, session: Watching, nick: str) -> None:
        """``session`` MONITORs ``nick``."""
        cf = casefold(nick)
        if not isinstance(session.monitoring, set):
            session.monitoring = set()  # most clients never MONITOR: allocate on first use
        session.monitoring.add(cf)
        self.watchers_of.setdefault(cf, set()).add(session)

    def unwatch(self, session: Watching, nick: str) -> None:
        """``session`` stops MONITORing ``nick``."""
        cf = casefold(nick)
        if isinstance(session.monitoring, set):
            session.monitoring.discard(cf)
        watchers = self.watchers_of.get(cf)
        if watchers is not None:
            watchers.discard(session)
            if not watchers:
                del self.watchers_of[cf]

    def unwatch_all(self, session: Watching) -> None:
        """Forget every MONITOR entry of ``session``."""
        for nick_cf in list(session.monitoring):
            self.unwatch(session, nick_cf)
