"""The change events: every change to the network, as plain data.

Theory of operation
-------------------
A command handler never changes users or channels and never writes to another
client. It validates, answers errors, and then publishes one of these. The
pipeline (:mod:`hubbub.server.pipeline`) applies the event to the network
state (:mod:`hubbub.server.apply`, the only code that mutates it), hands it
to the subscribers (the history store; later the cluster bus) and delivers it
to the local clients that should see it (:mod:`hubbub.server.delivery`).
Replaying a recording of events into an empty state gives the same state:
history and a multi-node network rest on that.

Events are NamedTuples: immutable, typed and cheap. A PRIVMSG makes one per
target on the server's hot path, and a frozen dataclass costs four times as
much to build. They hold only plain data (strings, numbers, booleans, tuples
and one ``str -> str`` mapping), so :func:`to_wire` and :func:`from_wire`
turn them into JSON-ready dicts and back for a store or a bus between
processes. No connection, socket or state object is ever inside one.

Every event starts with the same four fields:

``msgid``
    unique on the network; also the IRCv3 ``msgid`` tag of what is delivered.
    It starts with the event's time in milliseconds (:func:`make_msgid`), so
    history finds a message by its msgid without an index of msgids.
``time``
    Unix seconds when it happened; the IRCv3 ``server-time`` tag.
``uid``
    the user who caused it. A uid never changes (nicks do), so the state
    changes that :mod:`~hubbub.server.apply` makes cannot be misdirected by a
    rename in between.
``source``
    that user's ``nick!user@host`` at the time: what clients are shown and
    what history keeps.

Names and fields are persisted (history, a bus): they must remain stable.
A new field goes at the end, with a default, so older records still load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

#: Hex digits of the millisecond time a msgid starts with (enough until 2527).
MSGID_TIME_DIGITS = 11


def make_msgid(at: float, prefix: str, n: int) -> str:
    """The msgid of the ``n``-th event a process (``prefix``) makes, at ``at``
    (Unix seconds): the time in milliseconds, then the prefix and counter."""
    return f"{int(at * 1000):0{MSGID_TIME_DIGITS}x}{prefix}{n:x}"


def msgid_time(msgid: str) -> int | None:
    """The millisecond time a msgid made by :func:`make_msgid` starts with;
    None for anything else."""
    head = msgid[:MSGID_TIME_DIGITS]
    if len(msgid) <= MSGID_TIME_DIGITS or not all(c in "0123456789abcdef" for c in head):
        return None
    return int(head, 16)

# --- users -------------------------------------------------------------------


class UserRegistered(NamedTuple):
    """A client finished connection registration: a user is on the network."""

    msgid: str
    time: float
    uid: str
    source: str
    nick: str
    user: str
    host: str
    realname: str
    account: str | None = None
    tls: bool = False
    #: The cluster node the user is connected to ("" on a single server).
    node: str = ""


class UserQuit(NamedTuple):
    """A user left the network (QUIT, a dropped connection, a kill)."""

    msgid: str
    time: float
    uid: str
    source: str
    reason: str


class Killed(NamedTuple):
    """An operator (``uid``) disconnects ``target``; its quit follows."""

    msgid: str
    time: float
    uid: str
    source: str
    target: str
    nick: str
    reason: str


class NickChanged(NamedTuple):
    """A user took a new nick (``source`` holds the old one)."""

    msgid: str
    time: float
    uid: str
    source: str
    nick: str


class UserModeChanged(NamedTuple):
    """User modes changed: ``changes`` is ``((adding, letter), ...)``."""

    msgid: str
    time: float
    uid: str
    source: str
    changes: tuple[tuple[bool, str], ...]


class OperUp(NamedTuple):
    """A user became an IRC operator with the operator block ``name``."""

    msgid: str
    time: float
    uid: str
    source: str
    name: str


class AwayChanged(NamedTuple):
    """A user went away with ``text``, or came back (``text`` is None)."""

    msgid: str
    time: float
    uid: str
    source: str
    text: str | None


class RealnameChanged(NamedTuple):
    """SETNAME: a user's realname changed."""

    msgid: str
    time: float
    uid: str
    source: str
    realname: str


