"""The network: users, channels and memberships as plain objects.

Only :mod:`.apply` changes these objects, by applying published events; every
other module reads them. Everything lives on the event loop thread (one
writer, no locks).

A :class:`User` is a person on the network, named by a ``uid`` that never
changes. Its ``session`` is the client connection on *this* process, or None
when the user is connected elsewhere (a later cluster node); a user that left
has ``present`` False, so code that kept a reference across a wait (a
password check on a thread) can tell.

Channels map each member to the string of its prefix modes (``"o"``,
``"ov"``, ``""``), ordered by rank, so NAMES and WHO can show the highest
prefix (or all of them, for multi-prefix) without a second table. Names are
looked up by their casefolded form; the display form is kept on the object.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hubbub.protocol import casefold
from hubbub.protocol.casemap import FOLD

from .interfaces import Peer

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
        "host",
        "modes",
        "nick",
        "nick_cf",
        "node",
        "oper",
        "present",
        "realname",
        "session",
        "signon",
        "source",
        "tls",
        "uid",
        "user",
    )

    def __init__(
        self, uid: str, nick: str, user: str, host: str, realname: str, signon: float
    ) -> None:
        self.uid = uid
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
        self.tls = False
        #: The cluster node the user is connected to ("" on a single server).
        self.node = ""
        self.present = True
        #: The local client connection; None for a user on another node.
        self.session: Peer | None = None

    def seen_by(self, viewer: User) -> bool:
        """Whether ``viewer`` may see this user in WHO/NAMES listings:
        invisible (+i) users are seen only by those sharing a channel, and
        by opers."""
        if "i" not in self.modes or viewer is self or viewer.oper is not None:
            return True
        return any(chan in self.channels.values() for chan in viewer.channels.values())

    def __repr__(self) -> str:
        return f"<User {self.uid} {self.source}>"


class ChannelRegistration:
    """A registered channel's owner: the founder's account, and the accounts
    the founder gave status on join (casefolded account -> ``"o"``/``"v"``)."""

    __slots__ = ("access", "founder", "registered")

    def __init__(self, founder: str, registered: float) -> None:
        self.founder = founder
        self.registered = registered
        self.access: dict[str, str] = {}

    def is_founder(self, account: str | None) -> bool:
        """True when ``account`` founded the channel."""
        return account is not None and casefold(account) == casefold(self.founder)

    def status_for(self, account: str | None) -> str:
        """The prefix modes ``account`` gets on join: ``"o"``, ``"v"`` or ``""``."""
        if account is None:
            return ""
        if self.is_founder(account):
            return "o"
        return self.access.get(casefold(account), "")


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
        "registration",
        "server_room",
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
        #: One of the server's own rooms: no founder op, kept when empty.
        self.server_room = False
        #: Registered with ChanServ: its owner; kept when empty, and across restarts.
        self.registration: ChannelRegistration | None = None

    @property
    def kept(self) -> bool:
        """Whether the channel stays when its last member leaves."""
        return self.server_room or self.registration is not None

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

    def local_sessions(self) -> Iterator[Peer]:
        """Sessions of the members connected to this process."""
        for member in self.members:
            if member.session is not None:
                yield member.session

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


def whowas_tuple(entry: WhowasEntry) -> tuple[str, str, str, str, float]:
    """A WHOWAS entry as a plain tuple."""
    return (entry.nick, entry.user, entry.host, entry.realname, entry.time)


class Network:
    """Every user and channel, by casefolded name (users also by uid).

    The methods that change it are the primitives :mod:`.apply` is built
    from; nothing else calls them.
    """

    def __init__(self, whowas_size: int = 1000) -> None:
        self.users: dict[str, User] = {}  # casefolded nick -> user
        self.by_uid: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.whowas: deque[WhowasEntry] = deque(maxlen=whowas_size)
        #: Users with +i and with +o, kept as they change so LUSERS is O(1).
        self.invisible: set[User] = set()
        self.opers: set[User] = set()
        #: The live nodes of a cluster and their epochs (empty on a single
        #: server): known from the log (NodeJoined, NodeGone) like the rest.
        self.nodes: dict[str, int] = {}

    # --- reading -----------------------------------------------------------

    def user(self, nick: str) -> User | None:
        """The user named ``nick`` (any case), if present."""
        return self.users.get(nick.translate(FOLD))

    def channel(self, name: str) -> Channel | None:
        """The channel named ``name`` (any case), if it exists."""
        return self.channels.get(name.translate(FOLD))

    def common_users(self, user: User) -> set[User]:
        """Everyone who shares a channel with ``user``, ``user`` included."""
        out = {user}
        for chan in user.channels.values():
            out.update(chan.members)
        return out

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain, comparable data (no sessions: they are
        local to this process). Two networks that applied the same events
        have equal snapshots."""
        users = {
            u.uid: {
                "nick": u.nick, "user": u.user, "host": u.host, "realname": u.realname,
                "signon": u.signon, "modes": "".join(sorted(u.modes)), "away": u.away,
                "account": u.account, "oper": u.oper, "tls": u.tls, "node": u.node,
                "channels": sorted(u.channels),
            }
            for u in self.users.values()
        }  # fmt: skip
        channels = {
            c.name_cf: {
                "name": c.name, "created": c.created, "topic": c.topic,
                "topic_setter": c.topic_setter, "topic_time": c.topic_time,
                "modes": "".join(sorted(c.modes)), "key": c.key, "limit": c.limit,
                "members": {m.uid: modes for m, modes in c.members.items()},
                "bans": dict(c.bans), "excepts": dict(c.excepts), "invex": dict(c.invex),
                "invited": sorted(c.invited), "server_room": c.server_room,
                "registration": None if c.registration is None else {
                    "founder": c.registration.founder,
                    "registered": c.registration.registered,
                    "access": dict(c.registration.access),
                },
            }
            for c in self.channels.values()
        }  # fmt: skip
        return {
            "users": users,
            "uids": sorted(self.by_uid),
            "channels": channels,
            "whowas": [whowas_tuple(e) for e in self.whowas],
            "invisible": sorted(u.uid for u in self.invisible),
            "opers": sorted(u.uid for u in self.opers),
            "nodes": dict(self.nodes),
        }

    def digest(self) -> str:
        """A hash of :meth:`snapshot`: equal on two nodes exactly when their
        states are (the cluster tests compare it on every node)."""
        text = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # --- the primitives apply uses ----------------------------------------

    def add_user(self, user: User) -> None:
        """Add a newly registered user."""
        self.users[user.nick_cf] = user
        self.by_uid[user.uid] = user

    def set_user_mode(self, user: User, letter: str, on: bool) -> bool:
        """Change a user mode (keeping the +i/+o sets); True if it changed."""
        if (letter in user.modes) == on:
            return False
        user.modes = user.modes + letter if on else user.modes.replace(letter, "")
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
        self.by_uid.pop(user.uid, None)
        user.present = False
        self.remember(user, now)

    def remember(self, user: User, now: float) -> None:
        """Record ``user`` as it is now for WHOWAS."""
        self.whowas.appendleft(WhowasEntry(user.nick, user.user, user.host, user.realname, now))

    def rename(self, user: User, nick: str, now: float) -> None:
        """Change ``user``'s nick, keeping the index consistent."""
        self.remember(user, now)
        if self.users.get(user.nick_cf) is user:
            del self.users[user.nick_cf]
        user.nick = nick
        user.nick_cf = _folded(nick)
        user.source = f"{nick}!{user.user}@{user.host}"
        self.users[user.nick_cf] = user

    def set_userhost(self, user: User, username: str, host: str) -> None:
        """Give ``user`` a new user@host (CHGHOST)."""
        user.user, user.host = sys.intern(username), sys.intern(host)
        user.source = f"{user.nick}!{username}@{host}"

    def join(self, user: User, name: str, now: float) -> Channel:
        """Put ``user`` in channel ``name``, creating it (and making them op)
        if it did not exist. Joining an existing channel, such as one of the
        server's rooms that is empty, gives no op."""
        cf = casefold(name)
        chan = self.channels.get(cf)
        created = chan is None
        if chan is None:
            chan = self.channels[cf] = Channel(name, now)
        chan.members[user] = "o" if created else ""
        user.channels[cf] = chan
        chan.invited.discard(user.nick_cf)
        return chan

    def hold_channel(self, name: str, now: float, held: bool) -> Channel | None:
        """Make ``name`` one of the server's rooms (creating it, empty), or
        an ordinary channel again (gone at once if nobody is in it)."""
        cf = casefold(name)
        chan = self.channels.get(cf)
        if chan is None:
            if not held:
                return None
            chan = self.channels[cf] = Channel(name, now)
        chan.server_room = held
        if not chan.kept and not chan.members:
            del self.channels[cf]
            return None
        return chan

    def register_channel(
        self, name: str, now: float, registration: ChannelRegistration | None
    ) -> Channel | None:
        """Give ``name`` a registration (creating it, empty, if need be), or
        take it away (the channel goes at once if nobody is in it and it is
        not one of the server's rooms)."""
        cf = casefold(name)
        chan = self.channels.get(cf)
        if chan is None:
            if registration is None:
                return None
            chan = self.channels[cf] = Channel(name, now)
        chan.registration = registration
        if not chan.kept and not chan.members:
            del self.channels[cf]
            return None
        return chan

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
        """Take ``user`` out of ``chan``; an empty channel disappears, unless
        it is one of the server's rooms or registered."""
        chan.members.pop(user, None)
        user.channels.pop(chan.name_cf, None)
        if not chan.members and not chan.kept:
            self.channels.pop(chan.name_cf, None)
