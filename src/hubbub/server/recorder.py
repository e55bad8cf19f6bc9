"""History as a subscriber of the pipeline: where each event belongs.

The pipeline hands every event to :meth:`HistoryRecorder.record` after its
audience is known and before it is applied, so the network is still as the
event found it: a quitting user is still in its channels, and that is where
its QUIT is kept. The recorder turns the event into an
:class:`~hubbub.store.base.Entry` (the channels whose history holds it, or
the two parties of a private message and who they are) and queues it on the
store; the output scheduler commits the store before the turn's bytes leave.

What is never kept: private messages to or from the server's own services
(:attr:`HistoryRecorder.unrecorded`: NickServ and ChanServ carry passwords),
and events that are not part of a conversation (registration, away, user
modes, WALLOPS, invitations).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hubbub import events as ev
from hubbub.protocol import casefold
from hubbub.store.base import Entry, HistoryStore, Party, identity_key

from .state import Network, User


def party_key(user: User) -> str:
    """The identity a private message records for ``user``."""
    return identity_key(user.uid, user.account)


def party(user: User) -> Party:
    """``user`` as a party of a private message, now."""
    return Party(party_key(user), user.nick)


class HistoryRecorder:
    """Places events in history and queues them on the store."""

    __slots__ = ("_folded", "network", "recorded", "store", "unrecorded", "wake")

    def __init__(
        self, network: Network, store: HistoryStore, wake: Callable[[], None],
        unrecorded: set[str] | None = None,
    ) -> None:  # fmt: skip
        self.network = network
        self.store = store
        #: Have the store committed before this turn's output (the scheduler's wake).
        self.wake = wake
        #: Casefolded nicks whose private messages are never kept (services).
        self.unrecorded: set[str] = unrecorded if unrecorded is not None else set()
        #: Events kept per channel (casefolded) since start: a reader that
        #: queried a channel can tell whether anything came after its query.
        self.recorded: dict[str, int] = {}
        #: Channel names as events carry them -> casefolded (a PRIVMSG per
        #: line must not casefold its channel's name every time).
        self._folded: dict[str, str] = {}

    def record(self, event: ev.Event) -> None:
        """Keep ``event`` if it belongs to a conversation."""
        if type(event) is ev.MessageSent and event.channel:
            # The hot path, one per channel line: the sender's account is
            # in the relayed tags, the channel's folded name in the cache.
            name = self._folded.get(event.channel) or self._fold(event.channel)
            tags = event.tags
            self.store.record(Entry(event, tags.get("account") if tags else None, (name,)))
            self.recorded[name] = self.recorded.get(name, 0) + 1
            self.wake()
            return
        place = _PLACES.get(type(event))
        if place is None:
            return
        entry = place(self, event)
        if entry is not None:
            self.store.record(entry)
            recorded = self.recorded
            for name in entry.channels:
                recorded[name] = recorded.get(name, 0) + 1
            self.wake()

    def _fold(self, name: str) -> str:
        folded = self._folded
        if len(folded) > 10_000:
            folded.clear()
        folded[name] = result = casefold(name)
        return result

    def _account(self, uid: str) -> str | None:
        user = self.network.by_uid.get(uid)
        return user.account if user is not None else None

    def _in_channel(self, e: Any) -> Entry:
        """An event of one channel (JOIN, PART, KICK, TOPIC, MODE, RENAME)."""
        return Entry(e, self._account(e.uid), (casefold(e.channel),))

    def _in_users_channels(self, e: ev.UserQuit | ev.NickChanged) -> Entry | None:
        """QUIT and NICK belong to every channel the user is in (still, here)."""
        user = self.network.by_uid.get(e.uid)
        if user is None or not user.channels:
            return None
        return Entry(e, user.account, tuple(user.channels))

    def _redacted(self, e: ev.MessageRedacted) -> Entry:
        """A redaction finds its message by msgid (the handler checked who may)."""
        return Entry(e, self._account(e.uid))

    def _message(self, e: ev.MessageSent) -> Entry | None:
        if e.channel:
            return Entry(e, self._account(e.uid), (casefold(e.channel),))
        sender = self.network.by_uid.get(e.uid)
        recipient = self.network.by_uid.get(e.recipient)
        if sender is None or recipient is None:
            return None
        if sender.nick_cf in self.unrecorded or recipient.nick_cf in self.unrecorded:
            return None
        return Entry(e, sender.account, (), (party(sender), party(recipient)))


#: The events history keeps, and how each finds its place.
_PLACES: dict[type[Any], Callable[[HistoryRecorder, Any], Entry | None]] = {
    ev.MessageSent: HistoryRecorder._message,
    ev.MessageRedacted: HistoryRecorder._redacted,
    ev.Joined: HistoryRecorder._in_channel,
    ev.Parted: HistoryRecorder._in_channel,
    ev.Kicked: HistoryRecorder._in_channel,
    ev.TopicChanged: HistoryRecorder._in_channel,
    ev.ChannelModeChanged: HistoryRecorder._in_channel,
    ev.ChannelRenamed: HistoryRecorder._in_channel,
    ev.UserQuit: HistoryRecorder._in_users_channels,
    ev.NickChanged: HistoryRecorder._in_users_channels,
}
