"""Registering accounts (IRCv3 draft/account-registration): REGISTER and VERIFY.

``REGISTER <account|*> <email|*> <password>`` registers the current nick
(``*``: the nick itself; another name is ACCOUNT_NAME_MUST_BE_NICK, since
the account owns the nick of its name). Before connection registration it
is allowed when the ``before-connect`` key is offered
(``[accounts] registration_before_connect``), and never before a required
server password (PASS) was given. Success logs the client in (900) and says
``REGISTER SUCCESS``; with ``registration_requires_email`` a code is mailed
instead (``REGISTER VERIFICATION_REQUIRED``), and ``VERIFY <account> <code>``
finishes it. Refusals are ``FAIL REGISTER|VERIFY <code> <account> :text``.

NickServ and ChanServ (:mod:`..services`) are reached with PRIVMSG, and
with the NS/NICKSERV and CS/CHANSERV commands many clients alias.
"""

from __future__ import annotations

from hubbub.protocol import Message, casefold
from hubbub.protocol.numerics import ERR_NOSUCHNICK
from hubbub.store.base import Account

from ..accounts.service import Pending, Refused
from ..dispatch import CommandTable, Context
from ..login import current_account, logged_in
from ..services import SERVICES

table = CommandTable()


def _too_early(ctx: Context, account: str) -> bool:
    """FAIL COMPLETE_CONNECTION_REQUIRED when registering cannot happen yet."""
    reg = ctx.session.registration
    if reg is None:
        return False
    if ctx.server.config.accounts.registration_before_connect and reg.pass_ok:
        return False
    ctx.standard_reply("FAIL", "COMPLETE_CONNECTION_REQUIRED", account,
                       text="Finish connecting first, then register")  # fmt: skip
    return True


@table("REGISTER", min_params=3, pre_reg=True)
def register(ctx: Context, msg: Message) -> None:
    """REGISTER <account|*> <email|*> <password>"""
    requested, email_arg, password = msg.params[:3]
    accounts = ctx.server.accounts
    if not accounts.registration_open:
        ctx.standard_reply("FAIL", "TEMPORARILY_UNAVAILABLE", requested,
                           text="Registering accounts is turned off here")  # fmt: skip
        return
    if _too_early(ctx, requested):
        return
    session = ctx.session
    reg = session.registration
    nick = session.user.nick if session.user else (reg.nick or reg.asked_nick if reg else None)
    if requested == "*":
        if nick is None:
            ctx.standard_reply("FAIL", "NEED_NICK", "*", text="Choose a nick (NICK) first")
            return
        requested = nick
    elif nick is None or casefold(requested) != casefold(nick):
        ctx.standard_reply("FAIL", "ACCOUNT_NAME_MUST_BE_NICK", requested,
                           text="An account is named after your nick: REGISTER * ...")  # fmt: skip
        return
    if current_account(ctx) is not None:
        ctx.standard_reply("FAIL", "ALREADY_AUTHENTICATED", requested,
                           text="You are already logged in")  # fmt: skip
        return
    holder = ctx.server.network.user(requested)
    if holder is not None and holder is not session.user:
        ctx.standard_reply("FAIL", "ACCOUNT_EXISTS", requested,
                           text="Someone is using that nick")  # fmt: skip
        return
    email = None if email_arg == "*" else email_arg

    def answer(result: Account | Pending | Refused) -> None:
        if session.closing:
            return
        if isinstance(result, Account):
            logged_in(ctx, result.name)
            ctx.send("REGISTER", "SUCCESS", result.name, "Account created")
        elif isinstance(result, Pending):
            ctx.send("REGISTER", "VERIFICATION_REQUIRED", result.name,
                     f"A code was sent to {email}: VERIFY {result.name} <code>")  # fmt: skip
        else:
            ctx.standard_reply("FAIL", result.code, requested, text=result.text)
        ctx.finish()

    ctx.defer()
    accounts.register(requested, email, password, session.ip, answer)


@table("VERIFY", min_params=2, pre_reg=True)
def verify(ctx: Context, msg: Message) -> None:
    """VERIFY <account> <code>"""
    name, code = msg.params[0], msg.params[1]
    if not ctx.server.accounts.enabled:
        ctx.standard_reply("FAIL", "TEMPORARILY_UNAVAILABLE", name,
                           text="There are no accounts here")  # fmt: skip
        return
    if _too_early(ctx, name):
        return
    if current_account(ctx) is not None:
        ctx.standard_reply("FAIL", "ALREADY_AUTHENTICATED", name,
                           text="You are already logged in")  # fmt: skip
        return

    def answer(result: Account | Refused) -> None:
        if ctx.session.closing:
            return
        if isinstance(result, Account):
            logged_in(ctx, result.name)
            ctx.send("VERIFY", "SUCCESS", result.name, "Account verified")
        else:
            ctx.standard_reply("FAIL", result.code, name, text=result.text)
        ctx.finish()

    ctx.defer()
    ctx.server.accounts.verify(name, code, ctx.session.ip, answer)


def _alias(service: str, name: str) -> None:
    """``name`` (NICKSERV, NS, ...) runs the rest of the line as a line to ``service``."""

    def command(ctx: Context, msg: Message) -> None:
        if casefold(service) not in ctx.server.service_nicks:
            ctx.reply(ERR_NOSUCHNICK, service, "No such nick/channel")
            return
        SERVICES[casefold(service)](ctx, " ".join(msg.params))

    command.__doc__ = f"{name} <command> [<arguments>]: talk to {service}"
    table(name)(command)


for _service, _names in (("NickServ", ("NICKSERV", "NS")), ("ChanServ", ("CHANSERV", "CS"))):
    for _name in _names:
        _alias(_service, _name)
