"""Typed events the client library reports, one frozen dataclass per kind.

A UI, a bot or a test reads these instead of raw lines: the library has
already parsed the line, applied it to :mod:`.state`, and worked out which
*buffer* (conversation) it belongs to. ``buffer`` is a channel name, the nick
of the other side of a private conversation, or ``None`` for the server's own
chatter (MOTD, notices, replies that belong to no conversation).

Every event that comes from a line carries ``time``: the IRCv3 ``server-time``
tag when the server offered it, else the moment the line arrived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

MessageKind = Literal["privmsg", "notice", "action"]


@dataclass(frozen=True, slots=True)
class Event:
    """Base class of everything the client reports."""


@dataclass(frozen=True, slots=True)
class Connecting(Event):
    """A connection attempt is starting (``attempt`` counts from 1)."""

    host: str
    port: int
    attempt: int


@dataclass(frozen=True, slots=True)
class Connected(Event):
    """The TCP (or TLS) connection is up; registration follows."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Registered(Event):
    """RPL_WELCOME arrived: we are on the network as ``nick``."""

    nick: str
    server: str
    caps: frozenset[str]


@dataclass(frozen=True, slots=True)
class Ready(Event):
    """Registration, MOTD and anything the server did on connect (auto-join)
    are done: a barrier after which the client's view of the network is
    complete. Bots and the plain mode start talking here."""

    nick: str


@dataclass(frozen=True, slots=True)
class NickInUse(Event):
    """The server refused ``nick`` (taken or invalid). Before registration
    the client waits for :meth:`Client.set_nick` unless it picks alternatives
    itself; after registration the old nick simply stays."""

    nick: str
    reason: str
    registered: bool


@dataclass(frozen=True, slots=True)
class LoggedIn(Event):
    """We are logged in to ``account`` (None: logged out); ``text`` is the
    server's sentence."""

    account: str | None
    text: str
    time: datetime


@dataclass(frozen=True, slots=True)
class LoginFailed(Event):
    """The SASL login with the client's credentials failed (``reason``);
    registration went on without an account."""

    reason: str


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """The connection ended. ``reconnect_in`` is the backoff delay in seconds
    before the next attempt, or ``None`` when the client stops for good."""

    reason: str
    reconnect_in: float | None


@dataclass(frozen=True, slots=True)
class ChatMessage(Event):
    """A PRIVMSG, NOTICE or CTCP ACTION, received or (``own``) sent by us.

    ``history``: said in the past and shown again (inside a :class:`History`
    or :class:`SearchResults`), not live."""

    buffer: str | None
    nick: str
    target: str
    text: str
    kind: MessageKind
    own: bool
    time: datetime
    tags: Mapping[str, str] = field(default_factory=dict)
    history: bool = False

    @property
    def msgid(self) -> str | None:
        """The server's id of this message (IRCv3 msgid), if it sent one."""
        return self.tags.get("msgid")


@dataclass(frozen=True, slots=True)
class History(Event):
    """Past messages of a conversation, oldest first: the answer to
    :meth:`Client.history`, or what the server replays on join.

    ``before`` is the msgid the request paged back from (``None``: the
    latest messages); ``complete`` says nothing older is left."""

    buffer: str | None
    target: str
    messages: tuple[ChatMessage, ...]
    before: str | None
    complete: bool


@dataclass(frozen=True, slots=True)
class SearchResults(Event):
    """The messages that matched :meth:`Client.search`'s ``text``, oldest first."""

    text: str
    messages: tuple[ChatMessage, ...]


@dataclass(frozen=True, slots=True)
class Join(Event):
    """``nick`` joined ``channel`` (``own``: we did)."""

    channel: str
    nick: str
    own: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class Part(Event):
    """``nick`` left ``channel``."""

    channel: str
    nick: str
    reason: str
    own: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class Kick(Event):
    """``by`` kicked ``nick`` from ``channel`` (``own``: we were kicked)."""

    channel: str
    nick: str
    by: str
    reason: str
    own: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class Quit(Event):
    """``nick`` quit; ``channels`` are the ones we shared with them."""

    nick: str
    reason: str
    channels: tuple[str, ...]
    time: datetime


@dataclass(frozen=True, slots=True)
class NickChange(Event):
    """``old`` is now ``new``; ``channels`` are the ones we share (``own``: us)."""

    old: str
    new: str
    own: bool
    channels: tuple[str, ...]
    time: datetime


@dataclass(frozen=True, slots=True)
class Topic(Event):
    """The topic of ``channel``: ``changed`` when someone set it just now,
    otherwise it is the topic reported on join (RPL_TOPIC / RPL_NOTOPIC)."""

    channel: str
    topic: str
    setter: str | None
    changed: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class Members(Event):
    """The member list of ``channel`` changed wholesale (end of NAMES) or in
    prefixes (MODE); read it from ``client.state``."""

    channel: str


@dataclass(frozen=True, slots=True)
class ModeChange(Event):
    """A MODE line: ``target`` is a channel or our nick."""

    target: str
    setter: str
    modes: str
    args: tuple[str, ...]
    time: datetime


@dataclass(frozen=True, slots=True)
class Away(Event):
    """away-notify: ``nick`` went away (``message``) or came back (``None``)."""

    nick: str
    message: str | None
    time: datetime


@dataclass(frozen=True, slots=True)
class Invite(Event):
    """``by`` invited us to ``channel``."""

    channel: str
    by: str
    time: datetime


@dataclass(frozen=True, slots=True)
class ServerReply(Event):
    """An informational reply (MOTD, WHOIS, NAMES text, ...): ``text`` is
    ready to show; ``buffer`` says where, when a reply names a conversation."""

    command: str
    params: tuple[str, ...]
    text: str
    buffer: str | None
    time: datetime


@dataclass(frozen=True, slots=True)
class ServerError(Event):
    """An error numeric, ``FAIL`` or ``ERROR`` line, ready to show."""

    command: str
    params: tuple[str, ...]
    text: str
    buffer: str | None
    time: datetime
