"""Connection registration: CAP, PASS, NICK, USER, PING, PONG, QUIT.

A connection becomes a user when it has a nick and a username, has finished
CAP negotiation (if it started one) and gave the right PASS (if the server
has one). Then it gets the welcome burst (001-005, LUSERS, MOTD) and is put
in the ``auto_join`` channels: the brief's one shared room.
"""

from __future__ import annotations

import sys

from hubbub.protocol import Message, is_valid_nick
from hubbub.protocol.numerics import (
    ERR_ALREADYREGISTERED,
    ERR_ERRONEUSNICKNAME,
    ERR_INVALIDCAPCMD,
    ERR_NICKNAMEINUSE,
    ERR_NONICKNAMEGIVEN,
    ERR_PASSWDMISMATCH,
    RPL_WELCOME,
)

from .. import actions, caps
from ..dispatch import CommandTable, Context
from ..limits import NICKLEN, USERLEN
from ..state import User
from .queries import send_lusers, send_motd

table = CommandTable()

_CAP_LINE_BUDGET = 400


@table("CAP", min_params=1, pre_reg=True)
def cap(ctx: Context, msg: Message) -> None:
    """CAP <subcommand> [:<capabilities>]"""
    sub = msg.params[0].upper()
    handler = _CAP_SUBCOMMANDS.get(sub)
    if handler is None:
        ctx.reply(ERR_INVALIDCAPCMD, msg.params[0], "Invalid CAP command")
        return
    handler(ctx, msg)


def _cap_ls(ctx: Context, msg: Message) -> None:
    conn = ctx.conn
    arg = msg.params[1] if len(msg.params) > 1 else ""
    conn.cap_version = max(conn.cap_version, int(arg) if arg.isdigit() else 0)
    if not conn.registered:
        conn.cap_negotiating = True
    if conn.cap_version >= 302:
        # CAP 302 implies cap-notify (the spec says it is enabled implicitly).
        conn.set_caps(conn.caps | {"cap-notify"})
    _cap_lines(ctx, "LS", caps.ls_tokens(conn.cap_version))


def _cap_list(ctx: Context, msg: Message) -> None:
    _cap_lines(ctx, "LIST", sorted(ctx.conn.caps))


def _cap_lines(ctx: Context, sub: str, tokens: list[str]) -> None:
    """Send ``tokens`` in as many lines as needed; CAP 302 marks continuations."""
    nick = ctx.conn.display_nick
    lines: list[list[str]] = [[]]
    size = 0
    for token in tokens:
        if lines[-1] and size + len(token) + 1 > _CAP_LINE_BUDGET:
            lines.append([])
            size = 0
        lines[-1].append(token)
        size += len(token) + 1
    multiline = ctx.conn.cap_version >= 302
    for i, chunk in enumerate(lines):
        more = multiline and i < len(lines) - 1
        params = (nick, sub, "*", " ".join(chunk)) if more else (nick, sub, " ".join(chunk))
        ctx.send("CAP", *params)


def _cap_req(ctx: Context, msg: Message) -> None:
    conn = ctx.conn
    if not conn.registered:
        conn.cap_negotiating = True
    requested = msg.params[1] if len(msg.params) > 1 else ""
    enable: set[str] = set()
    disable: set[str] = set()
    for token in requested.split():
        name = token[1:] if token.startswith("-") else token
        if name not in caps.CAPS:
            ctx.send("CAP", conn.display_nick, "NAK", requested)
            return
        (disable if token.startswith("-") else enable).add(name)
    conn.set_caps((conn.caps | enable) - disable)
    ctx.send("CAP", conn.display_nick, "ACK", requested)


def _cap_end(ctx: Context, msg: Message) -> None:
    ctx.conn.cap_negotiating = False
    try_register(ctx)


_CAP_SUBCOMMANDS = {"LS": _cap_ls, "LIST": _cap_list, "REQ": _cap_req, "END": _cap_end}


@table("PASS", min_params=1, pre_reg=True)
def pass_(ctx: Context, msg: Message) -> None:
    """PASS <password>"""
    if ctx.conn.registered:
        ctx.reply(ERR_ALREADYREGISTERED, "You may not reregister")
        return
    expected = ctx.server.config.server.password
    ctx.conn.pass_ok = expected is None or msg.params[0] == expected


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
    holder = ctx.server.network.user(new)
    user = ctx.conn.user
    if holder is not None and holder is not user:
        ctx.reply(ERR_NICKNAMEINUSE, new, "Nickname is already in use")
        return
    if user is None:
        ctx.conn.nick = new
        try_register(ctx)
    elif new != user.nick:
        actions.change_nick(ctx.server, user, new, ctx.rb)


@table("USER", min_params=4, pre_reg=True)
def user_(ctx: Context, msg: Message) -> None:
    """USER <username> <mode> <unused> <realname>"""
    conn = ctx.conn
    if conn.registered or conn.username is not None:
        ctx.reply(ERR_ALREADYREGISTERED, "You may not reregister")
        return
    # No ident lookup: the "~" says the username is unverified, as usual.
    raw = "".join(c for c in msg.params[0] if c.isalnum() or c in "-_.")[: USERLEN - 1]
    conn.username = sys.intern("~" + (raw or "user"))
    conn.realname = sys.intern(msg.params[3])
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
    ctx.conn.close(f"Quit: {reason}" if reason else "Quit")


def try_register(ctx: Context) -> None:
    """Finish registration if everything is in; send the welcome burst."""
    conn = ctx.conn
    if conn.registered or conn.closing or conn.cap_negotiating:
        return
    if conn.nick is None or conn.username is None:
        return
    server = ctx.server
    if not conn.pass_ok:
        ctx.reply(ERR_PASSWDMISMATCH, "Password incorrect")
        ctx.rb.flush()
        conn.close("Bad password")
        return
    if server.network.user(conn.nick) is not None:
        # Someone registered this nick since the client chose it.
        ctx.reply(ERR_NICKNAMEINUSE, conn.nick, "Nickname is already in use")
        conn.nick = None
        return
    user = User(conn.nick, conn.username, conn.ip, conn.realname, server.now())
    user.conn = conn
    conn.user = user
    server.network.add_user(user)
    welcome(ctx)
    actions.monitor_online(server, user)
    for name in server.config.server.auto_join:
        actions.join(server, user, name, ctx.rb)


def welcome(ctx: Context) -> None:
    """001-005, LUSERS and MOTD."""
    server, user = ctx.server, ctx.user
    network = server.config.server.network
    ctx.reply(RPL_WELCOME, f"Welcome to the {network} Network, {user.source}")
    ctx.rb.add_rendered(server.intro.render(user.nick))
    send_lusers(ctx)
    send_motd(ctx)
