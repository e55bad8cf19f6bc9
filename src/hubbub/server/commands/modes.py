"""MODE for channels (lists b/e/I, key, limit, flags, o/v) and for users.

A mode string is walked once, left to right. Each letter is checked against
a draft of the modes (:class:`ModeDraft`) and, if it changes anything,
recorded; the changes that really happen are published as one event and
announced in one MODE line, so ``+n`` on a channel that is already ``+n``
says nothing and a half-invalid string still applies its valid part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hubbub.events import ChannelModeChanged, UserModeChanged
from hubbub.protocol import Message
from hubbub.protocol.numerics import (
    ERR_BANLISTFULL,
    ERR_CHANOPRIVSNEEDED,
    ERR_INVALIDKEY,
    ERR_INVALIDMODEPARAM,
    ERR_KEYSET,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_UMODEUNKNOWNFLAG,
    ERR_UNKNOWNMODE,
    ERR_USERNOTINCHANNEL,
    ERR_USERSDONTMATCH,
    RPL_BANLIST,
    RPL_CHANNELMODEIS,
    RPL_CREATIONTIME,
    RPL_ENDOFBANLIST,
    RPL_ENDOFEXCEPTLIST,
    RPL_ENDOFINVEXLIST,
    RPL_EXCEPTLIST,
    RPL_INVEXLIST,
    RPL_UMODEIS,
)

from .. import extbans
from ..dispatch import CommandTable, Context
from ..limits import MAX_LIST, MAX_PARAM_MODES
from ..state import PREFIXES, Channel, User, rank_sorted

table = CommandTable()

FLAG_MODES = frozenset("imnst")
#: List mode -> (attribute, item numeric, end numeric, end text).
LISTS = {
    "b": ("bans", RPL_BANLIST, RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": ("excepts", RPL_EXCEPTLIST, RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": ("invex", RPL_INVEXLIST, RPL_ENDOFINVEXLIST, "End of channel invite list"),
}
USER_SETTABLE = frozenset("iwB")
USER_KNOWN = frozenset("iowBr")


@table("MODE", min_params=1)
def mode(ctx: Context, msg: Message) -> None:
    """MODE <target> [<modestring> [<mode arguments>...]]"""
    target = msg.params[0]
    if target[:1] in "#&":
        chan = ctx.server.network.channel(target)
        if chan is None:
            ctx.reply(ERR_NOSUCHCHANNEL, target, "No such channel")
        elif len(msg.params) == 1:
            channel_modes_query(ctx, chan)
        else:
            change_channel_modes(ctx, chan, msg.params[1], list(msg.params[2:]))
        return
    user = ctx.server.network.user(target)
    if user is None:
        ctx.reply(ERR_NOSUCHNICK, target, "No such nick/channel")
    elif user is not ctx.user:
        ctx.reply(ERR_USERSDONTMATCH, "Can't change mode for other users")
    elif len(msg.params) == 1:
        ctx.reply(RPL_UMODEIS, "+" + "".join(sorted(user.modes)))
    else:
        change_user_modes(ctx, user, msg.params[1])


def mode_string(chan: Channel, show_key: bool) -> list[str]:
    """The channel's current modes and their arguments, for RPL_CHANNELMODEIS."""
    letters, args = "+" + "".join(sorted(chan.modes)), []
    if chan.key is not None:
        letters += "k"
        args.append(chan.key if show_key else "*")
    if chan.limit is not None:
        letters += "l"
        args.append(str(chan.limit))
    return [letters, *args]


def channel_modes_query(ctx: Context, chan: Channel) -> None:
    """RPL_CHANNELMODEIS and RPL_CREATIONTIME."""
    ctx.reply(RPL_CHANNELMODEIS, chan.name, *mode_string(chan, ctx.user in chan.members))
    ctx.reply(RPL_CREATIONTIME, chan.name, str(int(chan.created)))


def _walk(modestring: str) -> Iterator[tuple[bool, str]]:
    adding = True
    for ch in modestring:
        if ch in "+-":
            adding = ch == "+"
        else:
            yield adding, ch


def _send_list(ctx: Context, chan: Channel, letter: str) -> None:
    attr, item, end, text = LISTS[letter]
    entries: dict[str, tuple[str, float]] = getattr(chan, attr)
    for mask, (setter, when) in entries.items():
        ctx.reply(item, chan.name, mask, setter, str(int(when)))
    ctx.reply(end, chan.name, text)


Change = tuple[bool, str, str | None]


class ModeDraft:
    """A channel's modes as the MODE command being run would leave them.

    The setters check each letter against the draft and change the draft,
    never the channel, so ``+o-o bob bob`` and ``+k-k`` are judged in order;
    what took effect becomes one :class:`ChannelModeChanged` event.
    """

    __slots__ = ("chan", "flags", "key", "limit", "lists", "prefixes")

    def __init__(self, chan: Channel) -> None:
        self.chan = chan
        self.flags = set(chan.modes)
        self.key = chan.key
        self.limit = chan.limit
        self.lists: dict[str, set[str]] = {}  # copied on first use
        self.prefixes: dict[User, str] = {}  # members whose prefix modes changed

    def list_of(self, letter: str) -> set[str]:
        """The masks of list mode ``letter``."""
        if letter not in self.lists:
            self.lists[letter] = set(getattr(self.chan, LISTS[letter][0]))
        return self.lists[letter]

    def prefix_of(self, member: User) -> str | None:
        """``member``'s prefix modes; None if not in the channel."""
        if member in self.prefixes:
            return self.prefixes[member]
        return self.chan.members.get(member)


