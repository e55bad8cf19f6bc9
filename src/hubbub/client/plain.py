"""``hubbub chat --plain``: a line mode for pipes, scripts and screen readers.

Theory of operation
-------------------
Two loops share one :class:`~.connection.Client`. The *event loop* prints
what arrives: messages and channel events on stdout (``[HH:MM] <nick> text``),
everything about the connection and the server on stderr, so a script can
pipe stdout and still see problems. The *input loop* sends stdin lines, but
only once the client is :class:`~.events.Ready` (registered, and auto-joined
wherever the server puts it), so ``echo hi | hubbub chat --plain --nick a``
says "hi" in the lobby instead of racing the join. Lines typed while the
connection is down wait and are sent after the reconnect.

Stdin is read by a thread with ``os.read`` on the file descriptor: it works
for terminals, pipes and regular files alike (``add_reader`` refuses files),
and unlike ``sys.stdin.readline`` it holds no interpreter lock that could
hang shutdown while the thread is blocked.

Without ``--nick`` the first stdin line is the nickname (the prompt goes to
stderr), and a taken nickname is asked for again the same way. With
``--nick`` a taken nick is replaced by ``nick_`` instead, because the next
stdin line is a message, not a nickname.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
import threading
from typing import TextIO

from hubbub.protocol import is_valid_nick

from . import events as ev
from . import slash
from .accounts import Credentials
from .actions import NOT_CONNECTED, execute
from .connection import Client
from .trust import Trust

_EOF = None


def _stdin_reader(
    fd: int, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]
) -> None:
    """Thread body: decode lines from ``fd`` into ``queue``; None at EOF."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        pending += decoder.decode(chunk, final=not chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r"))
        if not chunk:
            if pending:
                loop.call_soon_threadsafe(queue.put_nowait, pending.rstrip("\r"))
            loop.call_soon_threadsafe(queue.put_nowait, _EOF)
            return


