"""Events as the cluster's log holds them, and the log's own entries.

Theory of operation
-------------------
Every entry of the log (a Redis stream) has a number ``n``, given by the
script that appends it: 1, 2, 3... with no gap. A node checks that each
entry it reads is the one after the last it applied; anything else means
the log lost entries (Redis restarted without the last of its data) or the
node fell behind a trimmed log, and the node must not go on as if nothing
happened (see :mod:`.redis`).

An event entry holds its msgid (``m``) apart from its body (``e``), so the
node that appended it recognises its own events without decoding them. The
body is compact JSON: ``[type, field, field, ...]`` in the event's field
order. Fields are only ever added at the end, with a default
(:mod:`hubbub.events`), so a body with fewer fields (written by an older
node) gets the defaults, and one with more (a newer node) is cut to the
fields this version knows, as :func:`hubbub.events.from_wire` does by name.

The log writes two entries itself, in its scripts: a node joined (``k`` =
``joined``) and a node gone (``k`` = ``gone``). They become
:class:`~hubbub.events.NodeJoined` and :class:`~hubbub.events.NodeGone`,
whose msgid and time come from the entry's stream id, so every node makes
the same event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hubbub.events import EVENT_TYPES, Event, NodeGone, NodeJoined

#: Why a node's incarnation is gone, by the word the scripts write.
GONE_REASONS = {
    "lease": "its lease expired",
    "restarted": "it started again",
    "stopped": "it stopped",
    "fenced": "it lost the log",
}


def _plain(value: Any) -> Any:
    """What json cannot write as it is: mappings that are not dicts (tags)."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_plain).encode


def encode_event(event: Event) -> str:
    """The body of ``event``'s log entry."""
    return _dumps([type(event).__name__, *event])


def _frozen(value: Any) -> Any:
    """JSON gives lists where events hold tuples: turn them back."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def decode_event(body: str | bytes) -> Event:
    """The event an entry's body holds; ValueError if it holds none."""
    try:
        name, *fields = json.loads(body)
        kind = EVENT_TYPES[name]
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not an event: {body[:80]!r}") from exc
    known = kind._fields
    values = [_frozen(v) for v in fields[: len(known)]]
    try:
        return kind(*values)
    except TypeError as exc:
        raise ValueError(f"{name}: {exc}") from None


def entry_msgid(entry_id: str) -> tuple[str, float]:
    """The msgid and time of an entry the log wrote itself, from its stream
    id (``<milliseconds>-<sequence>``): unique, and the same on every node."""
    ms = entry_id.partition("-")[0]
    return f"{int(ms):011x}log{entry_id}", int(ms) / 1000


def system_event(entry_id: str, fields: Mapping[str, str], domain: str) -> Event:
    """The event of an entry the log's scripts wrote (``k`` = joined/gone).

    ``domain`` is ``server.name`` (the same on every node): a gone node's
    users quit with the classic netsplit reason, ``<network> <node server>``.
    """
    msgid, when = entry_msgid(entry_id)
    node, epoch = fields["node"], int(fields["epoch"])
    if fields["k"] == "joined":
        return NodeJoined(msgid, when, "", domain, node, epoch)
    if fields["k"] == "gone":
        return NodeGone(msgid, when, "", domain, node, epoch, f"{domain} {node}.{domain}")
    raise ValueError(f"unknown log entry kind {fields['k']!r}")
