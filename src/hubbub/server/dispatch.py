"""The command table and the one gate every command passes through.

A handler is a plain function ``handler(ctx, msg)`` registered with its gate
data: how many parameters it needs, whether it may run before registration,
whether it needs an operator. :class:`Dispatcher` checks all of that once,
so no handler writes ERR_NEEDMOREPARAMS or ERR_NOTREGISTERED itself, and
catches any exception a handler raises: a bug disconnects one client, logged
with a traceback, and the server goes on.

A handler validates, answers errors through ``ctx.reply``, and on success
publishes an event (``ctx.publish``): it never changes the network state or
writes to another client itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from hubbub.events import Event
from hubbub.protocol import Message, reply_params
from hubbub.protocol.numerics import (
    ERR_NEEDMOREPARAMS,
    ERR_NOPRIVILEGES,
    ERR_NOTREGISTERED,
    ERR_UNKNOWNCOMMAND,
)
from hubbub.store.errors import DatabaseError

from .pipeline import Then
from .reply_buffer import ReplyBuffer
from .server import Server
from .session import Session
from .state import User

log = logging.getLogger(__name__)
T = TypeVar("T")


class Context(ReplyBuffer):
    """What a handler works with: the server, the session, the message, and
    the command's replies (a Context *is* the command's reply buffer: one
    object per command instead of two, on the path every line takes)."""

    __slots__ = ("_jobs", "commands", "deferred", "msg", "server")
    session: Session  # the ReplyBuffer's session, as the full Session

    def __init__(
        self, server: Server, session: Session, msg: Message, commands: dict[str, Command]
    ) -> None:
        self.session = session
        self.messages = []
        self.server = server
        self.msg = msg
        self.commands = commands
        self.deferred = False
        self._jobs = 0  # run_blocking calls not answered yet

    @property
    def rb(self) -> ReplyBuffer:
        """The command's reply buffer (the context itself)."""
        return self

    def defer(self) -> None:
        """The answer comes later (work on a thread): the dispatcher must not
        send the replies yet, and the client's next lines wait (the session
        is suspended); the handler calls :meth:`finish` when done."""
        self.deferred = True
        self.session.suspend()

    def finish(self) -> None:
        """Send the replies, labelled as the command asked (and, after a
        deferral, go on with the client's next lines). While a job or an
        event of the command is still pending, the last one to come back
        finishes instead."""
        if self._jobs:
            return
        if not self.session.closing:
            self.flush(self.msg.tags.get("label") if self.msg.tags else None)
        if self.deferred:
            self.session.resume()

    def hold(self) -> None:
        """An event this command published is on its way back from the bus
        (a cluster's log): wait for it as for a job on a worker thread."""
        self.defer()
        self._jobs += 1

    def release(self) -> None:
        """The event came back (applied and delivered, or lost a race): once
        nothing else is pending, send the replies and go on with the client."""
        self._jobs -= 1
        if self._jobs == 0:
            self.finish()

    def run_blocking(
        self,
        fn: Callable[[], T],
        then: Callable[[T], None],
        failed: Callable[[Exception], None] | None = None,
        *,
        query: str | None = None,
    ) -> None:
        """Run ``fn`` on a worker thread, then ``then(result)`` on the loop and
        send the replies. Nothing runs if the client left meanwhile; if ``fn``
        raised, ``failed(exc)`` answers instead (after the error is logged).
        ``then`` may itself call ``run_blocking``: the replies are sent when
        the last job has answered. ``query`` names a history read for the
        metrics (one of ``meters.HISTORY_QUERIES``): its time, from here to
        the answer, waiting for a thread included, is what the client waited."""
        self.defer()
        self._jobs += 1
        started = time.perf_counter()

        def attempt() -> tuple[bool, T | Exception]:
            try:
                return True, fn()
            except Exception as exc:
                return False, exc

        def answer(outcome: tuple[bool, T | Exception]) -> None:
            ok, value = outcome
            if query is not None:
                self.server.meters.history_queries.observe(
                    query, time.perf_counter() - started, ok
                )
            try:
                if self.session.closing:
                    return
                if ok:
                    then(value)  # type: ignore[arg-type]
                else:
                    assert isinstance(value, Exception)
                    # A database that cannot answer is a condition, said in one
                    # line (it names the database); anything else is a bug. A
                    # store read binds what clients send, never quotes it, so
                    # the message is safe to show the operator.
                    trace = None if isinstance(value, DatabaseError) else value
                    verb = self.msg.command.upper()
                    log.error("%s failed for %s: %s", verb, self.session.ip, value,
                              exc_info=trace, extra={**failure_fields(self.session, verb),
                              "event": "command.work_failed", "exc_private": False,
                              "reason": str(value)})  # fmt: skip
                    if failed is not None:
                        failed(value)
            except Exception:
                verb = self.msg.command.upper()
                log.exception("%s failed for %s; disconnecting it", verb, self.session.ip,
                              extra=failure_fields(self.session, verb))  # fmt: skip
                self.messages.clear()
                self.session.close("Internal server error")
            finally:
                self._jobs -= 1
                if self._jobs == 0:
                    self.finish()

        self.server.run_blocking(attempt, answer)

    @property
    def user(self) -> User:
        """The registered user (the gate guarantees one for most commands)."""
        user = self.session.user
        assert user is not None, "handler needs a registered user"
        return user

    def stamp(self) -> tuple[str, float]:
        """A new event's msgid and time."""
        return self.server.stamp()

    def publish(self, event: Event, then: Then | None = None) -> None:
        """Put ``event`` on the pipeline; the actor's copy joins these replies.
        ``then(applied)`` runs when the event is back, with the state it made
        (at once on one process; later on a cluster): whatever must read that
        state, or answer a lost race, goes there."""
        self.server.pipeline.publish(event, self, then)

    def reply(self, numeric: str, *params: str) -> None:
        """Queue a numeric addressed to the client. Parameters that echo the
        client's input are made valid (see :func:`reply_params`): a reply must
        never fail because of what it quotes."""
        params = reply_params((self.session.display_nick, *params))
        self.messages.append(Message(numeric, params, self.server.name))

    def send(self, command: str, *params: str, source: str | None = None) -> None:
        """Queue a non-numeric message from the server (or ``source``)."""
        self.messages.append(Message(command, reply_params(params), source or self.server.name))

    def standard_reply(self, kind: str, code: str, *context: str, text: str) -> None:
        """Queue an IRCv3 standard reply (FAIL, WARN or NOTE) for this command."""
        self.send(kind, self.msg.command.upper(), code, *context, text)