class PlainChat:
    """One plain-mode session: see the module docstring."""

    def __init__(
        self,
        host: str,
        port: int,
        nick: str | None,
        trust: Trust | None,
        *,
        credentials: Credentials | None = None,
        stdin_fd: int = 0,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
    ) -> None:
        self.host, self.port, self.nick, self.trust = host, port, nick, trust
        self.credentials = credentials
        self.stdin_fd = stdin_fd
        self.out, self.err = out, err
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.ready = asyncio.Event()
        #: Set when a /join we sent was answered (joined, or refused).
        self.join_settled = asyncio.Event()
        self.client: Client | None = None
        self.exit_code = 0
        self.ever_ready = False
        self.quitting = False
        #: Where a line without a slash goes: the last channel joined (or /query).
        self.current: str | None = None
        self.joined: list[str] = []

    # -- output ------------------------------------------------------------

    def say(self, text: str) -> None:
        """A line on stdout (what was said, who came and went)."""
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """A line on stderr (the connection, the server, our own mistakes)."""
        print(text, file=self.err, flush=True)

    def stamp(self, event: ev.Event) -> str:
        time = getattr(event, "time", None)
        return f"[{time.astimezone():%H:%M}] " if time is not None else ""

    def where(self, buffer: str | None) -> str:
        """``[#other] `` for messages that are not in the current buffer."""
        return "" if buffer is None or self._same(buffer, self.current) else f"[{buffer}] "

    def _same(self, a: str | None, b: str | None) -> bool:
        if a is None or b is None or self.client is None:
            return a is b
        server = self.client.state.server
        return server.fold(a) == server.fold(b)

    # -- running -----------------------------------------------------------

    async def run(self) -> int:
        """Until EOF on stdin, /quit, or a connection that cannot be made."""
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=_stdin_reader, args=(self.stdin_fd, loop, self.lines), daemon=True
        ).start()
        nick = self.nick or await self.ask_nick(None)
        if nick is None:
            return 1
        client = self.client = Client(
            self.host,
            self.port,
            nick,
            tls=self.trust is not None,
            trust=self.trust,
            alt_nicks=self.nick is not None,
            retry_first_connect=False,
            credentials=self.credentials,
        )
        client.start()
        inputs = asyncio.create_task(self.input_loop())
        try:
            async for event in client.events():
                await self.handle(event)
        finally:
            inputs.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await inputs
            await client.close()
        return self.exit_code

    async def ask_nick(self, taken: str | None) -> str | None:
        """Read a nickname from stdin; None at EOF."""
        if taken:
            self.note(f"The nickname {taken} is taken; choose another.")
        while True:
            print("Nickname: ", end="", file=self.err, flush=True)
            line = await self.lines.get()
            if line is _EOF:
                self.note("No nickname given; goodbye.")
                return None
            nick = line.strip()
            if is_valid_nick(nick):
                return nick
            self.note(
                f"{nick!r} is not a valid nickname: use letters, digits and - _ [ ] {{ }} \\ | ^ `"
                ", starting with a letter."
            )

    async def input_loop(self) -> None:
        """Send stdin lines once ready; EOF quits."""
        held: str | None = None
        while True:
            await self.ready.wait()
            line = held if held is not None else await self.lines.get()
            held = None
            if line is _EOF:
                await self.quit("")
                return
            if not line.strip():
                continue
            try:
                command = slash.parse(line)
            except slash.SlashError as exc:
                self.note(str(exc))
                continue
            assert self.client is not None
            if isinstance(command, slash.Say | slash.Me) and self.current is None:
                self.note("No channel to talk in yet: /join #channel or /query nick first.")
                continue
            self.join_settled.clear()
            outcome = await execute(self.client, command, self.current)
            if isinstance(command, slash.Join) and outcome.sent and not outcome.open_buffer:
                # The next line most likely talks in the new channel: wait
                # until it is the current one (or the server said no).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.join_settled.wait(), 10)
            for info in outcome.info:
                self.note(info)
            if outcome.quit:
                await self.quit(outcome.quit_reason)
                return
            if outcome.error == NOT_CONNECTED:
                held = line  # wait for the reconnect, then send it
                self.ready.clear()
            elif outcome.error:
                self.note(outcome.error)
            if outcome.open_buffer:
                self.current = outcome.open_buffer
                self.note(f"-- Now talking to {self.current}")
            if outcome.close_buffer and self._same(outcome.close_buffer, self.current):
                self.current = self.joined[-1] if self.joined else None

    async def quit(self, reason: str) -> None:
        self.quitting = True
        if self.client is not None:
            await self.client.quit(reason or "Leaving")

    # -- events ------------------------------------------------------------

    async def handle(self, event: ev.Event) -> None:
        """Print one event (or ask for a new nick)."""
        match event:
            case ev.ChatMessage(own=True):
                pass  # the person typed it; echoing it back is noise in a pipe
            case ev.ChatMessage(buffer=None):
                self.note(f"{self.stamp(event)}-{event.nick}- {event.text}")
            case ev.ChatMessage():
                head = f"{self.stamp(event)}{self.where(event.buffer)}"
                if event.kind == "action":
                    self.say(f"{head}* {event.nick} {event.text}")
                elif event.kind == "notice":
                    self.say(f"{head}-{event.nick}- {event.text}")
                else:
                    self.say(f"{head}<{event.nick}> {event.text}")
            case ev.Join(own=True):
                self.joined = [c for c in self.joined if not self._same(c, event.channel)]
                self.joined.append(event.channel)
                self.current = event.channel
                self.join_settled.set()
                self.note(f"-- Now talking in {event.channel}")
            case ev.Join():
                self.say(f"{self.stamp(event)}-- {event.nick} joined {event.channel}")
            case ev.Part() | ev.Kick():
                self.on_leave(event)
            case ev.Quit():
                why = f" ({event.reason})" if event.reason else ""
                self.say(f"{self.stamp(event)}-- {event.nick} quit{why}")
            case ev.NickChange(own=True):
                self.note(f"-- You are now known as {event.new}")
            case ev.NickChange():
                self.say(f"{self.stamp(event)}-- {event.old} is now known as {event.new}")
            case ev.Topic(changed=True):
                self.say(
                    f"{self.stamp(event)}-- {event.setter} set the topic of {event.channel}: "
                    f"{event.topic}"
                )
            case ev.Topic():
                if event.topic:
                    self.note(f"-- Topic of {event.channel}: {event.topic}")
            case ev.NickInUse(registered=False):
                await self.on_nick_refused(event)
            case ev.NickInUse():
                self.note(f"! The nickname {event.nick} is taken: {event.reason}")
            case ev.Registered():
                self.note(f"-- Connected to {self.host}:{self.port} as {event.nick}")
            case ev.LoggedIn():
                self.note(f"-- {event.text}" if event.account else "-- You are logged out")
            case ev.LoginFailed():
                self.note(f"! Login failed: {event.reason}")
            case ev.Ready():
                self.ever_ready = True
                self.ready.set()
            case ev.Disconnected():
                self.on_disconnected(event)
            case ev.ServerError(command="ERROR") if self.quitting:
                pass  # the server's goodbye to our own QUIT
            case ev.ServerError():
                self.join_settled.set()
                self.note(f"! {event.text}")
            case ev.ServerReply():
                self.note(event.text)
            case ev.Invite():
                self.note(f"-- {event.by} invites you to {event.channel} (/join {event.channel})")

    def on_leave(self, event: ev.Part | ev.Kick) -> None:
        if event.own:
            self.joined = [c for c in self.joined if not self._same(c, event.channel)]
            if self._same(event.channel, self.current):
                self.current = self.joined[-1] if self.joined else None
            what = f"You left {event.channel}"
            if isinstance(event, ev.Kick):
                what = f"You were kicked from {event.channel} by {event.by} ({event.reason})"
            after = f"; now talking in {self.current}" if self.current else ""
            self.note(f"-- {what}{after}")
            return
        if isinstance(event, ev.Kick):
            self.say(
                f"{self.stamp(event)}-- {event.by} kicked {event.nick} from {event.channel}"
                f" ({event.reason})"
            )
        else:
            why = f" ({event.reason})" if event.reason else ""
            self.say(f"{self.stamp(event)}-- {event.nick} left {event.channel}{why}")

    async def on_nick_refused(self, event: ev.NickInUse) -> None:
        assert self.client is not None
        nick = await self.ask_nick(event.nick)
        if nick is None:
            self.exit_code = 1
            await self.client.quit("No nickname")
            return
        await self.client.set_nick(nick)

    def on_disconnected(self, event: ev.Disconnected) -> None:
        self.ready.clear()
        if event.reconnect_in is None:
            # The client gave up (it never connected, or the server's
            # certificate stopped passing its check): say why, and fail.
            if not self.quitting:
                self.note(event.reason)
                self.exit_code = self.exit_code or 1
            return
        self.note(
            f"-- {event.reason} Reconnecting in {event.reconnect_in:.0f}s; "
            "what you type is kept and sent then."
        )


async def run_plain(
    host: str, port: int, nick: str | None, trust: Trust | None,
    credentials: Credentials | None = None,
) -> int:  # fmt: skip
    """Run plain mode on the real stdin/stdout/stderr (TLS when ``trust`` is
    set, logging in with SASL when ``credentials`` are)."""
    return await PlainChat(host, port, nick, trust, credentials=credentials).run()