def _list_mode(
    ctx: Context, draft: ModeDraft, adding: bool, letter: str, arg: str
) -> Change | None:
    mask = extbans.normalise(arg)
    if mask is None:
        ctx.reply(ERR_INVALIDMODEPARAM, draft.chan.name, letter, arg,
                  "Unknown extended ban (only $a and $a:account)")  # fmt: skip
        return None
    entries = draft.list_of(letter)
    if adding and mask not in entries:
        if len(entries) >= MAX_LIST:
            ctx.reply(ERR_BANLISTFULL, draft.chan.name, mask, "Channel list is full")
            return None
        entries.add(mask)
        return True, letter, mask
    if not adding and mask in entries:
        entries.discard(mask)
        return False, letter, mask
    return None


def _prefix_mode(
    ctx: Context, draft: ModeDraft, adding: bool, letter: str, nick: str
) -> Change | None:
    target = ctx.server.network.user(nick)
    if target is None:
        ctx.reply(ERR_NOSUCHNICK, nick, "No such nick/channel")
        return None
    current = draft.prefix_of(target)
    if current is None:
        ctx.reply(ERR_USERNOTINCHANNEL, target.nick, draft.chan.name, "They aren't on that channel")
        return None
    if adding == (letter in current):
        return None
    draft.prefixes[target] = (
        rank_sorted(current + letter) if adding else current.replace(letter, "")
    )
    return adding, letter, target.nick


def _key_mode(ctx: Context, draft: ModeDraft, adding: bool, letter: str, key: str) -> Change | None:
    if not adding:
        if draft.key is None:
            return None
        draft.key = None
        return False, "k", "*"
    if not key or any(c in key for c in " ,:") or len(key) > 23:
        ctx.reply(ERR_INVALIDKEY, draft.chan.name, "Key is not well-formed")
        return None
    if draft.key is not None and draft.key != key:
        ctx.reply(ERR_KEYSET, draft.chan.name, "Channel key already set")
        return None
    if draft.key == key:
        return None
    draft.key = key
    return True, "k", key


def _limit_mode(
    ctx: Context, draft: ModeDraft, adding: bool, letter: str, raw: str
) -> Change | None:
    if not adding:
        if draft.limit is None:
            return None
        draft.limit = None
        return False, "l", None
    if not raw.isdigit() or int(raw) <= 0 or draft.limit == int(raw):
        return None
    draft.limit = int(raw)
    return True, "l", raw


def _flag_mode(ctx: Context, draft: ModeDraft, adding: bool, letter: str, _: str) -> Change | None:
    if adding == (letter in draft.flags):
        return None
    if adding:
        draft.flags.add(letter)
    else:
        draft.flags.discard(letter)
    return adding, letter, None


ModeSetter = Callable[[Context, ModeDraft, bool, str, str], "Change | None"]
#: Each channel mode letter and what applies it.
SETTERS: dict[str, ModeSetter] = {
    **{letter: _list_mode for letter in LISTS},
    **{letter: _prefix_mode for letter in PREFIXES},
    "k": _key_mode,
    "l": _limit_mode,
    **{letter: _flag_mode for letter in FLAG_MODES},
}


def _takes_arg(letter: str, adding: bool) -> bool:
    """Whether ``letter`` consumes an argument (ISUPPORT CHANMODES classes)."""
    return letter in LISTS or letter in PREFIXES or letter == "k" or (letter == "l" and adding)


def change_channel_modes(ctx: Context, chan: Channel, modestring: str, args: list[str]) -> None:
    """Apply a channel mode string; announce what changed."""
    user = ctx.user
    is_op = chan.is_op(user) or user.oper is not None
    draft = ModeDraft(chan)
    applied: list[Change] = []
    refused = False
    param_modes = 0
    for adding, letter in _walk(modestring):
        setter = SETTERS.get(letter)
        if setter is None:
            ctx.reply(ERR_UNKNOWNMODE, letter, "is unknown mode char to me")
            continue
        arg = ""
        if _takes_arg(letter, adding):
            if not args:
                if letter in LISTS:
                    _send_list(ctx, chan, letter)  # "MODE #c +b": a list query
                if letter != "k" or adding:  # "-k" may come without the key
                    continue
            elif param_modes >= MAX_PARAM_MODES:
                continue
            else:
                arg = args.pop(0)
                param_modes += 1
        if not is_op:
            refused = True
            continue
        change = setter(ctx, draft, adding, letter, arg)
        if change is not None:
            applied.append(change)
    if refused:
        ctx.reply(ERR_CHANOPRIVSNEEDED, chan.name, "You're not channel operator")
    if applied:
        ctx.publish(
            ChannelModeChanged(*ctx.stamp(), user.uid, user.source, chan.name, tuple(applied))
        )


def change_user_modes(ctx: Context, user: User, modestring: str) -> None:
    """Apply a user's own mode string; announce what changed to them."""
    applied: list[tuple[bool, str]] = []
    modes = user.modes
    unknown = False
    for adding, letter in _walk(modestring):
        if letter not in USER_KNOWN:
            unknown = True
            continue
        # +o comes from OPER and +r from accounts; anyone may drop -o.
        if letter not in USER_SETTABLE and (adding or letter != "o"):
            continue
        if (letter in modes) == adding:
            continue
        modes = modes + letter if adding else modes.replace(letter, "")
        applied.append((adding, letter))
    if unknown:
        ctx.reply(ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    if applied:
        ctx.publish(UserModeChanged(*ctx.stamp(), user.uid, user.source, tuple(applied)))
