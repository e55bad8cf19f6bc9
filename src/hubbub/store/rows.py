"""Events as rows of the ``history`` table, and back.

A row has columns for what every query filters or shows (msgid, time,
kind, who, the target, the text) and keeps the rest of the event in
``fields``, as small JSON, only when there is something to keep: a channel
PRIVMSG without client tags stores ``fields`` as NULL. Each stored kind has
an encoder and a decoder here; a test round-trips every one.

The ``kind`` names and the meaning of ``fields`` are persisted: they must
remain stable. A new field of an event goes at the end of its ``fields``,
and decoders must accept rows written before it existed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hubbub import events as ev

#: (kind, uid, account, source, target, status, text, fields): a row without
#: its id, conversation, msgid and time, which the store adds.
Body = tuple[str, str, str | None, str, str | None, str | None, str | None, str | None]

#: The columns a decoder reads, in this order.
COLUMNS = "h.msgid, h.time_ms, h.kind, h.uid, h.source, h.target, h.status, h.text, h.fields"
Row = tuple[str, int, str, str, str, str | None, str | None, str | None, str | None]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def time_ms(t: float) -> int:
    """Unix seconds -> the milliseconds that server-time shows."""
    return int(t * 1000)


def from_ms(ms: int) -> float:
    """Milliseconds -> Unix seconds that format back to the same server-time
    (the half millisecond keeps ``int(t * 1000)`` from rounding down)."""
    return (ms + 0.5) / 1000


# --- encoding ----------------------------------------------------------------


def _message(e: ev.MessageSent, account: str | None) -> Body:
    extra: dict[str, Any] = {}
    if e.tags:
        extra["tags"] = dict(e.tags)
    if e.recipient:
        extra["recipient"] = e.recipient
    return (e.command, e.uid, account, e.source, e.target, e.status or None, e.text or None,
            _dumps(extra) if extra else None)  # fmt: skip


def _joined(e: ev.Joined, account: str | None) -> Body:
    return ("JOIN", e.uid, account, e.source, e.channel, None, None,
            _dumps([e.account, e.realname]))  # fmt: skip


def _parted(e: ev.Parted, account: str | None) -> Body:
    return ("PART", e.uid, account, e.source, e.channel, None, e.reason or None, None)


def _kicked(e: ev.Kicked, account: str | None) -> Body:
    return ("KICK", e.uid, account, e.source, e.channel, None, e.reason or None,
            _dumps([e.target, e.nick]))  # fmt: skip


def _quit(e: ev.UserQuit, account: str | None) -> Body:
    return ("QUIT", e.uid, account, e.source, None, None, e.reason or None, None)


def _nick(e: ev.NickChanged, account: str | None) -> Body:
    return ("NICK", e.uid, account, e.source, e.nick, None, None, None)


def _topic(e: ev.TopicChanged, account: str | None) -> Body:
    return ("TOPIC", e.uid, account, e.source, e.channel, None, e.topic or None, None)


def _modes(e: ev.ChannelModeChanged, account: str | None) -> Body:
    return ("MODE", e.uid, account, e.source, e.channel, None, None, _dumps(e.changes))


#: The events history keeps, and how each becomes a row.
ENCODERS: dict[type[Any], Callable[[Any, str | None], Body]] = {
    ev.MessageSent: _message,
    ev.Joined: _joined,
    ev.Parted: _parted,
    ev.Kicked: _kicked,
    ev.UserQuit: _quit,
    ev.NickChanged: _nick,
    ev.TopicChanged: _topic,
    ev.ChannelModeChanged: _modes,
}


def encode(event: ev.Event, account: str | None) -> Body | None:
    """``event`` as a row body, or None when history does not keep its kind."""
    encoder = ENCODERS.get(type(event))
    return None if encoder is None else encoder(event, account)


# --- decoding ----------------------------------------------------------------


def _load(fields: str | None, default: Any) -> Any:
    return default if fields is None else json.loads(fields)


def _decode_message(r: Row, private: bool) -> ev.Event:
    msgid, ms, kind, uid, source, target, status, text, fields = r
    extra = _load(fields, {})
    target = target or ""
    status = status or ""
    channel = "" if private else target[len(status):]
    return ev.MessageSent(msgid, from_ms(ms), uid, source, kind, target, channel,
                          extra.get("recipient", ""), status, text or "",
                          extra.get("tags", {}))  # fmt: skip


def _decode_join(r: Row, private: bool) -> ev.Event:
    account, realname = _load(r[8], [None, ""])
    return ev.Joined(r[0], from_ms(r[1]), r[3], r[4], r[5] or "", account, realname)


def _decode_part(r: Row, private: bool) -> ev.Event:
    return ev.Parted(r[0], from_ms(r[1]), r[3], r[4], r[5] or "", r[7] or "")


def _decode_kick(r: Row, private: bool) -> ev.Event:
    target, nick = _load(r[8], ["", ""])
    return ev.Kicked(r[0], from_ms(r[1]), r[3], r[4], r[5] or "", target, nick, r[7] or "")


def _decode_quit(r: Row, private: bool) -> ev.Event:
    return ev.UserQuit(r[0], from_ms(r[1]), r[3], r[4], r[7] or "")


def _decode_nick(r: Row, private: bool) -> ev.Event:
    return ev.NickChanged(r[0], from_ms(r[1]), r[3], r[4], r[5] or "")


def _decode_topic(r: Row, private: bool) -> ev.Event:
    return ev.TopicChanged(r[0], from_ms(r[1]), r[3], r[4], r[5] or "", r[7] or "")


def _decode_modes(r: Row, private: bool) -> ev.Event:
    changes = tuple((bool(a), str(m), arg) for a, m, arg in _load(r[8], []))
    return ev.ChannelModeChanged(r[0], from_ms(r[1]), r[3], r[4], r[5] or "", changes)


DECODERS: dict[str, Callable[[Row, bool], ev.Event]] = {
    "PRIVMSG": _decode_message,
    "NOTICE": _decode_message,
    "TAGMSG": _decode_message,
    "JOIN": _decode_join,
    "PART": _decode_part,
    "KICK": _decode_kick,
    "QUIT": _decode_quit,
    "NICK": _decode_nick,
    "TOPIC": _decode_topic,
    "MODE": _decode_modes,
}


def decode(row: Row, private: bool) -> ev.Event:
    """The event a row (the :data:`COLUMNS`) was made from; ``private`` for a
    row of a private conversation."""
    return DECODERS[row[2]](row, private)
