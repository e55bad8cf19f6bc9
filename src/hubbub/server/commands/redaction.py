"""Withdrawing a message: REDACT (IRCv3 draft/message-redaction).

Who may: the message's author (the same connection, or the same account),
and in a channel also its operators. The message is looked up in history
(on a worker thread), so only stored messages (PRIVMSG, NOTICE, TAGMSG) can
be redacted; the permission is checked against the channel as it is when
the answer comes back. A redaction travels the one road as an event: the
history store withdraws the text, and clients with the capability in the
conversation are told (clients without it are not: the spec forbids it).
"""

from __future__ import annotations

from hubbub.events import MessageRedacted
from hubbub.protocol import Message, casefold, is_channel_name, is_valid_nick
from hubbub.store.base import REDACTABLE_KINDS, Author, Scope

from ..dispatch import CommandTable, Context
from ..limits import CHANNELLEN, NICKLEN
from ..state import User
from .history import viewer_keys

table = CommandTable()


def is_author(user: User, author: Author) -> bool:
    """Whether ``user`` sent the message: same connection, or same account."""
    if author.uid == user.uid:
        return True
    return bool(user.account and author.account and casefold(user.account) ==
                casefold(author.account))  # fmt: skip


@table("REDACT", min_params=2)
def redact(ctx: Context, msg: Message) -> None:
    """REDACT <target> <msgid> [<reason>]"""
    target, msgid = msg.params[0], msg.params[1]
    reason = msg.params[2] if len(msg.params) > 2 else ""
    user, network = ctx.user, ctx.server.network
    if not ctx.server.config.history.enabled:
        ctx.standard_reply("FAIL", "UNKNOWN_MSGID", target, msgid,
                           text="This server keeps no messages to delete")  # fmt: skip
        return
    if is_channel_name(target, CHANNELLEN):
        chan = network.channel(target)
        if chan is None or user not in chan.members:
            ctx.standard_reply("FAIL", "INVALID_TARGET", target,
                               text=f"You cannot delete messages from {target}")  # fmt: skip
            return
        scope = Scope.of_channel(chan.name_cf, REDACTABLE_KINDS)
    elif is_valid_nick(target, NICKLEN):
        scope = Scope.of_private(viewer_keys(user), casefold(target), REDACTABLE_KINDS)
    else:
        ctx.standard_reply("FAIL", "INVALID_TARGET", target,
                           text=f"You cannot delete messages from {target}")  # fmt: skip
        return
    store = ctx.server.history
    store.commit()

    def answer(author: Author | None) -> None:
        if author is None:
            ctx.standard_reply("FAIL", "UNKNOWN_MSGID", target, msgid,
                               text="This message does not exist or is too old")  # fmt: skip
            return
        chan = network.channel(target) if scope.channel is not None else None
        if scope.channel is not None and (chan is None or user not in chan.members):
            ctx.standard_reply("FAIL", "INVALID_TARGET", target,
                               text=f"You cannot delete messages from {target}")  # fmt: skip
            return
        if not is_author(user, author) and not (chan is not None and chan.is_op(user)):
            ctx.standard_reply("FAIL", "REDACT_FORBIDDEN", target, msgid,
                               text="You are not authorised to delete this message")  # fmt: skip
            return
        peer = network.user(target) if chan is None else None
        ctx.publish(
            MessageRedacted(*ctx.stamp(), user.uid, user.source, chan.name if chan else target,
                            chan.name if chan else "", peer.uid if peer else "", msgid, reason)
        )  # fmt: skip

    def failed(exc: Exception) -> None:
        ctx.standard_reply("FAIL", "UNKNOWN_MSGID", target, msgid,
                           text="The message could not be looked up")  # fmt: skip

    ctx.run_blocking(lambda: store.author(scope, msgid), answer, failed)
