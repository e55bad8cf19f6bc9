"""Registered channels are kept: what changes in them goes to the channel store.

Theory of operation
-------------------
The pipeline hands the keeper only the events that can change what is kept
of a registered channel (:data:`WATCHED`: topic, modes and lists, the
registration and its access list, a rename); it is never called for a
message. :meth:`ChannelKeeper.record` runs after the event was applied and
notes the channel's name; :meth:`ChannelKeeper.commit` runs before the
turn's output leaves (with the history's commit) and writes each noted
channel's whole state as it is then, in one row. So a topic set and seen
is a topic kept, even if the process dies the moment after; and many
changes in one turn cost one write.

At start, :func:`restore_events` turns what was kept into
:class:`~hubbub.events.ChannelRestored` events, which bring the channels
back through the pipeline like any other change.

A write that fails (a full disk) is logged and tried again next turn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from hubbub import events as ev
from hubbub.protocol import casefold
from hubbub.store.base import ChannelStore, RegisteredChannel
from hubbub.store.errors import DatabaseError

from .state import Channel, Network

log = logging.getLogger(__name__)

#: The events that can change what is kept of a registered channel.
WATCHED: frozenset[type[Any]] = frozenset(
    {
        ev.TopicChanged,
        ev.ChannelModeChanged,
        ev.ChannelRegistered,
        ev.ChannelAccessChanged,
        ev.ChannelRenamed,
    }
)


def _entries(entries: dict[str, tuple[str, float]]) -> tuple[tuple[str, str, float], ...]:
    return tuple((mask, setter, when) for mask, (setter, when) in entries.items())


def kept_state(chan: Channel) -> RegisteredChannel:
    """What is kept of a registered channel."""
    reg = chan.registration
    assert reg is not None
    return RegisteredChannel(
        chan.name, reg.founder, reg.registered,
        created=chan.created, topic=chan.topic, topic_setter=chan.topic_setter,
        topic_time=chan.topic_time, modes="".join(sorted(chan.modes)), key=chan.key,
        limit=chan.limit, bans=_entries(chan.bans), excepts=_entries(chan.excepts),
        invex=_entries(chan.invex), access=tuple(sorted(reg.access.items())),
    )  # fmt: skip


def restore_events(
    stored: Iterable[RegisteredChannel], stamp: Callable[[], tuple[str, float]], server_name: str
) -> list[ev.ChannelRestored]:
    """The events that bring back every kept channel."""
    events = []
    for c in stored:
        events.append(
            ev.ChannelRestored(
                *stamp(), "", server_name, c.name, c.founder, c.registered, c.created, c.topic,
                c.topic_setter, c.topic_time, c.modes, c.key, c.limit, c.bans, c.excepts,
                c.invex, c.access,
            )
        )  # fmt: skip
    return events


class ChannelKeeper:
    """Writes registered channels' state to the store (see the module docstring)."""

    __slots__ = ("_dirty", "_dropped", "network", "store")

    def __init__(self, network: Network, store: ChannelStore) -> None:
        self.network = network
        self.store = store
        self._dirty: set[str] = set()  # casefolded names to write
        self._dropped: set[str] = set()  # casefolded names to forget

    def record(self, event: Any) -> None:
        """Note the registered channel a watched event changed."""
        if isinstance(event, ev.ChannelRenamed):
            chan = self.network.channel(event.new)
            if chan is not None and chan.registration is not None:
                self._forget(event.channel)
                self._note(chan.name)
            return
        if isinstance(event, ev.ChannelRegistered) and event.founder is None:
            self._forget(event.channel)
            return
        chan = self.network.channel(event.channel)
        if chan is not None and chan.registration is not None:
            self._note(chan.name)

    def _note(self, name: str) -> None:
        cf = casefold(name)
        self._dropped.discard(cf)
        self._dirty.add(cf)

    def _forget(self, name: str) -> None:
        cf = casefold(name)
        self._dirty.discard(cf)
        self._dropped.add(cf)

    def commit(self) -> None:
        """Write what changed since the last commit (before output leaves)."""
        if not (self._dirty or self._dropped):
            return
        try:
            for cf in list(self._dropped):
                self.store.drop(cf)
                self._dropped.discard(cf)
            for cf in list(self._dirty):
                chan = self.network.channels.get(cf)
                if chan is not None and chan.registration is not None:
                    self.store.save(kept_state(chan))
                self._dirty.discard(cf)
        except DatabaseError as exc:
            log.error("registered channels not saved (trying again): %s", exc,
                      extra={"event": "channels.save_failed", "reason": str(exc)})
