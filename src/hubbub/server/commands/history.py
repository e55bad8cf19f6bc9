"""Reading history: CHATHISTORY (IRCv3 draft/chathistory, draft/event-playback).

Who may read what, decided here before any query runs:

* a channel's history is readable by its members, all of it (also what was
  said before they joined); a non-member reads none of it, whatever the
  channel's modes, and is told ``INVALID_TARGET`` as for a channel that does
  not exist (so the answer says nothing about channels one is not in);
  STATUSMSG lines (``@#chan``) only by members of that rank now;
* a private conversation only by its two parties: the query is confined to
  rows whose owner is the asker's identity (its account when logged in,
  else this connection), whatever nick it names.

The query runs on a worker thread; the session handles no further line of
the client until the batch is queued, so replies stay in order.
"""

from __future__ import annotations

from collections.abc import Callable

from hubbub.protocol import Message, casefold, is_channel_name, is_valid_nick
from hubbub.store.base import (
    MESSAGE_KINDS,
    PLAYBACK_KINDS,
    Found,
    HistoryStore,
    Ref,
    Scope,
    Target,
)

from ..dispatch import CommandTable, Context
from ..ids import parse_server_time, server_time
from ..limits import CHANNELLEN, CHATHISTORY_MAX, NICKLEN
from ..playback import add_batch, add_history
from ..recorder import party_key
from ..state import PREFIX_ORDER, PREFIXES, Channel, User

table = CommandTable()

#: Subcommand -> how many parameters it takes after its name.
_ARITY = {"LATEST": 3, "BEFORE": 3, "AFTER": 3, "AROUND": 3, "BETWEEN": 4, "TARGETS": 3}


def viewer_keys(user: User) -> tuple[str, ...]:
    """The identities whose private history ``user`` may read."""
    keys = (f"u:{user.uid}",)
    account_key = party_key(user)
    return keys if account_key in keys else (*keys, account_key)


def readable_statuses(chan: Channel, user: User) -> tuple[str, ...]:
    """The STATUSMSG prefixes ``user`` receives in ``chan`` (its rank and below)."""
    modes = chan.members.get(user, "")
    if not modes:
        return ()
    return tuple(PREFIXES[m] for m in PREFIX_ORDER[PREFIX_ORDER.index(modes[0]) :])


def kinds_for(ctx: Context) -> tuple[str, ...]:
    """What this client is sent from history: events too with draft/event-playback."""
    return PLAYBACK_KINDS if "draft/event-playback" in ctx.session.caps else MESSAGE_KINDS


def history_scope(ctx: Context, target: str) -> Scope | None:
    """The scope ``target`` names for this user, or None if it may not read it."""
    user, kinds = ctx.user, kinds_for(ctx)
    if is_channel_name(target, CHANNELLEN):
        chan = ctx.server.network.channel(target)
        if chan is None or user not in chan.members:
            return None
        return Scope.of_channel(chan.name_cf, kinds, readable_statuses(chan, user))
    if target != "*" and not is_valid_nick(target, NICKLEN):
        return None
    return Scope.of_private(viewer_keys(user), "*" if target == "*" else casefold(target), kinds)


def parse_ref(text: str) -> Ref | None:
    """``msgid=...`` or ``timestamp=...`` -> a Ref; None if it is neither."""
    kind, sep, value = text.partition("=")
    if not sep or not value:
        return None
    if kind == "msgid":
        return Ref(msgid=value)
    if kind == "timestamp":
        ms = parse_server_time(value)
        return None if ms is None else Ref(time_ms=ms)
    return None


def parse_limit(text: str) -> int | None:
    """A positive message count, capped at :data:`CHATHISTORY_MAX`."""
    if not text.isdigit() or int(text) < 1:
        return None
    return min(int(text), CHATHISTORY_MAX)


def _fail(ctx: Context, code: str, *context: str, text: str) -> None:
    ctx.standard_reply("FAIL", code, *context, text=text)


