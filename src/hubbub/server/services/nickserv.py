"""NickServ: accounts for people whose client does not do it for them.

The commands irssi, WeeChat and HexChat users type: REGISTER, IDENTIFY
(``IDENTIFY <password>`` for the account of the current nick, or
``IDENTIFY <account> <password>``), LOGOUT, GHOST, DROP, INFO,
SET PASSWORD, CERT ADD/DEL/LIST and VERIFY. Everything slow (hashing,
reading the store) runs on worker threads through ``Server.accounts``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hubbub.events import AccountChanged, ChannelAccessChanged, ChannelRegistered, Killed
from hubbub.protocol import casefold
from hubbub.store.base import Account

from ..accounts.service import Pending, Refused
from ..login import logged_in, logged_out
from ..service_names import NICKSERV, NICKSERV_SOURCE
from .base import Request, Service

nickserv = Service(NICKSERV, "keeps accounts: your nick, your password, your certificates.")

_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_UNAVAILABLE = "Accounts are unavailable right now; try again later."


def _date(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _needs_login(req: Request) -> str | None:
    """The account the asker is logged in to; None (after saying so) if none."""
    account = req.user.account
    if account is None:
        req.say(f"Log in first: /msg {NICKSERV} IDENTIFY <account> <password>")
    return account


@nickserv.command(
    "REGISTER", "<password> [<email>]",
    "Registers your current nick as an account, with this password. From then on "
    "the nick is yours alone: log in with SASL, or with IDENTIFY.", 1,
)  # fmt: skip
def register(req: Request, args: list[str]) -> None:
    """REGISTER <password> [<email>]"""
    user = req.user
    if user.account is not None:
        req.say(f"You are already logged in as {user.account}.")
        return
    email = args[1] if len(args) > 1 else None
    name = user.nick

    def answer(result: Account | Pending | Refused) -> None:
        if isinstance(result, Account):
            logged_in(req.ctx, result.name)
            req.say(f"Account created: you are logged in as {result.name}, and the nick "
                    f"{result.name} is yours. Next time log in with SASL, or with "
                    f"/msg {NICKSERV} IDENTIFY {result.name} <password>")  # fmt: skip
        elif isinstance(result, Pending):
            req.say(f"A code was mailed to {email}. To finish: "
                    f"/msg {NICKSERV} VERIFY {result.name} <code>")  # fmt: skip
        elif result.code == "INVALID_EMAIL" and email is None:
            req.say(f"An e-mail address is required here: /msg {NICKSERV} REGISTER "
                    "<password> <email>")  # fmt: skip
        else:
            req.say(result.text + ".")
        req.finish()

    req.defer()
    req.ctx.server.accounts.register(name, email, args[0], req.ctx.session.ip, answer)


@nickserv.command(
    "VERIFY", "<account> <code>", "Finishes a registration with the code that was mailed to you.", 2
)
def verify(req: Request, args: list[str]) -> None:
    """VERIFY <account> <code>"""
    if req.user.account is not None:
        req.say(f"You are already logged in as {req.user.account}.")
        return

    def answer(result: Account | Refused) -> None:
        if isinstance(result, Account):
            logged_in(req.ctx, result.name)
            req.say(f"Account {result.name} verified: you are logged in.")
        else:
            req.say(result.text + ".")
        req.finish()

    req.defer()
    req.ctx.server.accounts.verify(args[0], args[1], req.ctx.session.ip, answer)


@nickserv.command(
    "IDENTIFY", "[<account>] <password>",
    "Logs you in to an account (without an account name: the one named like your nick).", 1,
)  # fmt: skip
def identify(req: Request, args: list[str]) -> None:
    """IDENTIFY [<account>] <password>"""
    name, password = (args[0], args[1]) if len(args) > 1 else (req.user.nick, args[0])
    current = req.user.account
    if current is not None and casefold(current) == casefold(name):
        req.say(f"You are already logged in as {current}.")
        return

    def answer(result: Account | Refused) -> None:
        if isinstance(result, Account):
            logged_in(req.ctx, result.name)
            req.say(f"You are now logged in as {result.name}.")
        elif result.code == "FAILED":
            req.say("Invalid account name or password.")
        else:
            req.say(result.text + ".")
        req.finish()

    req.defer()
    req.ctx.server.accounts.login_password(name, password, req.ctx.session.ip, answer)


nickserv.alias("LOGIN", "IDENTIFY")


@nickserv.command("LOGOUT", "", "Logs you out of your account.")
def logout(req: Request, args: list[str]) -> None:
    """LOGOUT"""
    if _needs_login(req) is not None:
        logged_out(req.ctx)
        req.say("You are now logged out.")


@nickserv.command(
    "GHOST", "<nick> [<password>]",
    "Disconnects whoever uses a nick of your account (an old connection of "
    "yours, say), so you can take it. Logged in, no password is needed.", 1,
)  # fmt: skip
def ghost(req: Request, args: list[str]) -> None:
    """GHOST <nick> [<password>]"""
    ctx, user = req.ctx, req.user
    target = ctx.server.network.user(args[0])
    if target is None:
        req.say(f"{args[0]} is not online.")
        return
    if target is user:
        req.say("You cannot ghost yourself.")
        return
    owner = ctx.server.accounts.owner(target.nick)
    mine = user.account is not None and any(
        name is not None and casefold(name) == casefold(user.account)
        for name in (owner, target.account)
    )

    def kill() -> None:
        reason = f"GHOST command used by {user.nick}"
        ctx.publish(Killed(*ctx.stamp(), user.uid, NICKSERV_SOURCE, target.uid, target.nick,
                           reason))  # fmt: skip
        req.say(f"{target.nick} has been disconnected.")

    if mine:
        kill()
        return
    if owner is None or len(args) < 2:
        req.say(f"{target.nick} is not a nick of your account.")
        return

    def answer(result: Account | Refused) -> None:
        if isinstance(result, Refused):
            req.say(result.text + "." if result.code != "FAILED" else "Invalid password.")
        elif target.present:  # wherever it is connected (another node of a cluster too)
            kill()
        else:
            req.say(f"{args[0]} is not online any more.")
        req.finish()

    req.defer()
    ctx.server.accounts.login_password(owner, args[1], ctx.session.ip, answer)


@nickserv.command(
    "DROP", "<account> [<password>]",
    "Deletes an account for good, with its certificates and channel registrations. "
    "The owner gives the password; an IRC operator needs none.", 1,
)  # fmt: skip
def drop(req: Request, args: list[str]) -> None:
    """DROP <account> [<password>]"""
    ctx, name = req.ctx, args[0]
    accounts = ctx.server.accounts
    if accounts.owner(name) is None:
        req.say(f"There is no account {name}.")
        return
    if len(args) < 2:
        if req.user.oper is None:
            req.say(f"Syntax: DROP {name} <password>")
            return
        _drop(req, accounts.owner(name) or name)
        return

    def answer(result: Account | Refused) -> None:
        if isinstance(result, Refused):
            req.say(result.text + "." if result.code != "FAILED" else "Invalid password.")
            req.finish()
        else:
            _drop(req, result.name)

    req.defer()
    accounts.login_password(name, args[1], ctx.session.ip, answer)


def _drop(req: Request, name: str) -> None:
    """Delete ``name`` (the answer is deferred until the store has), then
    :func:`_dropped`."""

    def answer(dropped: bool | None) -> None:
        if dropped is None:
            req.say(_UNAVAILABLE)
        elif not dropped:
            req.say(f"There is no account {name}.")
        else:
            _dropped(req, name)
        req.finish()

    req.defer()
    req.ctx.server.accounts.drop(name, answer)


def _dropped(req: Request, name: str) -> None:
    """``name`` is gone: log its users out, unregister its channels, take its access away."""
    ctx = req.ctx
    server = ctx.server
    cf = casefold(name)
    for chan in list(server.network.channels.values()):
        reg = chan.registration
        if reg is None:
            continue
        if reg.is_founder(name):
            ctx.publish(ChannelRegistered(*ctx.stamp(), req.user.uid, NICKSERV_SOURCE, chan.name,
                                          None))  # fmt: skip
        elif cf in reg.access:
            ctx.publish(ChannelAccessChanged(*ctx.stamp(), req.user.uid, NICKSERV_SOURCE,
                                             chan.name, name, ""))  # fmt: skip
    for other in list(server.network.users.values()):
        if other is req.user or other.account is None or casefold(other.account) != cf:
            continue
        server.pipeline.publish(AccountChanged(*server.stamp(), other.uid, other.source, None))
    if req.user.account is not None and casefold(req.user.account) == cf:
        logged_out(ctx)
    req.say(f"The account {name} is dropped.")


@nickserv.command("INFO", "[<account>]", "Tells about an account (yours without a name).")
def info(req: Request, args: list[str]) -> None:
    """INFO [<account>]"""
    ctx = req.ctx
    name = args[0] if args else req.user.account
    if name is None:
        req.say("You are not logged in. Syntax: INFO <account>")
        return
    accounts = ctx.server.accounts
    if accounts.owner(name) is None:
        req.say(f"There is no account {name}.")
        return

    def answer(result: Account | Refused | None) -> None:
        if isinstance(result, Refused) or result is None:
            req.say(_UNAVAILABLE if result is not None else f"There is no account {name}.")
            req.finish()
            return
        viewer = req.user
        own = viewer.account is not None and casefold(viewer.account) == casefold(result.name)
        req.say(f"Account {result.name}, registered {_date(result.created)}.")
        online = sorted(u.nick for u in ctx.server.network.users.values()
                        if u.account is not None and casefold(u.account) == casefold(result.name))
        req.say(f"Logged in now as: {', '.join(online)}." if online else "Not logged in now.")
        if own or viewer.oper is not None:
            req.say(f"E-mail: {result.email or '(none)'}.")
            req.say(f"Client certificates: {len(result.certfps)}.")
        founded = sorted(c.name for c in ctx.server.network.channels.values()
                         if c.registration is not None and c.registration.is_founder(result.name))
        if founded:
            req.say(f"Founder of: {' '.join(founded)}.")
        req.finish()

    req.defer()
    accounts.get(name, answer)


@nickserv.command("SET", "PASSWORD <new password>", "Changes your password.", 2)
def set_(req: Request, args: list[str]) -> None:
    """SET PASSWORD <new password>"""
    if args[0].upper() != "PASSWORD":
        req.say("Only SET PASSWORD <new password> is known.")
        return
    account = _needs_login(req)
    if account is None:
        return

    def answer(result: Refused | None) -> None:
        req.say("Password changed." if result is None else result.text + ".")
        req.finish()

    req.defer()
    req.ctx.server.accounts.set_password(account, args[1], answer)


@nickserv.command(
    "CERT", "LIST | ADD [<fingerprint>] | DEL <fingerprint>",
    "Manages the TLS client certificates that log you in (SASL EXTERNAL). ADD "
    "without a fingerprint adds the certificate of this connection.", 1,
)  # fmt: skip
def cert(req: Request, args: list[str]) -> None:
    """CERT LIST | ADD [<fingerprint>] | DEL <fingerprint>"""
    account = _needs_login(req)
    if account is None:
        return
    accounts = req.ctx.server.accounts
    sub = args[0].upper()
    if sub == "LIST":

        def answer(result: Account | Refused | None) -> None:
            if isinstance(result, Account):
                for fp in result.certfps:
                    req.say(f"  {fp}")
                req.say(f"{len(result.certfps)} certificate(s) log in to {account}.")
            else:
                req.say(_UNAVAILABLE)
            req.finish()

        req.defer()
        accounts.get(account, answer)
        return
    if sub not in ("ADD", "DEL"):
        req.say("Syntax: CERT LIST | ADD [<fingerprint>] | DEL <fingerprint>")
        return
    fp = (args[1] if len(args) > 1 else req.ctx.session.certfp or "").lower().replace(":", "")
    if not _FINGERPRINT.match(fp):
        req.say("Give a SHA-256 fingerprint (64 hex digits), or connect with your "
                "certificate and use CERT ADD alone.")  # fmt: skip
        return
    if sub == "ADD":
        change = accounts.add_certfp
        said = {True: f"Certificate {fp} now logs in to {account}.",
                False: "That certificate already logs in to an account."}  # fmt: skip
    else:
        change = accounts.del_certfp
        said = {True: f"Certificate {fp} removed.",
                False: f"{fp} is not one of {account}'s certificates."}  # fmt: skip

    def changed(done: bool | None) -> None:
        req.say(_UNAVAILABLE if done is None else said[done])
        req.finish()

    req.defer()
    change(account, fp, changed)
