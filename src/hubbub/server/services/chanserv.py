"""ChanServ: channels that belong to an account.

``REGISTER #room`` by one of its operators, logged in, makes the account its
founder: the channel stays when it empties, its topic, modes, bans and key
survive a restart (:mod:`..keeper`), and the founder gets +o back on every
join. ``AMODE #room +o|+v|-o|-v <account>`` (or ``ACCESS #room ADD|DEL``)
lets the founder give other accounts their status on join too. The
server's own rooms (``auto_join``) belong to the server and cannot be
registered. Every change is an event (:class:`~hubbub.events.ChannelRegistered`,
:class:`~hubbub.events.ChannelAccessChanged`); status given now is a MODE
from ChanServ that everyone in the channel sees.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hubbub.events import ChannelAccessChanged, ChannelModeChanged, ChannelRegistered
from hubbub.protocol import casefold

from ..service_names import CHANSERV, CHANSERV_SOURCE
from ..state import Channel
from .base import Request, Service

chanserv = Service(CHANSERV, "keeps channels for their founders.")

#: AMODE/ACCESS words for the status an account gets.
_LEVELS = {"o": "o", "op": "o", "v": "v", "voice": "v"}


def _channel(req: Request, name: str) -> Channel | None:
    chan = req.ctx.server.network.channel(name)
    if chan is None:
        req.say(f"{name} does not exist.")
    return chan


def _registered(req: Request, name: str) -> Channel | None:
    chan = _channel(req, name)
    if chan is not None and chan.registration is None:
        req.say(f"{chan.name} is not registered.")
        return None
    return chan


def _may_manage(req: Request, chan: Channel) -> bool:
    """The founder (or an IRC operator) manages a registered channel."""
    reg = chan.registration
    user = req.user
    if user.oper is not None or (reg is not None and reg.is_founder(user.account)):
        return True
    req.say(f"Only the founder of {chan.name} can do that.")
    return False


@chanserv.command(
    "REGISTER", "<#channel>",
    "Registers a channel you are an operator of to your account: you are its "
    "founder, it keeps its topic, modes and bans, and you get +o back when you join.", 1,
)  # fmt: skip
def register(req: Request, args: list[str]) -> None:
    """REGISTER <#channel>"""
    user = req.user
    if user.account is None:
        req.say("Log in to an account first (SASL, or /msg NickServ IDENTIFY).")
        return
    chan = _channel(req, args[0])
    if chan is None:
        return
    if chan.server_room:
        req.say(f"{chan.name} belongs to the server: it cannot be registered.")
    elif chan.registration is not None:
        req.say(f"{chan.name} is already registered (founder: {chan.registration.founder}).")
    elif not chan.is_op(user):
        req.say(f"You must be an operator of {chan.name} to register it.")
    else:
        ctx, account, name = req.ctx, user.account, chan.name

        def registered(applied: bool) -> None:
            if not applied:
                # Someone registered it first (on another node of a cluster).
                req.say(f"{name} is already registered.")
                return
            req.say(f"{name} is registered to {account}. You will get +o when you "
                    f"join it; /msg {CHANSERV} AMODE {name} +o <account> gives others "
                    "their status too.")  # fmt: skip

        ctx.publish(
            ChannelRegistered(*ctx.stamp(), user.uid, user.source, name, account), registered
        )


@chanserv.command(
    "DROP", "<#channel>", "Unregisters a channel (its founder, or an IRC operator).", 1
)
def drop(req: Request, args: list[str]) -> None:
    """DROP <#channel>"""
    chan = _registered(req, args[0])
    if chan is None or not _may_manage(req, chan):
        return
    ctx, user = req.ctx, req.user
    ctx.publish(ChannelRegistered(*ctx.stamp(), user.uid, user.source, chan.name, None))
    req.say(f"{chan.name} is no longer registered.")


@chanserv.command("INFO", "<#channel>", "Tells who founded a channel and who gets status.", 1)
def info(req: Request, args: list[str]) -> None:
    """INFO <#channel>"""
    chan = _registered(req, args[0])
    if chan is None or chan.registration is None:
        return
    reg = chan.registration
    when = datetime.fromtimestamp(reg.registered, UTC).strftime("%Y-%m-%d %H:%M UTC")
    req.say(f"{chan.name}: founder {reg.founder}, registered {when}.")
    for account, modes in sorted(reg.access.items()):
        req.say(f"  {account}: +{modes}")


@chanserv.command(
    "AMODE", "<#channel> [+o|+v|-o|-v <account>]",
    "Lists, or changes, the status accounts get when they join a registered "
    "channel (changes: its founder only).", 1,
)  # fmt: skip
def amode(req: Request, args: list[str]) -> None:
    """AMODE <#channel> [+o|+v|-o|-v <account>]"""
    chan = _registered(req, args[0])
    if chan is None or chan.registration is None:
        return
    if len(args) < 3:
        info(req, args[:1])
        return
    change, account = args[1], args[2]
    level = _LEVELS.get(change[1:].lower()) if change[:1] in "+-" else None
    if level is None:
        req.say("Syntax: AMODE <#channel> +o|+v|-o|-v <account>")
        return
    _set_access(req, chan, account, level if change[0] == "+" else "")


@chanserv.command(
    "ACCESS", "<#channel> LIST | ADD <account> op|voice | DEL <account>",
    "The same as AMODE, in the words other services use.", 2,
)  # fmt: skip
def access(req: Request, args: list[str]) -> None:
    """ACCESS <#channel> LIST | ADD <account> op|voice | DEL <account>"""
    sub = args[1].upper()
    if sub == "LIST":
        amode(req, args[:1])
    elif sub == "ADD" and len(args) > 3 and args[3].lower() in _LEVELS:
        amode(req, [args[0], "+" + _LEVELS[args[3].lower()], args[2]])
    elif sub == "DEL" and len(args) > 2:
        chan = _registered(req, args[0])
        if chan is not None:
            _set_access(req, chan, args[2], "")
    else:
        req.say("Syntax: ACCESS <#channel> LIST | ADD <account> op|voice | DEL <account>")


def _set_access(req: Request, chan: Channel, account: str, modes: str) -> None:
    """Give ``account`` ``modes`` on join (``""``: nothing), and now if it is here."""
    reg = chan.registration
    if reg is None or not _may_manage(req, chan):
        return
    ctx = req.ctx
    name = ctx.server.accounts.owner(account)
    if name is None:
        req.say(f"There is no account {account}.")
        return
    if reg.is_founder(name):
        req.say(f"{name} founded {chan.name}: the founder always gets +o.")
        return
    if reg.access.get(casefold(name), "") == modes:
        req.say(f"{name} already has that in {chan.name}.")
        return
    user = req.user
    ctx.publish(ChannelAccessChanged(*ctx.stamp(), user.uid, user.source, chan.name, name,
                                     modes))  # fmt: skip
    if not modes:
        req.say(f"{name} gets no status in {chan.name} any more.")
        return
    req.say(f"{name} gets +{modes} when joining {chan.name}.")
    for member, held in list(chan.members.items()):
        mine = member.account is not None and casefold(member.account) == casefold(name)
        if mine and modes not in held:
            change = ((True, modes, member.nick),)
            ctx.server.pipeline.publish(
                ChannelModeChanged(*ctx.stamp(), "", CHANSERV_SOURCE, chan.name, change)
            )
