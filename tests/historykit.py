"""Events to keep and ways to look at them, for the history store tests
(shared by the contract over every database and the SQLite-only tests)."""

from __future__ import annotations

import itertools

from hubbub import events as ev
from hubbub.store.base import MESSAGE_KINDS, Entry, Found, HistoryStore, Party, Scope, identity_key
from hubbub.store.rows import time_ms

T0 = 1_700_000_000.0
_ids = itertools.count(1)


def settle(store: HistoryStore) -> None:
    """What was committed is readable: a PostgreSQL store's writer thread
    has written it (SQLite commits on the spot)."""
    wait = getattr(store, "wait_written", None)
    if wait is not None:
        assert wait(30), "the writer did not write in time"


class Clock:
    """Event times 10 ms apart, like messages in a lively channel."""

    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> float:
        self.t += 0.010
        return self.t


def said(clock: Clock, chan: str, text: str, nick: str = "alice", *, command: str = "PRIVMSG",
         status: str = "", tags: dict[str, str] | None = None) -> ev.MessageSent:  # fmt: skip
    t = clock()
    return ev.MessageSent(ev.make_msgid(t, "test", next(_ids)), t, f"u-{nick}", f"{nick}!~a@host",
                          command, status + chan, chan, "", status, text, tags or {})  # fmt: skip


def dm(clock: Clock, sender: str, recipient: str, text: str) -> ev.MessageSent:
    t = clock()
    return ev.MessageSent(ev.make_msgid(t, "test", next(_ids)), t, f"u-{sender}",
                          f"{sender}!~a@host", "PRIVMSG", recipient, "", f"u-{recipient}", "",
                          text, {})  # fmt: skip


def keep(store: HistoryStore, *events: ev.Event, channels: tuple[str, ...] = ()) -> None:
    for e in events:
        chans = channels or ((e.channel.lower(),) if getattr(e, "channel", "") else ())
        store.record(Entry(e, None, chans))
    store.commit()
    settle(store)


def keep_dm(store: HistoryStore, *events: ev.MessageSent) -> None:
    for e in events:
        sender, recipient = e.source.partition("!")[0], e.target
        store.record(Entry(e, None, (), (Party(identity_key(e.uid, None), sender),
                                         Party(identity_key(e.recipient, None), recipient))))
    store.commit()
    settle(store)


def texts(found: list[Found]) -> list[str]:
    return [f.event.text for f in found]  # type: ignore[union-attr]


def chan(name: str = "#tea", kinds: tuple[str, ...] = MESSAGE_KINDS) -> Scope:
    return Scope.of_channel(name, kinds)



def ms(e: ev.MessageSent) -> int:
    return time_ms(e.time)


def keep_dm_account(store: HistoryStore, clock: Clock) -> None:
    e = dm(clock, "dana", "erin", "to erin")
    store.record(Entry(e, "dana", (), (Party(identity_key("u-dana", "dana"), "dana"),
                                       Party(identity_key("u-erin", None), "Erin"))))
    store.commit()
    settle(store)
