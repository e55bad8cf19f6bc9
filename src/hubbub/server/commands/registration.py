"""Connection registration: CAP, PASS, NICK, USER, PING, PONG, QUIT.

A connection becomes a user when it has a nick and a username, has finished
CAP negotiation (if it started one) and gave the right PASS (if the server
has one): then :func:`try_register` publishes :class:`UserRegistered`, sends
the welcome burst (001-005, LUSERS, MOTD) and joins the ``auto_join``
channels: the brief's one shared room. Until then what the client sent is
kept on the session's :class:`~..registration.Registration`.
"""

from __future__ import annotations

import hmac
import logging
import sys

from hubbub.events import NickChanged, UserQuit, UserRegistered
from hubbub.protocol import Message, casefold, is_valid_nick
from hubbub.protocol.numerics import (
    ERR_ALREADYREGISTERED,
    ERR_ERRONEUSNICKNAME,
    ERR_INVALIDCAPCMD,
    ERR_NICKNAMEINUSE,
    ERR_NONICKNAMEGIVEN,
    ERR_PASSWDMISMATCH,
    ERR_SASLABORTED,
    RPL_WELCOME,
)

from .. import caps, replay
from ..dispatch import CommandTable, Context
from ..limits import NICKLEN, USERLEN
from .channels import join_with_replay
from .server_queries import send_lusers, send_motd

log = logging.getLogger(__name__)

table = CommandTable()



@table("CAP", min_params=1, pre_reg=True)
def cap(ctx: Context, msg: Message) -> None:
    """CAP <subcommand> [:<capabilities>]"""
    sub = msg.params[0].upper()
    handler = _CAP_SUBCOMMANDS.get(sub)
    if handler is None:
        ctx.reply(ERR_INVALIDCAPCMD, msg.params[0], "Invalid CAP command")
        return
    handler(ctx, msg)


def _negotiating(ctx: Context) -> None:
    """CAP LS or REQ before registration holds registration until CAP END."""
    if ctx.session.registration is not None:
        ctx.session.registration.cap_negotiating = True


def _cap_ls(ctx: Context, msg: Message) -> None:
    session = ctx.session
    arg = msg.params[1] if len(msg.params) > 1 else ""
    session.cap_version = max(session.cap_version, int(arg) if arg.isdigit() else 0)
    _negotiating(ctx)
    if session.cap_version >= 302:
        # CAP 302 implies cap-notify (the spec says it is enabled implicitly).
        session.set_caps(session.caps | {"cap-notify"})
    _cap_lines(ctx, "LS", caps.ls_tokens(session.cap_version, ctx.server.caps))


def _cap_list(ctx: Context, msg: Message) -> None:
    _cap_lines(ctx, "LIST", sorted(ctx.session.caps))


def _cap_lines(ctx: Context, sub: str, tokens: list[str]) -> None:
    """Send ``tokens`` in as many lines as needed; CAP 302 marks continuations."""
    session = ctx.session
    for params in caps.cap_lines(session.display_nick, sub, tokens, session.cap_version >= 302):
        ctx.send("CAP", *params)


def _cap_req(ctx: Context, msg: Message) -> None:
    session = ctx.session
    _negotiating(ctx)
    requested = msg.params[1] if len(msg.params) > 1 else ""
    enable: set[str] = set()
    disable: set[str] = set()
    for token in requested.split():
        name = token[1:] if token.startswith("-") else token
        if name not in ctx.server.caps:
            ctx.send("CAP", session.display_nick, "NAK", requested)
            return
        (disable if token.startswith("-") else enable).add(name)
    session.set_caps((session.caps | enable) - disable)
    ctx.send("CAP", session.display_nick, "ACK", requested)


def _cap_end(ctx: Context, msg: Message) -> None:
    if ctx.session.registration is not None:
        ctx.session.registration.cap_negotiating = False
    try_register(ctx)


_CAP_SUBCOMMANDS = {"LS": _cap_ls, "LIST": _cap_list, "REQ": _cap_req, "END": _cap_end}


@table("PASS", min_params=1, pre_reg=True)
def pass_(ctx: Context, msg: Message) -> None:
    """PASS <password>"""
    reg = ctx.session.registration
    if reg is None:
        ctx.reply(ERR_ALREADYREGISTERED, "You may not reregister")
        return
    expected = ctx.server.config.server.password
    reg.pass_ok = expected is None or hmac.compare_digest(msg.params[0].encode(), expected.encode())