@table("CHATHISTORY")
def chathistory(ctx: Context, msg: Message) -> None:
    """CHATHISTORY <LATEST|BEFORE|AFTER|AROUND> <target> <msgid=x|timestamp=t|*> <limit>
    | CHATHISTORY BETWEEN <target> <ref> <ref> <limit>
    | CHATHISTORY TARGETS <timestamp=t> <timestamp=t> <limit>"""
    params = msg.params
    if not params:
        _fail(ctx, "NEED_MORE_PARAMS", "*", text="Missing parameters")
        return
    sub = params[0].upper()
    arity = _ARITY.get(sub)
    if arity is None:
        _fail(ctx, "UNKNOWN_COMMAND", params[0], text="Unknown command")
        return
    if len(params) < 1 + arity or any(not p for p in params[1 : 1 + arity]):
        _fail(ctx, "NEED_MORE_PARAMS", sub, text="Missing parameters")
        return
    if not ctx.server.config.history.enabled:
        _fail(ctx, "MESSAGE_ERROR", sub, params[1], text="History is off on this server")
        return
    limit = parse_limit(params[arity])
    if limit is None:
        _fail(ctx, "INVALID_PARAMS", sub, params[arity], text="The limit must be a positive number")
        return
    if sub == "TARGETS":
        _targets(ctx, params[1], params[2], limit)
        return
    target = params[1]
    refs: list[Ref | None] = []
    for text in params[2:arity]:
        ref = None if (text == "*" and sub == "LATEST") else parse_ref(text)
        if ref is None and not (text == "*" and sub == "LATEST"):
            _fail(ctx, "INVALID_PARAMS", sub, text, text="Invalid message reference")
            return
        refs.append(ref)
    scope = history_scope(ctx, target)
    if scope is None:
        _fail(ctx, "INVALID_TARGET", sub, target, text="Messages could not be retrieved")
        return
    query = _query(ctx.server.history, sub, scope, refs, limit)
    network = ctx.server.network

    def answer(found: list[Found]) -> None:
        add_history(ctx.rb, found, network, "chathistory", (target,))

    _run(ctx, query, answer, sub, target)


def _query(
    store: HistoryStore, sub: str, scope: Scope, refs: list[Ref | None], limit: int
) -> Callable[[], list[Found]]:
    """The store call for a subcommand (run later, on a worker thread)."""
    first = refs[0]
    if sub == "LATEST":
        return lambda: store.latest(scope, first, limit)
    assert first is not None
    if sub == "BEFORE":
        return lambda: store.before(scope, first, limit)
    if sub == "AFTER":
        return lambda: store.after(scope, first, limit)
    if sub == "AROUND":
        return lambda: store.around(scope, first, limit)
    second = refs[1]
    assert second is not None
    return lambda: store.between(scope, first, second, limit)


def _run(
    ctx: Context, query: Callable[[], list[Found]] | Callable[[], list[Target]],
    answer: Callable[..., None], sub: str, target: str,
) -> None:  # fmt: skip
    """Commit what this turn recorded (the query must see it), then query on a
    worker thread; a database error is answered with MESSAGE_ERROR."""
    ctx.server.history.commit()

    def failed(exc: Exception) -> None:
        _fail(ctx, "MESSAGE_ERROR", sub, target, text="Messages could not be retrieved")

    ctx.run_blocking(query, answer, failed, query=sub.lower())


def _targets(ctx: Context, start: str, end: str, limit: int) -> None:
    """CHATHISTORY TARGETS: conversations with a message between two times."""
    times = [parse_ref(start), parse_ref(end)]
    for text, ref in zip((start, end), times, strict=True):
        if ref is None or ref.time_ms is None:
            _fail(ctx, "INVALID_PARAMS", "TARGETS", text, text="Expected timestamp=...")
            return
    low, high = sorted(ref.time_ms for ref in times if ref is not None and ref.time_ms is not None)
    user, network = ctx.user, ctx.server.network
    channels = tuple(user.channels)
    owners = viewer_keys(user)
    store = ctx.server.history

    def answer(found: list[Target]) -> None:
        lines = []
        for target in found:
            name = target.name
            if target.is_channel and (chan := network.channel(name)) is not None:
                name = chan.name
            when = server_time((target.time_ms + 0.5) / 1000)
            lines.append(Message("CHATHISTORY", ("TARGETS", name, when), ctx.server.name))
        add_batch(ctx.rb, "draft/chathistory-targets", (), lines)

    _run(ctx, lambda: store.targets(owners, channels, low, high, limit), answer, "TARGETS", "*")
