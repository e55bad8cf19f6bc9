"""Names and masks: ``nick!user@host`` splitting, glob masks, name validity.

Masks (in bans, WHO, LIST) use two wildcards: ``*`` for any run of characters
and ``?`` for exactly one. Everything else is literal, including ``[`` and
``]`` (legal in nicks), which is why :mod:`fnmatch` is not used. A mask is
compiled once to a regular expression and cached, because a ban list is
matched against every joiner.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .casemap import Casemapping, casefold


class UserHost(NamedTuple):
    """The parts of a ``nick!user@host`` source; missing parts are ``""``."""

    nick: str
    user: str
    host: str


def split_userhost(source: str) -> UserHost:
    """Split ``nick!user@host`` (either of ``!user`` and ``@host`` optional)."""
    rest, _, host = source.partition("@")
    nick, _, user = rest.partition("!")
    return UserHost(nick, user, host)


@lru_cache(maxsize=4096)
def _compile(mask: str) -> re.Pattern[str]:
    pattern = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in mask)
    return re.compile(pattern, re.DOTALL)


def mask_match(mask: str, name: str, mapping: Casemapping = "rfc1459") -> bool:
    """True when ``name`` matches the glob ``mask``, case-insensitively."""
    return _compile(casefold(mask, mapping)).fullmatch(casefold(name, mapping)) is not None


def normalise_mask(mask: str) -> str:
    """Complete a partial ban mask: ``nick`` -> ``nick!*@*``,
    ``user@host`` -> ``*!user@host``, ``nick!user`` -> ``nick!user@*``."""
    if "!" not in mask and "@" not in mask:
        if "." in mask or ":" in mask:
            return f"*!*@{mask}"
        return f"{mask}!*@*"
    nick, user, host = split_userhost(mask)
    if "!" not in mask:
        # "user@host": the part before @ is the user.
        nick, user = "*", nick
    return f"{nick or '*'}!{user or '*'}@{host or '*'}"


_NICK_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz[]\\`_^{|}")
_NICK_REST = _NICK_FIRST | frozenset("0123456789-")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
CHANNEL_PREFIXES = "#&"


def is_valid_nick(nick: str, maxlen: int = 30) -> bool:
    """RFC 2812 nick syntax: a letter or special first, then letters,
    digits, specials and ``-``, at most ``maxlen`` characters."""
    return (
        0 < len(nick) <= maxlen
        and nick[0] in _NICK_FIRST
        and all(c in _NICK_REST for c in nick[1:])
    )


def is_channel_name(name: str, maxlen: int = 50) -> bool:
    """A channel name: a CHANTYPES prefix, then no space, comma, BEL or ``:``-free
    control characters, at most ``maxlen`` characters."""
    return (
        1 < len(name) <= maxlen
        and name[0] in CHANNEL_PREFIXES
        and not any(c in " ,\x07\r\n\0" for c in name)
    )


def is_valid_hostname(host: str) -> bool:
    """A DNS name fit for a server or client host: dot-separated labels of
    letters, digits and inner hyphens, at least two labels, one optional
    trailing dot."""
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(labels) < 2 and not host.endswith("."):
        return False
    return all(_LABEL.fullmatch(label) for label in labels)
