"""SASL (IRCv3 SASL 3.2): AUTHENTICATE with PLAIN, SCRAM-SHA-256 and EXTERNAL.

Theory of operation
-------------------
``AUTHENTICATE <mechanism>`` starts an exchange (:class:`~..accounts.sasl.Exchange`,
held on the session); the server answers ``AUTHENTICATE +`` and the client
sends its payload in base64 chunks of up to 400 bytes (a full chunk means
more follows; ``+`` ends an exactly-full payload). ``AUTHENTICATE *``
aborts (906); a chunk over 400 bytes is 905; a payload that will not decode,
or passes 8 KB, fails the exchange (904) without buffering any more.

What needs the disk or argon2 runs on a worker thread (:mod:`..accounts.service`):
the command is deferred and answered when the result is back, and the
client's next lines wait for that answer (:meth:`Context.defer`): a client
that sends ``CAP END`` right after its credentials is registered after the
answer, logged in or not.

Success sends 900 and 903 (and logs in: :mod:`..login`); failure 904, with
the reason when it is the throttle. The client may try again, and may log
in again after registration, to the same account or another (3.2's
re-authentication). Neither the payload nor the password is ever logged.
"""

from __future__ import annotations

import logging

from hubbub.auth.chunks import Read, encode_chunks
from hubbub.auth.scram import ScramCredentials, ScramError, ScramServer, parse_client_first
from hubbub.protocol import Message, casefold
from hubbub.protocol.numerics import (
    ERR_SASLABORTED,
    ERR_SASLFAIL,
    ERR_SASLTOOLONG,
    RPL_SASLMECHS,
    RPL_SASLSUCCESS,
)
from hubbub.store.base import Account

from ..accounts.sasl import EXTERNAL, PLAIN, SCRAM, Exchange
from ..accounts.service import Refused
from ..dispatch import CommandTable, Context
from ..login import logged_in

log = logging.getLogger(__name__)
table = CommandTable()
_FAILED = "SASL authentication failed"


def offered_mechanisms(ctx: Context) -> list[str]:
    """The mechanisms this server offers (the ``sasl`` capability's value)."""
    value = ctx.server.caps.get("sasl")
    return value.split(",") if value else []


@table("AUTHENTICATE", min_params=1, pre_reg=True)
def authenticate(ctx: Context, msg: Message) -> None:
    """AUTHENTICATE <mechanism> | AUTHENTICATE <base64 chunk> | AUTHENTICATE *"""
    session = ctx.session
    arg = msg.params[0]
    mechanisms = offered_mechanisms(ctx)
    if not mechanisms or "sasl" not in session.caps:
        ctx.reply(ERR_SASLFAIL, f"{_FAILED}: request the sasl capability first")
        return
    exchange = session.sasl
    if exchange is None:
        if arg == "*":
            ctx.reply(ERR_SASLABORTED, "SASL authentication aborted")
            return
        mechanism = arg.upper()
        if mechanism not in mechanisms:
            ctx.server.meters.sasl.record(mechanism, "failure")
            ctx.reply(RPL_SASLMECHS, ",".join(mechanisms), "are available SASL mechanisms")
            ctx.reply(ERR_SASLFAIL, _FAILED)
            return
        session.sasl = Exchange(mechanism)
        ctx.send("AUTHENTICATE", "+")
        return
    if arg == "*":
        ctx.server.meters.sasl.record(exchange.mechanism, "aborted")
        _drop(ctx)
        ctx.reply(ERR_SASLABORTED, "SASL authentication aborted")
        return
    read = exchange.reader.feed(arg)
    if read is Read.MORE:
        return
    if read is Read.TOO_LONG:
        ctx.server.meters.sasl.record(exchange.mechanism, "failure")
        _drop(ctx)
        ctx.reply(ERR_SASLTOOLONG, "SASL message too long")
    elif read is not Read.DONE:
        _fail(ctx)
    else:
        exchange.step += 1
        _STEPS[exchange.mechanism](ctx, exchange, exchange.reader.payload)


def _drop(ctx: Context) -> None:
    ctx.session.sasl = None


def _fail(ctx: Context, reason: str | None = None) -> None:
    exchange = ctx.session.sasl
    if exchange is not None:
        ctx.server.meters.sasl.record(exchange.mechanism, "failure")
    _drop(ctx)
    ctx.reply(ERR_SASLFAIL, f"{_FAILED}: {reason}" if reason else _FAILED)