@table("NICK", pre_reg=True)
def nick(ctx: Context, msg: Message) -> None:
    """NICK <nickname>"""
    if not msg.params or not msg.params[0]:
        ctx.reply(ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    new = msg.params[0]
    if not is_valid_nick(new, NICKLEN):
        ctx.reply(ERR_ERRONEUSNICKNAME, new, "Erroneous nickname")
        return
    server = ctx.server
    reg = ctx.session.registration
    if reg is not None:
        reg.asked_nick = new
    if server.service_nicks and casefold(new) in server.service_nicks:
        ctx.reply(ERR_ERRONEUSNICKNAME, new, "Nickname is reserved for the server's services")
        return
    holder = server.network.user(new)
    user = ctx.session.user
    if holder is not None and holder is not user:
        ctx.reply(ERR_NICKNAMEINUSE, new, "Nickname is already in use")
        return
    if user is not None and not owns_nick(ctx, new, user.account):
        ctx.reply(ERR_NICKNAMEINUSE, new, RESERVED)
        return
    if reg is not None:
        # A reserved nick is judged at the end of registration: SASL may
        # log the client in to its account before then.
        reg.nick = new
        try_register(ctx)
    elif user is not None and new != user.nick:

        def taken(applied: bool) -> None:
            if not applied:
                # Someone on another node took it first (the log's order decides).
                ctx.reply(ERR_NICKNAMEINUSE, new, "Nickname is already in use")

        ctx.publish(NickChanged(*ctx.stamp(), user.uid, user.source, new), taken)


@table("USER", min_params=4, pre_reg=True)
def user_(ctx: Context, msg: Message) -> None:
    """USER <username> <mode> <unused> <realname>"""
    reg = ctx.session.registration
    if reg is None or reg.username is not None:
        ctx.reply(ERR_ALREADYREGISTERED, "You may not reregister")
        return
    # No ident lookup: the "~" says the username is unverified, as usual.
    raw = "".join(c for c in msg.params[0] if c.isalnum() or c in "-_.")[: USERLEN - 1]
    reg.username = sys.intern("~" + (raw or "user"))
    reg.realname = sys.intern(msg.params[3])
    try_register(ctx)


@table("PING", min_params=1, pre_reg=True)
def ping(ctx: Context, msg: Message) -> None:
    """PING <token>"""
    ctx.send("PONG", ctx.server.name, msg.params[0])


@table("PONG", pre_reg=True)
def pong(ctx: Context, msg: Message) -> None:
    """PONG [<server>] <token>: any input already proves the client alive."""


@table("QUIT", pre_reg=True)
def quit_(ctx: Context, msg: Message) -> None:
    """QUIT [<reason>]"""
    reason = msg.params[0] if msg.params else ""
    ctx.rb.flush()
    ctx.session.close(f"Quit: {reason}" if reason else "Quit")


#: The 433 text for a nick that belongs to an account.
RESERVED = "Nickname is registered to an account: log in to it with SASL, or choose another"


def owns_nick(ctx: Context, nick: str, account: str | None) -> bool:
    """Whether someone logged in to ``account`` (None: not logged in) may use
    ``nick``: a nick that belongs to an account is its owner's alone."""
    owner = ctx.server.accounts.owner(nick)
    return owner is None or (account is not None and casefold(account) == casefold(owner))


def try_register(ctx: Context) -> None:
    """Finish registration if everything is in; send the welcome burst."""
    session = ctx.session
    reg = session.registration
    if reg is None or session.closing or not reg.complete:
        return
    assert reg.nick is not None and reg.username is not None
    server = ctx.server
    if not reg.pass_ok:
        ctx.reply(ERR_PASSWDMISMATCH, "Password incorrect")
        ctx.rb.flush()
        session.close("Bad password")
        return
    if session.sasl is not None:
        # Registration finished in the middle of SASL: it registers without (3.1).
        server.meters.sasl.record(session.sasl.mechanism, "aborted")
        session.sasl = None
        ctx.reply(ERR_SASLABORTED, "SASL authentication aborted")
    if server.network.user(reg.nick) is not None:
        # Someone registered this nick since the client chose it.
        ctx.reply(ERR_NICKNAMEINUSE, reg.nick, "Nickname is already in use")
        reg.nick = None
        return
    if not owns_nick(ctx, reg.nick, reg.account):
        ctx.reply(ERR_NICKNAMEINUSE, reg.nick, RESERVED)
        reg.nick = None
        return
    uid = reg.uid  # named the connection in the logs already
    nick = reg.nick
    source = f"{nick}!{reg.username}@{session.ip}"

    def registered(applied: bool) -> None:
        if not applied:
            # A client on another node registered the nick first.
            ctx.reply(ERR_NICKNAMEINUSE, nick, "Nickname is already in use")
            reg.nick = None
            return
        user = server.network.by_uid[uid]
        if session.closing:
            # The client left while its registration was on its way: the
            # user it made must not linger on the network.
            gone = UserQuit(*server.stamp(), uid, user.source, "Connection closed")
            server.pipeline.publish(gone)
            return
        session.attach(user)
        server.admission.registered(session.ip)
        log.info("%s registered", source, extra={
            "event": "client.registered", "client_id": uid, "address": session.ip, "nick": nick,
        })  # fmt: skip
        _welcomed(ctx)

    ctx.publish(
        UserRegistered(
            *ctx.stamp(), uid, source, nick, reg.username, session.ip, reg.realname,
            reg.account, session.tls, server.node,
        ),
        registered,
    )  # fmt: skip


def _welcomed(ctx: Context) -> None:
    """The user is on the network: the welcome burst, then the auto-joins."""
    server = ctx.server
    welcome(ctx)
    rooms = list(server.config.server.auto_join)
    if rooms and replay.wanted(ctx):
        replay.fetch_then(ctx, rooms, lambda replays: _auto_join(ctx, rooms, replays))
    else:
        _auto_join(ctx, rooms, None)


def _auto_join(ctx: Context, rooms: list[str], replays: replay.Replays | None) -> None:
    """Join the ``auto_join`` channels (no key or ban applies to them)."""
    for name in rooms:
        chan = ctx.server.network.channel(name)
        join_with_replay(ctx, chan.name if chan else name, replays)


def welcome(ctx: Context) -> None:
    """001-005, LUSERS and MOTD."""
    server, user = ctx.server, ctx.user
    network = server.config.server.network
    ctx.reply(RPL_WELCOME, f"Welcome to the {network} Network, {user.source}")
    ctx.rb.add_rendered(server.welcome.intro.render(user.nick))
    send_lusers(ctx)
    send_motd(ctx)