Handler = Callable[[Context, Message], None]


def failure_fields(session: Session, verb: str) -> dict[str, object]:
    """Log fields of a command that raised: the exception's message may
    quote what the client sent, so ``exc_private`` has the log show its
    type and where it was raised, never its text."""
    return {"event": "command.failed", "client_id": session.client_id, "address": session.ip,
            "command": verb, "exc_private": True}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Command:
    """A command's handler and its gate."""

    name: str
    handler: Handler
    min_params: int = 0
    pre_reg: bool = False
    oper: bool = False


class CommandTable:
    """A family's commands; ``@table("JOIN", min_params=1)`` registers one."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}

    def __call__(
        self, name: str, *, min_params: int = 0, pre_reg: bool = False, oper: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self.commands:
                raise ValueError(f"command {name} registered twice")
            self.commands[name] = Command(name, handler, min_params, pre_reg, oper)
            return handler

        return register


def merge(*tables: CommandTable) -> dict[str, Command]:
    """One table from the families; a verb defined twice is an import error."""
    out: dict[str, Command] = {}
    for table in tables:
        for name, cmd in table.commands.items():
            if name in out:
                raise ValueError(f"command {name} defined in two families")
            out[name] = cmd
    return out


class Dispatcher:
    """Gates and runs each command of a server's clients."""

    __slots__ = ("commands", "server")

    def __init__(self, server: Server, commands: dict[str, Command]) -> None:
        self.server = server
        self.commands = commands

    def run(self, session: Session, msg: Message) -> None:
        """Gate and run one command, then send its replies (labelled if asked)."""
        server = self.server
        ctx = Context(server, session, msg, self.commands)
        verb = msg.command.upper()
        cmd = self.commands.get(verb)
        registered = session.user is not None
        if cmd is None:
            if registered:
                ctx.reply(ERR_UNKNOWNCOMMAND, msg.command, "Unknown command")
            else:
                ctx.reply(ERR_NOTREGISTERED, "You have not registered")
        elif not registered and not cmd.pre_reg:
            ctx.reply(ERR_NOTREGISTERED, "You have not registered")
        elif len(msg.params) < cmd.min_params or (
            # An empty required parameter is a missing one ("JOIN :", "KICK #c :").
            cmd.min_params and msg.params[cmd.min_params - 1] == ""
        ):
            ctx.reply(ERR_NEEDMOREPARAMS, verb, "Not enough parameters")
        elif cmd.oper and (session.user is None or session.user.oper is None):
            ctx.reply(ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
        else:
            stats = server.stats
            stats[verb] = stats.get(verb, 0) + 1
            try:
                cmd.handler(ctx, msg)
            except Exception:
                log.exception("handler %s failed for %s; disconnecting it", verb, session.ip,
                              extra=failure_fields(session, verb))  # fmt: skip
                ctx.messages.clear()
                session.close("Internal server error")
                return
        # Most commands reply nothing (a PRIVMSG): skip the flush then, unless
        # a label asks for an ACK.
        if not ctx.deferred and (ctx.messages or msg.tags):
            ctx.finish()
