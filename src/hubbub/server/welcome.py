"""What a client is greeted with: 002-005 (ISUPPORT included) and the MOTD.

These are the same for every client but for the nick they are addressed to,
so they are rendered once per config (:class:`NumericBlock`) and filled in
with one string join per client: registration is the connect benchmark's
hot path.
"""

from __future__ import annotations

from collections.abc import Sequence

from hubbub.config import Config, ConfigError
from hubbub.protocol import Message, isupport_chunks
from hubbub.protocol.numerics import (
    ERR_NOMOTD,
    RPL_CREATED,
    RPL_ENDOFMOTD,
    RPL_ISUPPORT,
    RPL_MOTD,
    RPL_MOTDSTART,
    RPL_MYINFO,
    RPL_YOURHOST,
)

from . import limits
from .state import PREFIX_ORDER, PREFIXES

#: Channel modes by ISUPPORT CHANMODES class: lists, always-arg, arg-when-set, flags.
CHANMODES = ("beI", "k", "l", "imnst")
USER_MODES = "iowBr"


class NumericBlock:
    """A run of server numerics that differ between clients only in the nick
    they are addressed to, rendered once and then filled in per client."""

    __slots__ = ("_parts",)

    def __init__(self, server: str, numerics: Sequence[tuple[str, Sequence[str]]]) -> None:
        parts = []
        for numeric, params in numerics:
            # Built as a real Message first, so every line is validated once.
            line = Message(numeric, ("*", *params), server).to_line()
            head = f":{server} {numeric} "
            parts.append((head, line[len(head) + 1 :] + "\r\n"))
        self._parts = tuple(parts)

    def render(self, nick: str) -> bytes:
        """The lines addressed to ``nick``, as wire bytes."""
        return "".join(f"{head}{nick}{rest}" for head, rest in self._parts).encode("utf-8")


def default_motd(config: Config) -> list[str]:
    """What a zero-config server greets people with."""
    lines = [f"Welcome to {config.server.network} on {config.server_name}."]
    rooms = config.server.auto_join
    if rooms:
        where = ", ".join(rooms)
        lines.append(f"You are in {where} with everyone else here: just start typing.")
    lines.append("/join #name opens another room, /msg nick text talks privately,")
    lines.append("/help lists the commands. Be kind.")
    return lines


def load_motd(config: Config) -> list[str] | None:
    """The MOTD lines the config asks for; None for no MOTD (ERR_NOMOTD)."""
    if config.server.motd_file:
        try:
            with open(config.resolve_file(config.server.motd_file), encoding="utf-8") as fh:
                return fh.read().splitlines()
        except OSError as exc:
            raise ConfigError(
                str(config.path), "server.motd_file", exc.strerror or str(exc)
            ) from None
    if config.server.motd is not None:
        # motd = "" turns the MOTD off (ERR_NOMOTD), as a missing file would.
        return config.server.motd.splitlines() or None
    return default_motd(config)


def isupport(config: Config) -> list[list[str]]:
    """The ISUPPORT tokens, in chunks of what fits one 005 line."""
    prefix = "(" + PREFIX_ORDER + ")" + "".join(PREFIXES[m] for m in PREFIX_ORDER)
    features: dict[str, str | None] = {
        # Account extbans in +b/+e/+I: $a:<account>, and $a for anyone logged in.
        "ACCOUNTEXTBAN": "a",
        "AWAYLEN": str(limits.AWAYLEN),
        "BOT": "B",
        "CASEMAPPING": "rfc1459",
        "CHANLIMIT": f"#&:{limits.MAX_CHANNELS}",
        "CHANMODES": ",".join(CHANMODES),
        "CHANNELLEN": str(limits.CHANNELLEN),
        "CHANTYPES": "#&",
        # Every client-only tag is relayed: the deny list is empty.
        "CLIENTTAGDENY": "",
        "ELIST": "CMNTU",
        "EXCEPTS": "e",
        "EXTBAN": "$,a",
        "HOSTLEN": str(limits.HOSTLEN),
        "INVEX": "I",
        "KICKLEN": str(limits.KICKLEN),
        "MAXLIST": f"beI:{limits.MAX_LIST}",
        "MODES": str(limits.MAX_PARAM_MODES),
        "MONITOR": str(limits.MONITOR_LIMIT),
        "NETWORK": config.server.network,
        "NICKLEN": str(limits.NICKLEN),
        "PREFIX": prefix,
        "SAFELIST": None,
        "STATUSMSG": "@+",
        "TARGMAX": (
            f"NAMES:1,LIST:1,KICK:{limits.MAX_KICK_TARGETS},WHOIS:1,"
            f"PRIVMSG:{limits.MAX_TARGETS},NOTICE:{limits.MAX_TARGETS},JOIN:,PART:"
        ),
        "TOPICLEN": str(limits.TOPICLEN),
        "USERLEN": str(limits.USERLEN),
        "UTF8ONLY": None,
        "WHOX": None,
    }
    if config.history.enabled:
        features["CHATHISTORY"] = str(limits.CHATHISTORY_MAX)
        features["MSGREFTYPES"] = "msgid,timestamp"
    return list(isupport_chunks(features))


class Welcome:
    """The greeting of one config: ISUPPORT, the 002-005 block, the MOTD."""

    __slots__ = ("intro", "isupport", "motd", "motd_block")

    def __init__(self, config: Config, version: str, created: str) -> None:
        name = config.server_name
        self.isupport = isupport(config)
        self.motd = load_motd(config)
        self.intro = NumericBlock(
            name,
            [
                (RPL_YOURHOST, [f"Your host is {name}, running version {version}"]),
                (RPL_CREATED, [f"This server was created {created}"]),
                (RPL_MYINFO, [name, version, USER_MODES, "beIiklmnost", "beIklov"]),
                *((RPL_ISUPPORT, [*tokens, "are supported by this server"])
                  for tokens in self.isupport),
            ],
        )  # fmt: skip
        if self.motd is None:
            motd: list[tuple[str, list[str]]] = [(ERR_NOMOTD, ["MOTD File is missing"])]
        else:
            motd = [
                (RPL_MOTDSTART, [f"- {name} Message of the day - "]),
                *((RPL_MOTD, [f"- {line}"]) for line in self.motd),
                (RPL_ENDOFMOTD, ["End of /MOTD command."]),
            ]
        self.motd_block = NumericBlock(name, motd)
