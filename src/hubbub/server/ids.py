"""Identifiers and timestamps: msgids, user ids, and the server-time format.

A msgid is unique on the network and cheap to make: the time in
milliseconds (history finds a message by it), a random prefix chosen when
the process starts, then a counter in hex. A uid is the prefix and another
counter; uids are never reused, so a recorded event can never be applied to
the wrong user.
"""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import UTC, datetime

from hubbub.events import make_msgid

_second_cache: list[object] = [None, ""]
_milli_cache: list[object] = [None, ""]


def server_time(ts: float) -> str:
    """An IRCv3 server-time value: ISO 8601, UTC, milliseconds.

    Every relayed message carries one, and under load many share a
    millisecond: the last value is reused, and the date part is formatted once
    per second.
    """
    milli = int(ts * 1000)
    if _milli_cache[0] == milli:
        return _milli_cache[1]  # type: ignore[return-value]
    second = milli // 1000
    if _second_cache[0] != second:
        _second_cache[0] = second
        _second_cache[1] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    text = f"{_second_cache[1]}{milli % 1000:03d}Z"
    _milli_cache[0] = milli
    _milli_cache[1] = text
    return text


_SERVER_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z?")


def parse_server_time(text: str) -> int | None:
    """A server-time value (``2019-01-04T14:33:26.123Z``) -> Unix milliseconds,
    or None if it is not one."""
    match = _SERVER_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(p) for p in match.groups()[:6])
    fraction = match.group(7)
    try:
        when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    millis = int((fraction or "0").ljust(3, "0")[:3])
    return int(when.timestamp()) * 1000 + millis


class Ids:
    """Makes msgids and uids for one server process."""

    __slots__ = ("_msgids", "_prefix", "_uids")

    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = prefix or secrets.token_hex(4)
        self._msgids = itertools.count(1)
        self._uids = itertools.count(1)

    def msgid(self, at: float) -> str:
        """A new msgid for an event at ``at`` (see :func:`hubbub.events.make_msgid`)."""
        return make_msgid(at, self._prefix, next(self._msgids))

    def uid(self) -> str:
        """A new user id."""
        return f"{self._prefix}-{next(self._uids):x}"
