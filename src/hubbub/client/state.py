"""What the client knows about the network: plain objects, no I/O.

:class:`ClientState` is rebuilt on every connection (the server forgets us
when the socket closes); the session keeps what must outlive a reconnect
(the channels to rejoin) separately. Names are looked up casefolded with the
server's announced CASEMAPPING, so ``#Lobby`` and ``#lobby`` are one channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubbub.protocol import Casemapping, casefold, parse_isupport


@dataclass
class ServerInfo:
    """The ISUPPORT facts the client acts on, with RFC defaults until 005."""

    name: str = ""
    network: str = ""
    casemapping: Casemapping = "rfc1459"
    # Prefix modes in rank order: ("o", "@"), ("v", "+"), ...
    prefix_modes: str = "ov"
    prefix_symbols: str = "@+"
    chantypes: str = "#&"
    # CHANMODES=A,B,C,D: list modes, always-param, param-when-set, flags.
    chanmodes: tuple[str, str, str, str] = ("beI", "k", "l", "imnpst")
    statusmsg: str = ""
    nicklen: int = 30
    features: dict[str, str | None] = field(default_factory=dict)

    def apply_isupport(self, tokens: list[str]) -> None:
        """Take one 005 line's tokens (without the nick and the trailing text)."""
        parsed = parse_isupport(tokens)
        self.features.update(parsed)
        for key, value in parsed.items():
            if value is None:
                continue
            if key == "CASEMAPPING" and value in ("ascii", "rfc1459", "strict-rfc1459"):
                self.casemapping = value  # type: ignore[assignment]
            elif key == "PREFIX" and value.startswith("(") and ")" in value:
                modes, _, symbols = value[1:].partition(")")
                if len(modes) == len(symbols):
                    self.prefix_modes, self.prefix_symbols = modes, symbols
            elif key == "CHANTYPES":
                self.chantypes = value
            elif key == "CHANMODES":
                parts = [*value.split(","), "", "", ""][:4]
                self.chanmodes = (parts[0], parts[1], parts[2], parts[3])
            elif key == "STATUSMSG":
                self.statusmsg = value
            elif key == "NICKLEN" and value.isdigit():
                self.nicklen = int(value)
            elif key == "NETWORK":
                self.network = value

    def is_channel(self, name: str) -> bool:
        """True when ``name`` starts with one of the server's CHANTYPES."""
        return bool(name) and name[0] in self.chantypes

    def fold(self, name: str) -> str:
        """``name`` casefolded under the server's casemapping."""
        return casefold(name, self.casemapping)

    def split_prefixes(self, entry: str) -> tuple[str, str]:
        """``"@+alice"`` -> ``("@+", "alice")`` (multi-prefix sends several)."""
        i = 0
        while i < len(entry) and entry[i] in self.prefix_symbols:
            i += 1
        return entry[:i], entry[i:]

    def sort_prefixes(self, prefixes: str) -> str:
        """Prefix symbols deduplicated, highest rank first."""
        return "".join(s for s in self.prefix_symbols if s in prefixes)


@dataclass
class Member:
    """One nick in one channel, with its prefix symbols (``"@"``, ``"+"``...)."""

    nick: str
    prefixes: str = ""
    away: bool = False
    #: The account they are logged in to, when the server told us.
    account: str | None = None

    @property
    def prefix(self) -> str:
        """The highest prefix symbol, or ``""``."""
        return self.prefixes[:1]


@dataclass
class Channel:
    """A channel we are in."""

    name: str
    topic: str = ""
    topic_setter: str | None = None
    # casefolded nick -> Member
    members: dict[str, Member] = field(default_factory=dict)
    names_complete: bool = False


@dataclass
class ClientState:
    """Everything known on one connection."""

    nick: str
    server: ServerInfo = field(default_factory=ServerInfo)
    registered: bool = False
    caps: set[str] = field(default_factory=set)
    # casefolded channel name -> Channel
    channels: dict[str, Channel] = field(default_factory=dict)
    away: bool = False
    #: The account we are logged in to.
    account: str | None = None

    def channel(self, name: str) -> Channel | None:
        """The channel called ``name``, if we are in it."""
        return self.channels.get(self.server.fold(name))

    def is_me(self, nick: str) -> bool:
        """True when ``nick`` is our own nick (casemapping-aware)."""
        return self.server.fold(nick) == self.server.fold(self.nick)

    def members(self, channel: str) -> list[Member]:
        """Members of ``channel``: by rank (ops, voiced, others), then by nick."""
        chan = self.channel(channel)
        if chan is None:
            return []
        symbols = self.server.prefix_symbols

        def rank(member: Member) -> tuple[int, str]:
            top = member.prefix
            return (symbols.index(top) if top else len(symbols), self.server.fold(member.nick))

        return sorted(chan.members.values(), key=rank)

    def shared_channels(self, nick: str) -> list[Channel]:
        """The channels where both we and ``nick`` are."""
        key = self.server.fold(nick)
        return [chan for chan in self.channels.values() if key in chan.members]
