"""Operators: OPER, KILL, REHASH, WALLOPS, CHGHOST, DIE, RESTART.

Operator passwords in the config may be plain or argon2 hashes
(``$argon2id$...``). Checking a hash takes tens of milliseconds on purpose,
so it runs on a worker thread and the answer comes back on the loop.
"""

from __future__ import annotations

import hmac
import logging

from hubbub.auth.passwords import verify_password
from hubbub.events import HostChanged, Killed, OperUp, Wallops
from hubbub.protocol import Message, is_valid_hostname
from hubbub.protocol.numerics import (
    ERR_NOOPERHOST,
    ERR_NOSUCHNICK,
    ERR_PASSWDMISMATCH,
    RPL_REHASHING,
    RPL_YOUREOPER,
)

from ..dispatch import CommandTable, Context

log = logging.getLogger(__name__)
table = CommandTable()


def check_password(stored: str, given: str) -> bool:
    """Compare a config password (plain or argon2 hash) with ``given``."""
    if stored.startswith("$argon2"):
        return verify_password(stored, given)
    return hmac.compare_digest(stored.encode(), given.encode())


def become_oper(ctx: Context, name: str) -> None:
    """Grant operator status (381, then the MODE +o of the event)."""
    user = ctx.user
    log.info("%s is now an operator (%s)", user.source, name, extra={
        "event": "oper.up", "client_id": user.uid, "address": ctx.session.ip, "oper": name,
    })  # fmt: skip
    ctx.reply(RPL_YOUREOPER, "You are now an IRC operator")
    ctx.publish(OperUp(*ctx.stamp(), user.uid, user.source, name))


def refuse_oper(ctx: Context, name: str) -> None:
    """A wrong operator password: 464, and a warning an operator can alert
    on (the name tried, never the password)."""
    log.warning("wrong OPER password for %s from %s", name, ctx.session.ip, extra={
        "event": "oper.refused", "client_id": ctx.session.client_id,
        "address": ctx.session.ip, "oper": name,
    })  # fmt: skip
    ctx.reply(ERR_PASSWDMISMATCH, "Password incorrect")


@table("OPER", min_params=2)
def oper(ctx: Context, msg: Message) -> None:
    """OPER <name> <password>"""
    name, given = msg.params[0], msg.params[1]
    block = next((op for op in ctx.server.config.operators if op.name == name), None)
    if block is None:
        ctx.reply(ERR_NOOPERHOST, "No O-lines for your host")
        return
    if not block.password.startswith("$argon2"):
        if check_password(block.password, given):
            become_oper(ctx, name)
        else:
            refuse_oper(ctx, name)
        return

    def answer(ok: bool) -> None:
        if ok:
            become_oper(ctx, name)
        else:
            refuse_oper(ctx, name)

    ctx.run_blocking(lambda: check_password(block.password, given), answer)


@table("KILL", min_params=2, oper=True)
def kill(ctx: Context, msg: Message) -> None:
    """KILL <nick> <reason>"""
    target = ctx.server.network.user(msg.params[0])
    if target is None:
        ctx.reply(ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
        return
    killer = ctx.user
    reason = msg.params[1] or "No reason"
    # An operator's action and its stated reason: the audit trail of KILL.
    log.info("%s killed %s: %s", killer.source, target.source, reason, extra={
        "event": "oper.kill", "client_id": killer.uid, "address": ctx.session.ip,
        "reason": reason, "target": target.uid,
    })  # fmt: skip
    ctx.publish(Killed(*ctx.stamp(), killer.uid, killer.source, target.uid, target.nick, reason))


@table("REHASH", oper=True)
def rehash(ctx: Context, msg: Message) -> None:
    """REHASH: reload the config file (and TLS certificates)"""
    path = ctx.server.config.path
    ctx.reply(RPL_REHASHING, str(path) if path else "(defaults)", "Rehashing")
    refused = ctx.server.rehash()
    if refused is not None:
        ctx.standard_reply("FAIL", "CANNOT_REHASH", text=f"Reload refused: {refused}")


@table("WALLOPS", min_params=1, oper=True)
def wallops(ctx: Context, msg: Message) -> None:
    """WALLOPS <text>: a message to every user with user mode +w"""
    user = ctx.user
    ctx.publish(Wallops(*ctx.stamp(), user.uid, user.source, msg.params[0]))


@table("CHGHOST", min_params=3, oper=True)
def chghost(ctx: Context, msg: Message) -> None:
    """CHGHOST <nick> <user> <host>: give a user a new user@host (a vhost)"""
    target = ctx.server.network.user(msg.params[0])
    if target is None:
        ctx.reply(ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
        return
    new_user, new_host = msg.params[1], msg.params[2]
    if not is_valid_hostname(new_host) or not new_user.replace("~", "").isalnum():
        ctx.standard_reply("FAIL", "INVALID_PARAMS", text="Not a valid user@host")
        return
    ctx.publish(HostChanged(*ctx.stamp(), target.uid, target.source, new_user, new_host))


@table("DIE", oper=True)
def die(ctx: Context, msg: Message) -> None:
    """DIE: shut the server down (clients are told, as on SIGTERM)"""
    log.warning("DIE from %s", ctx.user.source, extra={
        "event": "oper.die", "client_id": ctx.user.uid, "address": ctx.session.ip,
    })  # fmt: skip
    if ctx.server.stop is not None:
        ctx.server.stop()


@table("RESTART", oper=True)
def restart(ctx: Context, msg: Message) -> None:
    """RESTART: shut down cleanly, then start again with the same command line"""
    log.warning("RESTART from %s", ctx.user.source, extra={
        "event": "oper.restart", "client_id": ctx.user.uid, "address": ctx.session.ip,
    })  # fmt: skip
    if ctx.server.stop is not None:
        ctx.server.restart_requested = True
        ctx.server.stop()
