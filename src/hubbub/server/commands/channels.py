"""Channel membership and metadata: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE."""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import partial

from hubbub.events import ChannelRenamed, Invited, Joined, Kicked, Parted, TopicChanged
from hubbub.protocol import Message, casefold, is_channel_name, mask_match
from hubbub.protocol.numerics import (
    ERR_BADCHANNELKEY,
    ERR_BANNEDFROMCHAN,
    ERR_CHANNELISFULL,
    ERR_CHANOPRIVSNEEDED,
    ERR_INVITEONLYCHAN,
    ERR_NEEDMOREPARAMS,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_NOTONCHANNEL,
    ERR_TOOMANYCHANNELS,
    ERR_USERNOTINCHANNEL,
    ERR_USERONCHANNEL,
    RPL_AWAY,
    RPL_ENDOFINVITELIST,
    RPL_ENDOFNAMES,
    RPL_INVITELIST,
    RPL_INVITING,
    RPL_LIST,
    RPL_LISTEND,
    RPL_LISTSTART,
)

from .. import replay
from ..channel_replies import send_names, send_topic
from ..dispatch import CommandTable, Context
from ..extbans import matches_any as _matches_any
from ..limits import CHANNELLEN, KICKLEN, MAX_CHANNELS, MAX_KICK_TARGETS, TOPICLEN
from ..playback import add_replay
from ..state import Channel, User

table = CommandTable()


def matches_any(masks: dict[str, tuple[str, float]], user: User) -> bool:
    """True when a +b/+e/+I entry matches ``user`` (hostmasks and ``$a`` extbans)."""
    return bool(masks) and _matches_any(masks, user)


def status_on_join(chan: Channel | None, user: User) -> str:
    """The status ChanServ gives ``user`` joining ``chan`` (a registered
    channel's founder and the accounts it granted); never in server rooms."""
    if chan is None or chan.registration is None or chan.server_room:
        return ""
    return chan.registration.status_for(user.account)


def join_error(chan: Channel, user: User, key: str | None) -> tuple[str, str] | None:
    """Why ``user`` may not join ``chan`` with ``key``: (numeric, text), or None.
    A registered channel's operators by account get in whatever the modes say."""
    if "o" in status_on_join(chan, user):
        return None
    invited = user.nick_cf in chan.invited
    if chan.key is not None and key != chan.key and not invited:
        return ERR_BADCHANNELKEY, "Cannot join channel (+k)"
    if chan.limit is not None and len(chan.members) >= chan.limit and not invited:
        return ERR_CHANNELISFULL, "Cannot join channel (+l)"
    if "i" in chan.modes and not invited and not matches_any(chan.invex, user):
        return ERR_INVITEONLYCHAN, "Cannot join channel (+i)"
    if matches_any(chan.bans, user) and not matches_any(chan.excepts, user) and not invited:
        return ERR_BANNEDFROMCHAN, "Cannot join channel (+b)"
    return None


@table("JOIN", min_params=1)
def join(ctx: Context, msg: Message) -> None:
    """JOIN <channel>{,<channel>} [<key>{,<key>}] | JOIN 0"""
    user = ctx.user
    if msg.params[0] == "0":
        for joined in list(user.channels.values()):
            reason = "Left all channels"
            ctx.publish(Parted(*ctx.stamp(), user.uid, user.source, joined.name, reason))
        return
    names = msg.params[0].split(",")
    if not any(names):  # "JOIN ,,": commas, and no channel
        ctx.reply(ERR_NEEDMOREPARAMS, "JOIN", "Not enough parameters")
        return
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []
    if replay.wanted(ctx):
        wanted = [n for n in names if n and is_channel_name(n, CHANNELLEN)]
        replay.fetch_then(ctx, wanted, lambda replays: _join(ctx, names, keys, replays))
    else:
        _join(ctx, names, keys, None)


