"""What NickServ and ChanServ share: a command table, help, and replying.

A service is reached by ``PRIVMSG NickServ :IDENTIFY ...`` (or the NS
command). Its answers are NOTICEs from ``NickServ!NickServ@services`` in the
command's reply buffer, so labeled-response covers them. What is said to a
service never becomes an event: it is not kept in history, not relayed, not
logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..dispatch import Context
from ..service_names import source
from ..state import User


class Request:
    """One line to a service: who asked, and how to answer."""

    __slots__ = ("ctx", "service")

    def __init__(self, ctx: Context, service: Service) -> None:
        self.ctx = ctx
        self.service = service

    @property
    def user(self) -> User:
        """The asker (services only talk to registered users)."""
        return self.ctx.user

    def say(self, text: str) -> None:
        """Answer with a NOTICE from the service."""
        self.ctx.send("NOTICE", self.ctx.session.display_nick, text, source=self.service.source)

    def defer(self) -> None:
        """The answer comes from a worker thread (see :meth:`Context.defer`)."""
        self.ctx.defer()

    def finish(self) -> None:
        """Send the deferred answer."""
        if not self.ctx.session.closing:
            self.ctx.finish()


Handler = Callable[[Request, list[str]], None]


@dataclass(frozen=True, slots=True)
class ServiceCommand:
    """One command of a service."""

    handler: Handler
    syntax: str
    help: str
    min_args: int = 0


class Service:
    """A service: its nick and its commands."""

    def __init__(self, nick: str, about: str) -> None:
        self.nick = nick
        self.source = source(nick)
        self.about = about
        self.commands: dict[str, ServiceCommand] = {}

    def command(
        self, name: str, syntax: str, help: str, min_args: int = 0
    ) -> Callable[[Handler], Handler]:
        """Register a command: ``@nickserv.command("GHOST", "<nick>", "...")``."""

        def register(handler: Handler) -> Handler:
            self.commands[name] = ServiceCommand(handler, syntax, help, min_args)
            return handler

        return register

    def alias(self, alias: str, name: str) -> None:
        """Another name for a command (LOGIN for IDENTIFY)."""
        self.commands[alias] = self.commands[name]

    def __call__(self, ctx: Context, text: str) -> None:
        """Run the command in ``text``."""
        req = Request(ctx, self)
        words = text.split()
        if not words:
            req.say(f"Type /msg {self.nick} HELP for a list of commands.")
            return
        name, args = words[0].upper(), words[1:]
        if name == "HELP":
            self._help(req, args)
            return
        cmd = self.commands.get(name)
        if cmd is None:
            req.say(f"Unknown command {name}. Type /msg {self.nick} HELP for a list of commands.")
        elif len(args) < cmd.min_args:
            req.say(f"Syntax: {name} {cmd.syntax}")
        else:
            cmd.handler(req, args)

    def _help(self, req: Request, args: list[str]) -> None:
        if args:
            cmd = self.commands.get(args[0].upper())
            if cmd is None:
                req.say(f"No help for {args[0]}: there is no such command.")
                return
            req.say(f"{args[0].upper()} {cmd.syntax}")
            req.say(cmd.help)
            return
        req.say(f"{self.nick} {self.about} Commands:")
        seen: set[int] = set()
        for name, cmd in self.commands.items():
            if id(cmd) in seen:
                continue
            seen.add(id(cmd))
            req.say(f"  {name} {cmd.syntax}: {cmd.help.split('. ')[0].rstrip('.')}")
        req.say(f"Type /msg {self.nick} HELP <command> for more.")
