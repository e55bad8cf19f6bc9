"""``hubbub chat``: the Textual app and its factory.

Theory of operation
-------------------
The network lives in one worker (:meth:`ChatApp.run_client`): it starts the
library :class:`~hubbub.client.Client` and posts every event to the app as an
:class:`~.messages.IrcEvent`. The app applies events to its model
(:mod:`.model`) and hands the widgets what to show; widgets do no I/O and
post messages up (a picked buffer, a submitted line). A submitted line is
parsed into a slash command and run in a worker against the client; the
result comes back as :class:`~.messages.CommandDone`. When the connection is
down the text is put back in the input line, so nothing typed is lost while
the client reconnects with backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from hubbub.client import Client, slash
from hubbub.client import events as ev
from hubbub.client.accounts import Credentials
from hubbub.client.actions import execute
from hubbub.client.text import utcnow
from hubbub.client.trust import Trust

from .messages import ClientStopped, CommandDone, IrcEvent
from .model import Buffer, Model
from .screens import NickPrompt
from .widgets import BufferList, InputLine, MemberList, MessageLog

ClientFactory = Callable[..., Client]
#: Lines redrawn when switching to a buffer (older ones stay in the model).
REDRAW_LINES = 500
#: Messages asked for at a time: on join, and per scroll to the top.
HISTORY_PAGE = 50
#: Events after which the member list may differ (a reconnect empties it).
_MEMBER_EVENTS = (
    ev.Members, ev.Join, ev.Part, ev.Kick, ev.Quit, ev.NickChange, ev.Away, ev.ModeChange,
    ev.Disconnected, ev.Registered, ev.LoggedIn,
)  # fmt: skip


class ChatApp(App[int]):
    """The hubbub terminal client; build it with :func:`make_app`."""

    CSS_PATH = "hubbub.tcss"
    TITLE = "hubbub"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+n", "cycle(1)", "Next buffer"),
        Binding("ctrl+p", "cycle(-1)", "Previous buffer"),
        Binding("alt+right", "cycle(1)", "Next buffer", show=False),
        Binding("alt+left", "cycle(-1)", "Previous buffer", show=False),
        Binding("pageup", "scroll(-1)", "Scroll up", show=False),
        Binding("pagedown", "scroll(1)", "Scroll down", show=False),
        Binding("escape", "focus_input", "Input", show=False),
        Binding("ctrl+q", "quit_chat", "Quit", priority=True),
        # Ctrl+C is how people leave a terminal program; Textual would copy
        # (into the focused input) or only hint at Ctrl+Q.
        Binding("ctrl+c", "quit_chat", "Quit", priority=True, show=False),
        *[Binding(f"alt+{n}", f"goto({n})", show=False) for n in range(1, 10)],
    ]

    def __init__(
        self,
        host: str,
        port: int,
        nick: str | None,
        tls: bool = False,
        *,
        trust: Trust | None = None,
        credentials: Credentials | None = None,
        client_factory: ClientFactory = Client,
        tz: tzinfo | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__()
        self.host, self.port, self.nick, self.tls = host, port, nick, tls
        self.trust = trust
        #: The account to log in to with SASL (``hubbub chat --account``).
        self.credentials = credentials
        self.client_factory = client_factory
        #: Timestamps for local lines; tests pin it for reproducible snapshots.
        self.clock = clock
        self.client: Client | None = None
        self.model = Model(host, lambda name: name.lower(), tz)
        self.status = "starting"
        self._shown: dict[str | None, int] = {}
        self._prompting = False
        #: Channels the person asked to /join: they open on top when joined,
        #: even if their buffer was still there from before.
        self._join_wanted: set[str | None] = set()

    # -- layout --------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="topic")
        with Horizontal(id="main"):
            yield BufferList(id="buffers")
            yield MessageLog(id="log")
            yield MemberList(id="members")
        yield Static(id="status")
        yield InputLine(id="input", placeholder="Type a message, or /help")

    def on_mount(self) -> None:
        # Kept as attributes: while the nick prompt is on top, queries would
        # search the prompt's screen, not the main one.
        self.log_view = self.query_one("#log", MessageLog)
        self.buffer_list = self.query_one("#buffers", BufferList)
        self.member_list = self.query_one("#members", MemberList)
        self.input_line = self.query_one(InputLine)
        self.topic_bar = self.query_one("#topic", Static)
        self.status_bar = self.query_one("#status", Static)
        self.input_line.complete = self.completions
        self.buffer_list.can_focus = False
        self.member_list.can_focus = False
        self.show_all()
        self.input_line.focus()
        if self.nick:
            self.connect(self.nick)
        else:
            self.ask_nick("")

    # -- the network worker --------------------------------------------------

    def ask_nick(self, message: str, suggestion: str = "") -> None:
        if self._prompting:
            return
        self._prompting = True

        def chosen(nick: str | None) -> None:
            self._prompting = False
            if not nick:
                return
            if self.client is None:
                self.connect(nick)
            else:
                self.send_nick(nick)

        self.push_screen(NickPrompt(message, suggestion), chosen)

    def connect(self, nick: str) -> None:
        self.nick = nick
        self.client = self.client_factory(
            self.host, self.port, nick, tls=self.tls, trust=self.trust, alt_nicks=False,
            clock=self.clock, credentials=self.credentials,
        )
        self.set_status(f"connecting to {self.host}:{self.port}…")
        self.run_client()

    @work(exclusive=True, group="irc")
    async def run_client(self) -> None:
        """Run the client and post its events to the app."""
        client = self.client
        assert client is not None
        client.start()
        async for event in client.events():
            self.post_message(IrcEvent(event))
        self.post_message(ClientStopped())

    @work(group="history")
    async def fetch_history(self, target: str, before: str | None = None) -> None:
        """Ask the server for ``target``'s history (it comes back as an event)."""
        if self.client is not None and self.client.has_history:
            await self.client.history(target, HISTORY_PAGE, before)

    def load_older(self) -> None:
        """The person scrolled to the top: fetch the page before the oldest line."""
        buf = self.model.current
        if buf.is_server or buf.history_done or buf.loading or not buf.oldest:
            return
        if self.client is None or not self.client.has_history:
            return
        buf.loading = True
        self.fetch_history(buf.name, buf.oldest)

    @work(group="send")
    async def send_nick(self, nick: str) -> None:
        if self.client is not None:
            await self.client.set_nick(nick)

    @work(group="send")
    async def run_command(self, text: str, command: slash.Command, current: str | None) -> None:
        assert self.client is not None
        outcome = await execute(self.client, command, current)
        self.post_message(CommandDone(text, outcome))

    @work(exclusive=True, group="quit")
    async def quit_worker(self, reason: str) -> None:
        if self.client is not None:
            await self.client.close(reason or "Leaving")
        self.exit(0)

    # -- events from the network -------------------------------------------

    def on_irc_event(self, message: IrcEvent) -> None:
        """Apply a network event to the model, then redraw what it changed:
        every line it added and every list it touched shows at once."""
        event = message.event
        model = self.model
        before = set(model.buffers)
        if isinstance(event, ev.Registered) and self.client is not None:
            model.fold = self.client.state.server.fold
        changed = model.apply(event, self.clock())
        match event:
            case ev.Connecting(attempt=attempt) if attempt > 1:
                self.set_status(f"connecting (attempt {attempt})…")
            case ev.Registered(nick=nick):
                self.nick = nick
                self.set_status("connected")
            case ev.NickInUse(registered=False):
                self.nick = None  # the status bar must not show a nick we do not have
                self.set_status("nickname taken — choose another")
                self.ask_nick(f"The nickname {event.nick} is taken. Choose another.",
                              event.nick + "_")
            case ev.Join(own=True):
                key = model.key(event.channel)
                if key not in before or key in self._join_wanted:
                    # A channel we were put in (auto-join) or asked for opens on
                    # top; a rejoin after a reconnect does not move the person.
                    self._join_wanted.discard(key)
                    self.switch_to(event.channel)
                self.fetch_history(event.channel)
            case ev.ChatMessage(buffer=str(name)) if model.key(name) not in before and (
                not self.client or not self.client.state.server.is_channel(name)
            ):
                self.fetch_history(name)  # a private chat opens with what was said before
            case ev.History(buffer=str(name)) if model.key(name) == model.active:
                # Lines went in above the end: the view is drawn again.
                self.redraw_current(paging=event.before is not None)
                changed.discard(model.active)
            case ev.SearchResults():
                model.search_results(event, self.clock())
                changed.add(model.active)
            case ev.Disconnected():
                self.set_status("disconnected — reconnecting…" if event.reconnect_in else
                                "disconnected")
            case ev.NickChange(own=True):
                self.nick = event.new
            case ev.NickChange() if model.key(event.old) in self._shown:
                # A private chat that followed the nick keeps what it has shown.
                new_key = model.key(event.new)
                if new_key in model.buffers and new_key not in self._shown:
                    self._shown[new_key] = self._shown.pop(model.key(event.old))
        self.after_change(changed | (set(model.buffers) ^ before), event)

    def on_client_stopped(self, message: ClientStopped) -> None:
        self.set_status("disconnected — /quit to leave")

    # -- input ---------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if not text.strip():
            return
        line = self.input_line
        if not text.lower().startswith(("/register ", "/verify ")):
            line.remember(text)  # (a password is not kept in the input history)
        line.value = ""
        try:
            command = slash.parse(text)
        except slash.SlashError as exc:
            self.model.info(self.model.active, str(exc), self.clock(), style="yellow")
            self.after_change({self.model.active})
            return
        if isinstance(command, slash.Quit):
            self.quit_worker(command.reason)
            return
        if self.client is None:
            line.value = text
            return
        if isinstance(command, slash.Join):
            self._join_wanted.add(self.model.key(command.channel))
        self.run_command(text, command, self.model.current.name if self.model.active else None)

    def on_command_done(self, message: CommandDone) -> None:
        outcome = message.outcome
        model = self.model
        for info in outcome.info:
            model.info(model.active, info, self.clock(), style="")
        if outcome.error:
            model.info(model.active, outcome.error, self.clock(), style="yellow")
        line = self.input_line
        if not outcome.sent and not line.value:
            line.value = message.text  # keep what was typed
            line.cursor_position = len(line.value)
        if outcome.open_buffer:
            if model.get(outcome.open_buffer) is None:
                self.fetch_history(outcome.open_buffer)
            self.switch_to(outcome.open_buffer)
        if outcome.close_buffer:
            model.close(outcome.close_buffer)
            self.switch_to(None)
        if outcome.quit:
            self.quit_worker(outcome.quit_reason)
        self.after_change({model.active})

    def completions(self, word: str, first: bool) -> list[str]:
        """Tab completion: /commands first on a line, then channels or nicks."""
        lower = word.lower()
        if first and word.startswith("/"):
            pool = ["/" + name for name in slash.COMMAND_NAMES]
        elif word.startswith(("#", "&")):
            pool = [buf.name for buf in self.model.ordered() if buf.name.startswith(("#", "&"))]
        else:
            pool = []
            if self.client is not None and self.model.active is not None:
                pool = [m.nick for m in self.client.state.members(self.model.current.name)]
            pool += [b.name for b in self.model.ordered() if b.key and b.name[:1] not in "#&"]
            pool = [nick for nick in pool if nick != self.nick]
        return sorted({c for c in pool if c.lower().startswith(lower)}, key=str.lower)

    # -- actions -------------------------------------------------------------

    def on_buffer_list_selected(self, message: BufferList.Selected) -> None:
        self.switch_to(self.model.buffers[message.key].name if message.key else None)
        self.input_line.focus()

    def on_message_log_reached_top(self, message: MessageLog.ReachedTop) -> None:
        self.load_older()

    def on_member_list_picked(self, message: MemberList.Picked) -> None:
        if message.nick != self.nick:
            self.switch_to(message.nick)
        self.input_line.focus()

    def action_cycle(self, step: int) -> None:
        keys = list(self.model.buffers)
        index = keys.index(self.model.active) if self.model.active in keys else 0
        key = keys[(index + step) % len(keys)]
        self.switch_to(self.model.buffers[key].name if key else None)

    def action_goto(self, number: int) -> None:
        buffers = self.model.ordered()
        if number <= len(buffers):
            buf = buffers[number - 1]
            self.switch_to(buf.name if buf.key else None)

    def action_scroll(self, direction: int) -> None:
        log = self.log_view
        if direction < 0 and log.scroll_y <= 0:
            self.load_older()  # already at the top (or nothing to scroll): fetch more
        log.scroll_page_up() if direction < 0 else log.scroll_page_down()

    def action_focus_input(self) -> None:
        self.input_line.focus()

    def action_quit_chat(self) -> None:
        self.quit_worker("Leaving")

    # -- drawing -------------------------------------------------------------

    def set_status(self, status: str) -> None:
        self.status = status
        if hasattr(self, "status_bar"):
            self.show_status()

    def switch_to(self, name: str | None) -> None:
        self.model.activate(name)
        self._shown.pop(self.model.active, None)
        self.show_all()

    def after_change(self, changed: set[str | None], event: ev.Event | None = None) -> None:
        """Redraw what an event or command touched."""
        active = self.model.active
        if active in changed:
            self.show_new_lines(self.model.current)
        self.buffer_list.show(self.model.ordered(), active)
        if isinstance(event, _MEMBER_EVENTS) or event is None:
            self.show_members()
        self.show_topic()
        self.show_status()

    def show_all(self, *, everything: bool = False) -> None:
        # The member list first: it decides how wide the log is.
        self.show_members()
        self.log_view.clear()
        self._shown.clear()
        self.show_new_lines(self.model.current, everything=everything)
        self.buffer_list.show(self.model.ordered(), self.model.active)
        self.show_topic()
        self.show_status()

    def redraw_current(self, *, paging: bool) -> None:
        """History arrived for the buffer on screen: draw it again. Older lines
        paged in go above what the person was looking at, which stays put."""
        log = self.log_view
        before = len(log.rows)
        log.redrawing = True
        self.show_all(everything=paging)
        if paging:
            log.scroll_to(y=max(0, len(log.rows) - before), animate=False, immediate=True)
        self.call_after_refresh(setattr, log, "redrawing", False)

    def show_new_lines(self, buf: Buffer, *, everything: bool = False) -> None:
        log = self.log_view
        drawn = len(buf.lines) if everything else min(len(buf.lines), REDRAW_LINES)
        shown = self._shown.get(buf.key, buf.total - drawn)
        fresh = buf.total - shown
        for line in buf.lines[len(buf.lines) - min(fresh, len(buf.lines)) :]:
            log.write(line)
        self._shown[buf.key] = buf.total

    def show_members(self) -> None:
        members = self.member_list
        current = self.model.current
        is_channel = current.key is not None and current.name[:1] in "#&"
        members.display = is_channel
        if not is_channel:
            return
        if self.client is None or not self.client.state.registered:
            members.show([], title="offline")  # nobody is known to be there now
        else:
            members.show(self.client.state.members(current.name))

    def show_topic(self) -> None:
        current = self.model.current
        if current.key is None:
            text = Text.assemble(("hubbub", "bold"), f" — {self.host}:{self.port}")
        elif current.name[:1] in "#&":
            chan = self.client.state.channel(current.name) if self.client else None
            topic = chan.topic if chan and chan.topic else "(no topic)"
            text = Text.assemble((current.name, "bold"), " — ", topic)
        else:
            text = Text.assemble("Private chat with ", (current.name, "bold"))
        self.topic_bar.update(text)

    def show_status(self) -> None:
        away = " (away)" if self.client is not None and self.client.state.away else ""
        nick = self.nick or "?"
        account = self.client.account if self.client is not None else None
        if account is not None:
            nick += " ✓" if account.lower() == nick.lower() else f" ({account})"
        text = Text.assemble((f"[{nick}{away}]", "bold"), f" {self.status}  ",
                             ("Ctrl+N/P buffers · Tab complete · /help", "dim"))
        self.status_bar.update(text)


def make_app(
    host: str = "127.0.0.1",
    port: int = 6667,
    nick: str | None = None,
    tls: bool = False,
    **kwargs: Any,
) -> ChatApp:
    """Build the app (the CLI and the tests both start here)."""
    return ChatApp(host, port, nick, tls, **kwargs)