def _join(ctx: Context, names: list[str], keys: list[str], replays: replay.Replays | None) -> None:
    """Join each channel it may; after each JOIN, its replay if there is one."""
    user, network = ctx.user, ctx.server.network
    # Joins published by this command: on a cluster they are not in the
    # state until they come back from the log, and must count already.
    joining: set[str] = set()
    for i, name in enumerate(names):
        if not name:
            continue
        if not is_channel_name(name, CHANNELLEN):
            ctx.reply(ERR_NOSUCHCHANNEL, name, "No such channel")
            continue
        chan = network.channel(name)
        cf = casefold(name)
        if (chan is not None and user in chan.members) or cf in joining:
            continue
        if len(user.channels) + len(joining - user.channels.keys()) >= MAX_CHANNELS:
            ctx.reply(ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
            continue
        if chan is not None:
            error = join_error(chan, user, keys[i] if i < len(keys) else None)
            if error is not None:
                ctx.reply(error[0], chan.name, error[1])
                continue
        joining.add(cf)
        join_with_replay(ctx, chan.name if chan else name, replays)


def join_with_replay(ctx: Context, name: str, replays: replay.Replays | None) -> None:
    """Publish the user's JOIN of ``name`` (with the status ChanServ gives
    them there); then queue its replay, if fetched."""
    user, network = ctx.user, ctx.server.network
    chan = network.channel(name)
    found = replays.get(casefold(name)) if replays else None

    def replay_after(applied: bool) -> None:
        # Right after the JOIN, its topic and names, before any live line.
        joined = network.channel(name)
        if applied and found and joined is not None and user in joined.members:
            add_replay(ctx.rb, found, network, joined.name, ctx.server.now())

    ctx.publish(
        Joined(*ctx.stamp(), user.uid, user.source, name, user.account, user.realname,
               status_on_join(chan, user)),
        replay_after if found else None,
    )  # fmt: skip


def member_channel(ctx: Context, name: str) -> Channel | None:
    """The channel ``name`` if the user is in it; else reply 403/442, None."""
    chan = ctx.server.network.channel(name)
    if chan is None:
        ctx.reply(ERR_NOSUCHCHANNEL, name, "No such channel")
        return None
    if ctx.user not in chan.members:
        ctx.reply(ERR_NOTONCHANNEL, chan.name, "You're not on that channel")
        return None
    return chan


@table("PART", min_params=1)
def part(ctx: Context, msg: Message) -> None:
    """PART <channel>{,<channel>} [<reason>]"""
    reason = msg.params[1] if len(msg.params) > 1 else ""
    user = ctx.user
    for name in msg.params[0].split(","):
        chan = member_channel(ctx, name)
        if chan is not None:
            ctx.publish(Parted(*ctx.stamp(), user.uid, user.source, chan.name, reason))


@table("TOPIC", min_params=1)
def topic(ctx: Context, msg: Message) -> None:
    """TOPIC <channel> [<topic>]"""
    name = msg.params[0]
    chan = ctx.server.network.channel(name)
    if chan is None:
        ctx.reply(ERR_NOSUCHCHANNEL, name, "No such channel")
        return
    user = ctx.user
    if len(msg.params) < 2:
        if "s" in chan.modes and user not in chan.members:
            ctx.reply(ERR_NOTONCHANNEL, chan.name, "You're not on that channel")
            return
        send_topic(ctx.session, chan, ctx.rb)
        return
    if user not in chan.members:
        ctx.reply(ERR_NOTONCHANNEL, chan.name, "You're not on that channel")
        return
    if "t" in chan.modes and not chan.is_op(user):
        ctx.reply(ERR_CHANOPRIVSNEEDED, chan.name, "You're not channel operator")
        return
    topic = msg.params[1][:TOPICLEN]
    ctx.publish(TopicChanged(*ctx.stamp(), user.uid, user.source, chan.name, topic))


@table("NAMES")
def names(ctx: Context, msg: Message) -> None:
    """NAMES [<channel>{,<channel>}]"""
    if not msg.params:
        ctx.reply(RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    for name in msg.params[0].split(","):
        chan = ctx.server.network.channel(name)
        if chan is not None and chan.visible_to(ctx.user):
            send_names(ctx.session, ctx.user, chan, ctx.rb)
        else:
            ctx.reply(RPL_ENDOFNAMES, name, "End of /NAMES list")


_CMP = {">": operator.gt, "<": operator.lt}


def _members(chan: Channel) -> float:
    return len(chan.members)


def _created(chan: Channel) -> float:
    return chan.created


def _topic_time(chan: Channel) -> float:
    # A channel without a topic has no topic time: no T condition holds for it.
    return chan.topic_time if chan.topic else float("nan")


def _compare(
    value: Callable[[Channel], float],
    cmp: Callable[[float, float], bool],
    than: float,
    chan: Channel,
) -> bool:
    return cmp(value(chan), than)


def _excluded(mask: str, chan: Channel) -> bool:
    return not mask_match(mask, chan.name)


def _list_filter(spec: str, now: float) -> Callable[[Channel], bool]:
    """A predicate from ELIST terms (ISUPPORT ``ELIST=CMNTU``), all of which must hold:
    ``>n``/``<n`` member counts (U), ``C>m``/``C<m`` created more/less than m
    minutes ago (C), ``T>m``/``T<m`` topic set more/less than m minutes ago (T),
    ``!mask`` excluded names (N); any other term is a name mask (M), of which
    one must match."""
    tests: list[Callable[[Channel], bool]] = []
    masks: list[str] = []
    for term in filter(None, spec.split(",")):
        if term[0] in "<>" and term[1:].isdigit():
            tests.append(partial(_compare, _members, _CMP[term[0]], int(term[1:])))
        elif term[0] in "CT" and term[1:2] in ("<", ">") and term[2:].isdigit():
            # "C>m": created more than m minutes ago, that is, before now - m min.
            cutoff = now - int(term[2:]) * 60
            older = _CMP["<" if term[1] == ">" else ">"]
            stamp = _created if term[0] == "C" else _topic_time
            tests.append(partial(_compare, stamp, older, cutoff))
        elif term[0] == "!" and len(term) > 1:
            tests.append(partial(_excluded, term[1:]))
        else:
            masks.append(term)
    if masks:
        tests.append(lambda c: any(mask_match(m, c.name) for m in masks))
    return lambda chan: all(test(chan) for test in tests)


@table("LIST")
def list_(ctx: Context, msg: Message) -> None:
    """LIST [<channel>{,<channel>} | <elist conditions>]

    Conditions: >n <n (members), C>m C<m (created minutes ago),
    T>m T<m (topic set minutes ago), !mask (exclude), mask (include).
    """
    user = ctx.user
    wanted = _list_filter(msg.params[0] if msg.params else "", ctx.server.now())
    ctx.reply(RPL_LISTSTART, "Channel", "Users  Name")
    for chan in list(ctx.server.network.channels.values()):
        if chan.visible_to(user) and wanted(chan):
            ctx.reply(RPL_LIST, chan.name, str(len(chan.members)), chan.topic)
    ctx.reply(RPL_LISTEND, "End of /LIST")


@table("KICK", min_params=2)
def kick(ctx: Context, msg: Message) -> None:
    """KICK <channel>{,<channel>} <user>{,<user>} [<comment>]

    One channel: every user is kicked from it. As many channels as users:
    they pair up (RFC 2812). Each kick is its own KICK line to clients.
    """
    names = msg.params[0].split(",")
    nicks = msg.params[1].split(",")[:MAX_KICK_TARGETS]
    if len(names) == 1:
        pairs = [(names[0], nick) for nick in nicks]
    elif len(names) == len(nicks):
        pairs = list(zip(names, nicks, strict=True))
    else:
        ctx.reply(ERR_NEEDMOREPARAMS, "KICK", "Channels and users do not pair up")
        return
    user = ctx.user
    reason = (msg.params[2] if len(msg.params) > 2 and msg.params[2] else user.nick)[:KICKLEN]
    for name, nick in pairs:
        chan = member_channel(ctx, name)
        if chan is None:
            continue
        if not chan.is_op(user):
            ctx.reply(ERR_CHANOPRIVSNEEDED, chan.name, "You're not channel operator")
            continue
        target = ctx.server.network.user(nick)
        if target is None:
            ctx.reply(ERR_NOSUCHNICK, nick, "No such nick/channel")
        elif target not in chan.members:
            ctx.reply(ERR_USERNOTINCHANNEL, target.nick, chan.name, "They aren't on that channel")
        else:
            ctx.publish(
                Kicked(*ctx.stamp(), user.uid, user.source, chan.name, target.uid, target.nick,
                       reason)
            )  # fmt: skip


@table("INVITE")
def invite(ctx: Context, msg: Message) -> None:
    """INVITE [<nick> <channel>]"""
    user = ctx.user
    if len(msg.params) < 2:
        for pending in ctx.server.network.channels.values():
            if user.nick_cf in pending.invited:
                ctx.reply(RPL_INVITELIST, pending.name)
        ctx.reply(RPL_ENDOFINVITELIST, "End of /INVITE list")
        return
    nick, name = msg.params[0], msg.params[1]
    target = ctx.server.network.user(nick)
    if target is None:
        ctx.reply(ERR_NOSUCHNICK, nick, "No such nick/channel")
        return
    chan = member_channel(ctx, name)
    if chan is None:
        return
    if "i" in chan.modes and not chan.is_op(user):
        ctx.reply(ERR_CHANOPRIVSNEEDED, chan.name, "You're not channel operator")
        return
    if target in chan.members:
        ctx.reply(ERR_USERONCHANNEL, target.nick, chan.name, "is already on channel")
        return
    ctx.reply(RPL_INVITING, target.nick, chan.name)
    ctx.publish(Invited(*ctx.stamp(), user.uid, user.source, chan.name, target.uid, target.nick))
    if target.away is not None:
        ctx.reply(RPL_AWAY, target.nick, target.away)


@table("RENAME", min_params=2)
def rename(ctx: Context, msg: Message) -> None:
    """RENAME <channel> <new name> [<reason>] (draft/channel-rename)"""
    old, new = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    chan = ctx.server.network.channel(old)
    if chan is None:
        ctx.reply(ERR_NOSUCHCHANNEL, old, "No such channel")
        return
    user = ctx.user
    if not chan.is_op(user) and user.oper is None:
        ctx.reply(ERR_CHANOPRIVSNEEDED, chan.name, "You're not channel operator")
        return
    if not is_channel_name(new, CHANNELLEN) or new[0] != chan.name[0]:
        ctx.standard_reply("FAIL", "CANNOT_RENAME", old, new,
                           text="The new name is not a valid name of the same kind")  # fmt: skip
        return
    existing = ctx.server.network.channel(new)
    if existing is not None and existing is not chan:
        ctx.standard_reply("FAIL", "CHANNEL_NAME_IN_USE", old, new,
                           text="A channel with that name already exists")  # fmt: skip
        return
    def taken(applied: bool) -> None:
        if not applied:
            ctx.standard_reply("FAIL", "CHANNEL_NAME_IN_USE", old, new,
                               text="A channel with that name already exists")  # fmt: skip

    ctx.publish(
        ChannelRenamed(*ctx.stamp(), user.uid, user.source, chan.name, new, reason), taken
    )
