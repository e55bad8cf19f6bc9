"""The network: users, channels and memberships as plain objects.

Everything here is mutated only on the event loop thread (one writer, no
locks). A :class:`User` is a person on the network; a local one has a
``conn`` (its Connection), which is where bytes for it go. Channels map each
member to the string of its prefix modes (``"o"``, ``"ov"``, ``""``), ordered
by rank, so NAMES and WHO can show the highest prefix (or all of them, for
multi-prefix) without a second table.

Names are looked up by their casefolded form; the display form is kept on
the object.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubbub.protocol import casefold

if TYPE_CHECKING:
    from .connection import Connection

#: Channel membership prefixes by rank: mode letter -> the prefix shown.
PREFIXES: dict[str, str] = {"o": "@", "v": "+"}
PREFIX_ORDER = "ov"


def rank_sorted(modes: str) -> str:
    """Membership modes in rank order (``"vo"`` -> ``"ov"``)."""
    return "".join(m for m in PREFIX_ORDER if m in modes)


def _folded(nick: str) -> str:
    """The casefolded nick, sharing the nick's own string when it is already folded."""
    folded = casefold(nick)
    return nick if folded == nick else folded


class User:
    """A user on the network."""

    __slots__ = (
        "account",
        "away",
        "channels",
        "conn",
        "host",
        "modes",
        "nick",
        "nick_cf",
        "oper",
        "realname",
        "signon",
        "source",
        "user",
    )

    def __init__(self, nick: str, user: str, host: str, realname: str, signon: float) -> None:
        self.nick = nick
        self.nick_cf = _folded(nick)
        # Many users share a host (NAT) or a username/realname (bots, clients'
        # defaults): interned, each distinct string is kept once.
        self.user = sys.intern(user)
        self.host = sys.intern(host)
        self.realname = sys.intern(realname)
        self.signon = signon
        self.source = f"{nick}!{user}@{host}"
        self.channels: dict[str, Channel] = {}  # casefolded name -> channel
        self.modes = ""  # user mode letters; a str costs less than a set per user
        self.away: str | None = None
        self.account: str | None = None
        self.oper: str | None = None  # operator block name once OPERed
        self.conn: Connection | None = None

    def set_nick(self, nick: str) -> None:
        """Change the nick and the cached ``nick!user@host`` source."""
        self.nick = nick
        self.nick_cf = _folded(nick)
        self.source = f"{nick}!{self.user}@{self.host}"

    def set_mode(self, letter: str, on: bool) -> bool:
        """Turn a user mode on or off; True when that changed anything."""
        if (letter in self.modes) == on:
            return False
        self.modes = self.modes + letter if on else self.modes.replace(letter, "")
        return True

    def seen_by(self, viewer: User) -> bool:
        """Whether ``viewer`` may see this user in WHO/NAMES listings:
        invisible (+i) users are seen only by those sharing a channel, and
        by opers."""
        if "i" not in self.modes or viewer is self or viewer.oper is not None:
            return True
        return any(chan in self.channels.values() for chan in viewer.channels.values())

    def set_userhost(self, user: str, host: str) -> None:
        """Change user and host (CHGHOST)."""
        self.user, self.host = user, host
        self.source = f"{self.nick}!{user}@{host}"

    def __repr__(self) -> str:
        return f"<User {self.source}>"


class Channel:
    """A channel and its members."""

    __slots__ = (
        "bans",
        "created",
        "excepts",
        "invex",
        "invited",
        "key",
        "limit",
        "members",
        "modes",
        "name",
        "name_cf",
        "topic",
        "topic_setter",
        "topic_time",
    )

    def __init__(self, name: str, created: float) -> None:
        self.name = name
        self.name_cf = casefold(name)
        self.created = created
        self.members: dict[User, str] = {}  # user -> membership modes, rank order
        self.topic = ""
        self.topic_setter = ""
        self.topic_time = 0.0
        self.modes: set[str] = {"n", "t"}
        self.key: str | None = None
        self.limit: int | None = None
        self.bans: dict[str, tuple[str, float]] = {}  # mask -> (setter, time)
        self.excepts: dict[str, tuple[str, float]] = {}
        self.invex: dict[str, tuple[str, float]] = {}
        self.invited: set[str] = set()  # casefolded nicks with a pending INVITE

    def prefix_of(self, user: User, *, multi: bool = False) -> str:
        """The prefix(es) shown before ``user``'s nick in NAMES/WHO."""
        modes = self.members.get(user, "")
        if not modes:
            return ""
        if multi:
            return "".join(PREFIXES[m] for m in modes)
        return PREFIXES[modes[0]]

    def visible_to(self, user: User) -> bool:
        """Secret (+s) channels are seen only by their members and by opers."""
        return "s" not in self.modes or user in self.members or user.oper is not None

    def is_op(self, user: User) -> bool:
        """True when ``user`` has channel operator status."""
        return "o" in self.members.get(user, "")

    def local_connections(self) -> Iterator[Connection]:
        """Connections of the members on this server."""
        for member in self.members:
            if member.conn is not None:
                yield member.conn

    def __repr__(self) -> str:
        return f"<Channel {self.name} ({len(self.members)})>"