class HostChanged(NamedTuple):
    """CHGHOST: the user ``uid`` was given a new ``user@host`` (by ``source``'s
    owner or an operator: ``source`` is the user's own old prefix)."""

    msgid: str
    time: float
    uid: str
    source: str
    user: str
    host: str


class AccountChanged(NamedTuple):
    """A user logged in to ``account``, or out (None)."""

    msgid: str
    time: float
    uid: str
    source: str
    account: str | None


# --- channels ----------------------------------------------------------------


class Joined(NamedTuple):
    """A user joined ``channel`` (creating it when it did not exist).
    ``modes`` is the status ChanServ gives on joining a registered channel
    (``"o"``, ``"v"``), shown to everyone as a MODE from ChanServ."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    account: str | None
    realname: str
    modes: str = ""


class Parted(NamedTuple):
    """A user left ``channel``."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    reason: str


class Kicked(NamedTuple):
    """``uid`` removed ``target`` (whose nick was ``nick``) from ``channel``."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    target: str
    nick: str
    reason: str


class TopicChanged(NamedTuple):
    """``channel``'s topic is now ``topic``, set by ``source``."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    topic: str


class ChannelModeChanged(NamedTuple):
    """Channel modes changed: ``changes`` is ``((adding, letter, arg), ...)``,
    only the changes that took effect, in order (``arg`` None for flags)."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    changes: tuple[tuple[bool, str, str | None], ...]


class Invited(NamedTuple):
    """``uid`` invited ``target`` (nick ``nick``) to ``channel``."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    target: str
    nick: str


class ServerRoomChanged(NamedTuple):
    """The server holds ``channel`` as one of its own rooms (``held``), or
    lets it go back to being an ordinary channel.

    The server's rooms (``server.auto_join``) exist from the start, nobody
    becomes their operator by joining them, and they stay when they empty.
    The server itself is the actor: ``uid`` is empty and ``source`` is the
    server's name.
    """

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    held: bool


class ChannelRenamed(NamedTuple):
    """``channel`` is now called ``new`` (draft/channel-rename)."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    new: str
    reason: str


class ChannelRegistered(NamedTuple):
    """ChanServ registered ``channel`` to the account ``founder``, or dropped
    its registration (``founder`` None). A registered channel stays when it
    empties, and its topic, modes and lists are kept across restarts."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    founder: str | None


