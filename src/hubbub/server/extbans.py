"""Extended bans (IRCv3 account-extban): masks that match accounts, not hosts.

In the lists of +b, +e and +I, ``$a:<account>`` matches users logged in to
that account (glob patterns work: ``$a:bot*``) and ``$a`` alone matches
anyone logged in. A ban on ``$a:bob`` follows bob to any host and any nick;
an exception ``+e $a:bob`` lets him through a broad ``+b *!*@*``; ``+I $a``
lets every logged-in user into an invite-only channel. ISUPPORT says so
with ``EXTBAN=$,a`` and ``ACCOUNTEXTBAN=a``.
"""

from __future__ import annotations

from collections.abc import Iterable

from hubbub.protocol import is_valid_nick, mask_match, normalise_mask

from .limits import NICKLEN
from .state import User

#: What starts an extended ban, and the account type's letter.
PREFIX = "$"
ACCOUNT = "a"


def matches(mask: str, user: User) -> bool:
    """Whether list entry ``mask`` (a hostmask or an extban) matches ``user``."""
    if mask[:1] != PREFIX:
        return mask_match(mask, user.source)
    account = user.account
    if account is None or mask[1:2] != ACCOUNT:
        return False
    pattern = mask[3:] if mask[2:3] == ":" else ""
    return not pattern or mask_match(pattern, account)


def matches_any(masks: Iterable[str], user: User) -> bool:
    """True when an entry of a +b/+e/+I list matches ``user``."""
    return any(matches(mask, user) for mask in masks)


def normalise(arg: str) -> str | None:
    """A list entry as kept: a hostmask completed (``bob`` -> ``bob!*@*``), an
    account extban as given; None for an extban that means nothing here."""
    if arg[:1] != PREFIX:
        return normalise_mask(arg)
    if arg == PREFIX + ACCOUNT:
        return arg
    head, colon, account = arg.partition(":")
    pattern = account.replace("*", "x").replace("?", "x")
    if head == PREFIX + ACCOUNT and colon and is_valid_nick(pattern, NICKLEN):
        return arg
    return None