@dataclass(frozen=True, slots=True)
class WhowasEntry:
    """What WHOWAS remembers of a nick that left or changed."""

    nick: str
    user: str
    host: str
    realname: str
    time: float


class Network:
    """Every user and channel, by casefolded name."""

    def __init__(self, whowas_size: int = 1000) -> None:
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.whowas: deque[WhowasEntry] = deque(maxlen=whowas_size)
        #: Users with +i and with +o, kept as they change so LUSERS is O(1).
        self.invisible: set[User] = set()
        self.opers: set[User] = set()
        #: MONITOR: casefolded nick -> the connections watching it.
        self.monitors: dict[str, set[Connection]] = {}

    def user(self, nick: str) -> User | None:
        """The user named ``nick`` (any case), if present."""
        return self.users.get(casefold(nick))

    def channel(self, name: str) -> Channel | None:
        """The channel named ``name`` (any case), if it exists."""
        return self.channels.get(casefold(name))

    def add_user(self, user: User) -> None:
        """Add a newly registered user."""
        self.users[user.nick_cf] = user

    def set_mode(self, user: User, letter: str, on: bool) -> bool:
        """Change a user mode (keeping the +i/+o counts); True if it changed."""
        if not user.set_mode(letter, on):
            return False
        tracked = self.invisible if letter == "i" else self.opers if letter == "o" else None
        if tracked is not None:
            if on:
                tracked.add(user)
            else:
                tracked.discard(user)
        return True

    def remove_user(self, user: User, now: float) -> None:
        """Drop ``user`` from the network and every channel; remember it for WHOWAS."""
        self.invisible.discard(user)
        self.opers.discard(user)
        for chan in list(user.channels.values()):
            self.part(user, chan)
        if self.users.get(user.nick_cf) is user:
            del self.users[user.nick_cf]
        self.remember(user, now)

    def remember(self, user: User, now: float) -> None:
        """Record ``user`` as it is now for WHOWAS."""
        self.whowas.appendleft(WhowasEntry(user.nick, user.user, user.host, user.realname, now))

    def rename(self, user: User, nick: str, now: float) -> None:
        """Change ``user``'s nick, keeping the index consistent."""
        self.remember(user, now)
        if self.users.get(user.nick_cf) is user:
            del self.users[user.nick_cf]
        user.set_nick(nick)
        self.users[user.nick_cf] = user

    def join(self, user: User, name: str, now: float) -> tuple[Channel, bool]:
        """Put ``user`` in channel ``name``, creating it (and making them op)
        if needed. Returns the channel and whether it was created."""
        cf = casefold(name)
        chan = self.channels.get(cf)
        created = chan is None
        if chan is None:
            chan = self.channels[cf] = Channel(name, now)
        chan.members[user] = "o" if created else ""
        user.channels[cf] = chan
        chan.invited.discard(user.nick_cf)
        return chan, created

    def rename_channel(self, chan: Channel, name: str) -> None:
        """Give ``chan`` a new name, keeping every index consistent."""
        old_cf = chan.name_cf
        del self.channels[old_cf]
        chan.name = name
        chan.name_cf = casefold(name)
        self.channels[chan.name_cf] = chan
        for member in chan.members:
            member.channels.pop(old_cf, None)
            member.channels[chan.name_cf] = chan

    def part(self, user: User, chan: Channel) -> None:
        """Take ``user`` out of ``chan``; an empty channel disappears."""
        chan.members.pop(user, None)
        user.channels.pop(chan.name_cf, None)
        if not chan.members:
            self.channels.pop(chan.name_cf, None)

    def watchers(self, nick: str) -> set[Connection]:
        """Connections that MONITOR ``nick``."""
        return self.monitors.get(casefold(nick), set())

    def watch(self, conn: Connection, nick: str) -> None:
        """``conn`` MONITORs ``nick``."""
        cf = casefold(nick)
        if not isinstance(conn.monitoring, set):
            conn.monitoring = set()  # most clients never MONITOR: allocate on first use
        conn.monitoring.add(cf)
        self.monitors.setdefault(cf, set()).add(conn)

    def unwatch(self, conn: Connection, nick: str) -> None:
        """``conn`` stops MONITORing ``nick``."""
        cf = casefold(nick)
        if isinstance(conn.monitoring, set):
            conn.monitoring.discard(cf)
        watchers = self.monitors.get(cf)
        if watchers is not None:
            watchers.discard(conn)
            if not watchers:
                del self.monitors[cf]

    def unwatch_all(self, conn: Connection) -> None:
        """Forget every MONITOR entry of ``conn``."""
        for nick_cf in list(conn.monitoring):
            self.unwatch(conn, nick_cf)

    def common_users(self, user: User) -> set[User]:
        """Everyone who shares a channel with ``user``, ``user`` included."""
        out = {user}
        for chan in user.channels.values():
            out.update(chan.members)
        return out