def _succeed(ctx: Context, account: str) -> None:
    exchange = ctx.session.sasl
    mechanism = exchange.mechanism if exchange is not None else "?"
    ctx.server.meters.sasl.record(mechanism, "success")
    log.info("%s logged in to %s with SASL %s", ctx.session.ip, account, mechanism, extra={
        "event": "account.login", "client_id": ctx.session.client_id,
        "address": ctx.session.ip, "account": account, "mechanism": mechanism,
    })  # fmt: skip
    _drop(ctx)
    logged_in(ctx, account, (RPL_SASLSUCCESS, "SASL authentication successful"))


def _wait(ctx: Context) -> None:
    """The answer comes from a worker thread (the client's next lines wait)."""
    ctx.defer()


def _answered(ctx: Context, exchange: Exchange) -> bool:
    """The worker answered: False if there is nobody to tell any more."""
    return not ctx.session.closing and ctx.session.sasl is exchange


# --- PLAIN (RFC 4616) -----------------------------------------------------------


def _plain(ctx: Context, exchange: Exchange, payload: bytes) -> None:
    # authzid NUL authcid NUL password: a NUL in the password makes four parts.
    parts = payload.split(b"\0")
    try:
        authzid, authcid, password = (p.decode("utf-8") for p in parts)
    except (UnicodeDecodeError, ValueError):
        _fail(ctx)
        return
    if not authcid or not password:
        _fail(ctx)
        return
    if authzid and casefold(authzid) != casefold(authcid):
        _fail(ctx, "you may only log in as yourself")
        return

    def answer(result: Account | Refused) -> None:
        if not _answered(ctx, exchange):
            return
        if isinstance(result, Account):
            _succeed(ctx, result.name)
        else:
            _fail(ctx, None if result.code == "FAILED" else result.text)
        ctx.finish()

    _wait(ctx)
    ctx.server.accounts.login_password(authcid, password, ctx.session.ip, answer)


# --- EXTERNAL (RFC 4422 appendix A): a TLS client certificate -------------------


def _external(ctx: Context, exchange: Exchange, payload: bytes) -> None:
    fp = ctx.session.certfp
    if fp is None:
        _fail(ctx, "you did not present a TLS client certificate")
        return
    try:
        authzid = payload.decode("utf-8")
    except UnicodeDecodeError:
        _fail(ctx)
        return

    def answer(result: Account | Refused) -> None:
        if not _answered(ctx, exchange):
            return
        if isinstance(result, Refused):
            _fail(ctx, result.text)
        elif authzid and casefold(authzid) != casefold(result.name):
            _fail(ctx, "this certificate belongs to another account")
        else:
            _succeed(ctx, result.name)
        ctx.finish()

    _wait(ctx)
    ctx.server.accounts.login_certfp(fp, answer)


# --- SCRAM-SHA-256 (RFC 7677) ---------------------------------------------------


def _scram(ctx: Context, exchange: Exchange, payload: bytes) -> None:
    if exchange.step == 1:
        _scram_first(ctx, exchange, payload)
    elif exchange.step == 2:
        _scram_final(ctx, exchange, payload)
    elif payload == b"" and exchange.account is not None:
        _succeed(ctx, exchange.account)
    else:
        _fail(ctx)


def _scram_first(ctx: Context, exchange: Exchange, payload: bytes) -> None:
    try:
        first = parse_client_first(payload)
    except ScramError:
        _fail(ctx)
        return
    if first.authzid and casefold(first.authzid) != casefold(first.username):
        _fail(ctx, "you may only log in as yourself")
        return

    def answer(result: tuple[Account | None, ScramCredentials] | Refused) -> None:
        if not _answered(ctx, exchange):
            return
        if isinstance(result, Refused):
            _fail(ctx, result.text)
        else:
            account, creds = result
            exchange.account = account.name if account is not None else None
            exchange.scram = ScramServer(first, creds)
            _challenge(ctx, exchange.scram.server_first.encode())
        ctx.finish()

    _wait(ctx)
    ctx.server.accounts.scram_credentials(first.username, ctx.session.ip, answer)


def _scram_final(ctx: Context, exchange: Exchange, payload: bytes) -> None:
    server = exchange.scram
    assert server is not None
    try:
        final = server.final(payload)
    except ScramError:
        final = None
    if final is None or exchange.account is None:
        ctx.server.accounts.login_failed(server.first.username, ctx.session.ip)
        _fail(ctx)
        return
    ctx.server.accounts.throttle.succeeded(exchange.account)
    _challenge(ctx, final.encode())


def _challenge(ctx: Context, data: bytes) -> None:
    for chunk in encode_chunks(data):
        ctx.send("AUTHENTICATE", chunk)


_STEPS = {PLAIN: _plain, SCRAM: _scram, EXTERNAL: _external}
