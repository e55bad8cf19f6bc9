"""Logging in and out, wherever it happens: SASL, REGISTER, VERIFY, NickServ.

Before connection registration a login only marks the registration (the
account goes into :class:`~hubbub.events.UserRegistered`); after it, a
login is an :class:`~hubbub.events.AccountChanged` event like any other
change, and ChanServ gives the status the account has in the registered
channels the user is already in.
"""

from __future__ import annotations

from hubbub.events import AccountChanged, ChannelModeChanged
from hubbub.protocol import casefold
from hubbub.protocol.numerics import RPL_LOGGEDIN, RPL_LOGGEDOUT

from .dispatch import Context
from .server import Server
from .service_names import CHANSERV_SOURCE
from .state import User


def current_account(ctx: Context) -> str | None:
    """The account the client is logged in to, registered or not."""
    session = ctx.session
    if session.user is not None:
        return session.user.account
    return session.registration.account if session.registration is not None else None


def logged_in(ctx: Context, account: str, *also: tuple[str, str]) -> None:
    """``ctx``'s client has proved ``account``: say so (900, then the numerics
    ``also`` gives, such as 903) and log it in."""
    session = ctx.session
    reg = session.registration
    user = session.user
    mask = user.source if user is not None else (
        f"{reg.nick or '*'}!{reg.username or '*'}@{session.ip}" if reg else "*"
    )  # fmt: skip
    ctx.reply(RPL_LOGGEDIN, mask, account, f"You are now logged in as {account}")
    for numeric, text in also:
        ctx.reply(numeric, text)
    if reg is not None:
        reg.account = account
    elif user is not None and (user.account is None or casefold(user.account) != casefold(account)):

        def status(applied: bool) -> None:
            if applied:
                give_status(ctx.server, user)

        ctx.publish(AccountChanged(*ctx.stamp(), user.uid, user.source, account), status)


def logged_out(ctx: Context) -> None:
    """Log the client out of its account (901)."""
    session = ctx.session
    user = session.user
    ctx.reply(RPL_LOGGEDOUT, user.source if user else f"*!*@{session.ip}", "You are now logged out")
    if session.registration is not None:
        session.registration.account = None
    elif user is not None and user.account is not None:
        ctx.publish(AccountChanged(*ctx.stamp(), user.uid, user.source, None))


def give_status(server: Server, user: User) -> None:
    """ChanServ gives ``user`` the status its account has in the registered
    channels it is in (after a login, or a grant)."""
    for chan in list(user.channels.values()):
        reg = chan.registration
        if reg is None or chan.server_room:
            continue
        held = chan.members.get(user, "")
        missing = [m for m in reg.status_for(user.account) if m not in held]
        if missing:
            changes = tuple((True, m, user.nick) for m in missing)
            server.pipeline.publish(
                ChannelModeChanged(*server.stamp(), "", CHANSERV_SOURCE, chan.name, changes)
            )
