"""MODE for channels (lists b/e/I, key, limit, flags, o/v) and for users.

A mode string is walked once, left to right. Each letter is checked and, if
it changes anything, applied and recorded; the changes that really happened
are announced in one MODE line, so ``+n`` on a channel that is already ``+n``
says nothing and a half-invalid string still applies its valid part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hubbub.protocol import Message, normalise_mask
from hubbub.protocol.numerics import (
    ERR_BANLISTFULL,
    ERR_CHANOPRIVSNEEDED,
    ERR_INVALIDKEY,
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

from ..dispatch import CommandTable, Context
from ..fanout import deliver
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


def _list_mode(ctx: Context, chan: Channel, adding: bool, letter: str, arg: str) -> Change | None:
    mask = normalise_mask(arg)
    entries: dict[str, tuple[str, float]] = getattr(chan, LISTS[letter][0])
    if adding and mask not in entries:
        if len(entries) >= MAX_LIST:
            ctx.reply(ERR_BANLISTFULL, chan.name, mask, "Channel list is full")
            return None
        entries[mask] = (ctx.user.source, ctx.server.now())
        return True, letter, mask
    if not adding and mask in entries:
        del entries[mask]
        return False, letter, mask
    return None


def _prefix_mode(
    ctx: Context, chan: Channel, adding: bool, letter: str, nick: str
) -> Change | None:
    target = ctx.server.network.user(nick)
    if target is None:
        ctx.reply(ERR_NOSUCHNICK, nick, "No such nick/channel")
        return None
    current = chan.members.get(target)
    if current is None:
        ctx.reply(ERR_USERNOTINCHANNEL, target.nick, chan.name, "They aren't on that channel")
        return None
    if adding == (letter in current):
        return None
    chan.members[target] = rank_sorted(current + letter) if adding else current.replace(letter, "")
    return adding, letter, target.nick


def _key_mode(ctx: Context, chan: Channel, adding: bool, letter: str, key: str) -> Change | None:
    if not adding:
        if chan.key is None:
            return None
        chan.key = None
        return False, "k", "*"
    if not key or any(c in key for c in " ,:") or len(key) > 23:
        ctx.reply(ERR_INVALIDKEY, chan.name, "Key is not well-formed")
        return None
    if chan.key is not None and chan.key != key:
        ctx.reply(ERR_KEYSET, chan.name, "Channel key already set")
        return None
    if chan.key == key:
        return None
    chan.key = key
    return True, "k", key


def _limit_mode(ctx: Context, chan: Channel, adding: bool, letter: str, raw: str) -> Change | None:
    if not adding:
        if chan.limit is None:
            return None
        chan.limit = None
        return False, "l", None
    if not raw.isdigit() or int(raw) <= 0 or chan.limit == int(raw):
        return None
    chan.limit = int(raw)
    return True, "l", raw


def _flag_mode(ctx: Context, chan: Channel, adding: bool, letter: str, _: str) -> Change | None:
    if adding == (letter in chan.modes):
        return None
    if adding:
        chan.modes.add(letter)
    else:
        chan.modes.discard(letter)
    return adding, letter, None


ModeSetter = Callable[[Context, Channel, bool, str, str], "Change | None"]
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
        change = setter(ctx, chan, adding, letter, arg)
        if change is not None:
            applied.append(change)
    if refused:
        ctx.reply(ERR_CHANOPRIVSNEEDED, chan.name, "You're not channel operator")
    if applied:
        tags = ctx.server.message_tags()
        out = Message("MODE", (chan.name, *_format(applied)), user.source, tags)
        deliver(out, chan.local_connections(), exclude=ctx.conn)
        ctx.rb.add(out)


def _format(applied: list[Change]) -> list[str]:
    """``[(True,'o','bob'), (False,'n',None)]`` -> ``['+o-n', 'bob']``."""
    letters, args = "", []
    sign = None
    for adding, letter, arg in applied:
        if adding != sign:
            letters += "+" if adding else "-"
            sign = adding
        letters += letter
        if arg is not None:
            args.append(arg)
    return [letters, *args]


def change_user_modes(ctx: Context, user: User, modestring: str) -> None:
    """Apply a user's own mode string; announce what changed to them."""
    applied: list[Change] = []
    unknown = False
    for adding, letter in _walk(modestring):
        if letter not in USER_KNOWN:
            unknown = True
            continue
        if letter == "o" and not adding and user.oper is not None:
            user.oper = None
        elif letter not in USER_SETTABLE:
            continue  # +o comes from OPER, +r from accounts
        if ctx.server.network.set_mode(user, letter, adding):
            applied.append((adding, letter, None))
    if unknown:
        ctx.reply(ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    if applied:
        ctx.rb.add(Message("MODE", (user.nick, *_format(applied)), user.source))
