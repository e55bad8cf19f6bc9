"""Identifiers and timestamps: msgids, user ids, and the server-time format.

A msgid is unique on the network and cheap to make: a random prefix chosen
when the process starts, then a counter (in decimal: formatting hex costs more
and a msgid is made for every relayed line). A uid is the same with a
different counter; uids are never reused, so a recorded event can never be
applied to the wrong user.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

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


class Ids:
    """Makes msgids and uids for one server process."""

    __slots__ = ("_prefix", "_uids", "msgid")

    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = prefix or secrets.token_hex(4)
        self._uids = itertools.count(1)
        #: ``msgid()`` gives a new msgid. A chain of C iterators, so making
        #: one (for every relayed line) costs no Python-level call.
        self.msgid: Callable[[], str] = map(
            self._prefix.__add__, map(str, itertools.count(1))
        ).__next__

    def uid(self) -> str:
        """A new user id."""
        return f"{self._prefix}-{next(self._uids):x}"