class ChannelAccessChanged(NamedTuple):
    """``account`` gets ``modes`` (``"o"``, ``"v"``) when it joins the
    registered ``channel``, or nothing any more (``""``)."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    account: str
    modes: str


#: A list-mode entry as events carry it: (mask, set by, set at).
ListEntry = tuple[str, str, float]


class ChannelRestored(NamedTuple):
    """At start, the server brings back a registered channel as it was kept
    (the server is the actor: ``uid`` empty, ``source`` its name)."""

    msgid: str
    time: float
    uid: str
    source: str
    channel: str
    founder: str
    registered: float
    created: float
    topic: str
    topic_setter: str
    topic_time: float
    modes: str
    key: str | None
    limit: int | None
    bans: tuple[ListEntry, ...]
    excepts: tuple[ListEntry, ...]
    invex: tuple[ListEntry, ...]
    access: tuple[tuple[str, str], ...]


class AccountRegistered(NamedTuple):
    """The (verified) account ``account`` now exists: the nick of that name
    is its owner's. Accounts live in the store; this tells every node at
    once, in the log's order (a cluster node reserves the nick when it
    reads this, not when it next reads the store)."""

    msgid: str
    time: float
    uid: str
    source: str
    account: str


class AccountDropped(NamedTuple):
    """The account ``account`` was deleted: its nick is free."""

    msgid: str
    time: float
    uid: str
    source: str
    account: str


# --- the nodes of a cluster -------------------------------------------------


class NodeJoined(NamedTuple):
    """A cluster node (a ``hubbub serve`` process) joined the network as
    ``node``, in its ``epoch`` (a number no other incarnation of any node
    had). The log itself writes it, so ``uid`` is empty."""

    msgid: str
    time: float
    uid: str
    source: str
    node: str
    epoch: int


class NodeGone(NamedTuple):
    """The incarnation ``epoch`` of ``node`` left the network (its lease
    expired, it was fenced, or it stopped): each of its users quits with
    ``reason``, the same way on every node."""

    msgid: str
    time: float
    uid: str
    source: str
    node: str
    epoch: int
    reason: str


# --- talking -----------------------------------------------------------------


class MessageSent(NamedTuple):
    """A PRIVMSG, NOTICE or TAGMSG (``command``) to one target.

    ``target`` is the target as it goes on the wire (``#chan``, ``@#chan``,
    ``nick``). Exactly one of ``channel`` (the channel's name) and
    ``recipient`` (a uid) is set; ``status`` is the STATUSMSG prefix (``@``,
    ``+``) or empty. ``tags`` are the tags relayed besides ``time`` and
    ``msgid``: the client-only ``+tags``, ``account``, ``bot``.
    """

    msgid: str
    time: float
    uid: str
    source: str
    command: str
    target: str
    channel: str
    recipient: str
    status: str
    text: str
    tags: Mapping[str, str]


class MessageRedacted(NamedTuple):
    """REDACT (draft/message-redaction): the message ``redacted`` to ``target``
    is withdrawn, by its author or a channel operator (``uid``). As for
    :class:`MessageSent`, exactly one of ``channel`` and ``recipient`` (the
    other party of a private conversation, a uid) is set."""

    msgid: str
    time: float
    uid: str
    source: str
    target: str
    channel: str
    recipient: str
    redacted: str
    reason: str


class Wallops(NamedTuple):
    """WALLOPS from an operator to everyone with user mode +w (and opers)."""

    msgid: str
    time: float
    uid: str
    source: str
    text: str


Event = (
    UserRegistered
    | UserQuit
    | Killed
    | NickChanged
    | UserModeChanged
    | OperUp
    | AwayChanged
    | RealnameChanged
    | HostChanged
    | AccountChanged
    | Joined
    | Parted
    | Kicked
    | TopicChanged
    | ChannelModeChanged
    | Invited
    | ChannelRenamed
    | ServerRoomChanged
    | ChannelRegistered
    | ChannelAccessChanged
    | ChannelRestored
    | AccountRegistered
    | AccountDropped
    | NodeJoined
    | NodeGone
    | MessageSent
    | MessageRedacted
    | Wallops
)

#: Every event type by its name: what ``to_wire``'s ``"type"`` refers to.
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        UserRegistered,
        UserQuit,
        Killed,
        NickChanged,
        UserModeChanged,
        OperUp,
        AwayChanged,
        RealnameChanged,
        HostChanged,
        AccountChanged,
        Joined,
        Parted,
        Kicked,
        TopicChanged,
        ChannelModeChanged,
        Invited,
        ChannelRenamed,
        ServerRoomChanged,
        ChannelRegistered,
        ChannelAccessChanged,
        ChannelRestored,
        AccountRegistered,
        AccountDropped,
        NodeJoined,
        NodeGone,
        MessageSent,
        MessageRedacted,
        Wallops,
    )
}


def to_wire(event: Event) -> dict[str, Any]:
    """``event`` as a JSON-ready dict, its type under ``"type"``."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for name, value in zip(event._fields, event, strict=True):
        out[name] = dict(value) if isinstance(value, Mapping) else value
    return out


def _frozen(value: Any) -> Any:
    """JSON gives lists where events hold tuples: turn them back."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def from_wire(data: Mapping[str, Any]) -> Event:
    """The event that :func:`to_wire` made ``data`` from.

    Raises ValueError for an unknown type or missing fields; fields that
    this version does not know (written by a newer one) are ignored.
    """
    kind = EVENT_TYPES.get(str(data.get("type")))
    if kind is None:
        raise ValueError(f"unknown event type: {data.get('type')!r}")
    fields = {name: _frozen(data[name]) for name in kind._fields if name in data}
    try:
        return kind(**fields)
    except TypeError as exc:
        raise ValueError(f"{kind.__name__}: {exc}") from None
