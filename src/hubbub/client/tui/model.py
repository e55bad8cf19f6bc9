"""The TUI's model: buffers (conversations) and how events become lines.

Pure data and Rich ``Text``, no widgets and no I/O: the app applies each
client event here, then tells the widgets what changed. Keeping this apart
lets the rules (which buffer a line goes to, what counts as unread or a
mention, how a join looks) be read in one place.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from rich.text import Text

from hubbub.client import events as ev

#: Lines kept per buffer; older lines scroll away for good.
MAX_LINES = 2000
NICK_COLORS = (
    "red", "green", "yellow", "blue", "magenta", "cyan",
    "bright_red", "bright_green", "bright_blue", "bright_magenta", "bright_cyan", "orange1",
)


def nick_color(nick: str) -> str:
    """A stable color per nick (crc32, not hash(): that changes per process)."""
    return NICK_COLORS[zlib.crc32(nick.lower().encode()) % len(NICK_COLORS)]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a buffer: its text, and the column where its message
    starts (after the time and the nick), under which wrapped rows line up."""

    text: Text
    indent: int

    @property
    def plain(self) -> str:
        return self.text.plain


@dataclass
class Buffer:
    """One conversation: the server, a channel, or a private chat."""

    key: str | None
    name: str
    lines: list[Line] = field(default_factory=list)
    unread: int = 0
    mention: bool = False
    joined: bool = False
    #: Lines ever added (the widget uses it to append only what is new).
    total: int = 0
    #: msgids of the messages shown: history never shows one twice.
    msgids: set[str] = field(default_factory=set)
    #: The oldest message shown (what to page back from), once history came.
    oldest: str | None = None
    #: History has come at least once; ``history_done``: nothing older is left.
    history_loaded: bool = False
    history_done: bool = False
    #: Older history was asked for and has not come yet.
    loading: bool = False
    #: Where the lines of the latest join begin: its history goes before them.
    live_from: int = 0

    @property
    def is_server(self) -> bool:
        return self.key is None

    def add(self, line: Line) -> None:
        self.lines.append(line)
        self.total += 1
        if len(self.lines) > MAX_LINES:
            dropped = len(self.lines) - MAX_LINES
            del self.lines[:dropped]
            self.live_from = max(0, self.live_from - dropped)

    def insert(self, index: int, lines: list[Line]) -> None:
        """Put earlier lines at ``index`` (the view is redrawn after this)."""
        self.lines[index:index] = lines
        self.total += len(lines)
        if index <= self.live_from:
            self.live_from += len(lines)


#: Drawn between a buffer's history and the live lines that follow it.
LIVE_MARKER = "── earlier messages above · live from here ──"


class Model:
    """All buffers, in display order (server first), and the active one."""

    def __init__(self, server_name: str, fold: Callable[[str], str], tz: tzinfo | None) -> None:
        self.server = Buffer(None, server_name)
        self.buffers: dict[str | None, Buffer] = {None: self.server}
        self.active: str | None = None
        self.fold = fold
        self.tz = tz
        self.nick = ""
        #: After Ready, replies to commands (WHOIS...) go to the active buffer.
        self.ready = False

    # -- buffers -------------------------------------------------------------

    def key(self, name: str | None) -> str | None:
        return None if name is None else self.fold(name)

    def get(self, name: str | None) -> Buffer | None:
        return self.buffers.get(self.key(name))

    def open(self, name: str | None) -> Buffer:
        """The buffer for ``name``, created at the end of the list if new."""
        key = self.key(name)
        buf = self.buffers.get(key)
        if buf is None:
            buf = self.buffers[key] = Buffer(key, name or self.server.name)
        return buf

    def rename(self, old: str, new: str) -> bool:
        """A private chat follows its peer's nick change (same place in the
        list, same lines); False when there is nothing to move."""
        old_key, new_key = self.key(old), self.key(new)
        buf = self.buffers.get(old_key)
        if buf is None or new_key in self.buffers or old_key == new_key:
            if buf is not None and old_key == new_key:
                buf.name = new  # a change of case only
            return False
        buf.key, buf.name = new_key, new
        self.buffers = {(new_key if k == old_key else k): b for k, b in self.buffers.items()}
        if self.active == old_key:
            self.active = new_key
        return True

    def close(self, name: str | None) -> None:
        key = self.key(name)
        if key is not None:
            self.buffers.pop(key, None)
            if self.active == key:
                self.active = None

    @property
    def current(self) -> Buffer:
        return self.buffers.get(self.active, self.server)

    def activate(self, name: str | None) -> Buffer:
        buf = self.open(name)
        self.active = buf.key
        buf.unread, buf.mention = 0, False
        return buf

    def ordered(self) -> list[Buffer]:
        return list(self.buffers.values())

    # -- lines ---------------------------------------------------------------

    def stamp(self, time: datetime) -> Text:
        return Text(f"{time.astimezone(self.tz):%H:%M} ", style="dim")

    def line(self, time: datetime, head: Text | str, body: Text) -> Line:
        """``HH:MM head body``; wrapped rows start under ``body``."""
        start = self.stamp(time) + head
        return Line(start + body, len(start))

    def post(self, name: str | None, line: Line, *, counts: bool, mention: bool = False) -> Buffer:
        """Add ``line``; count it as unread (and a mention) unless active."""
        buf = self.open(name)
        buf.add(line)
        if buf.key != self.active:
            if counts:
                buf.unread += 1
            buf.mention = buf.mention or mention
        return buf

    def info(self, name: str | None, text: str, time: datetime, style: str = "dim") -> Buffer:
        line = self.line(time, Text("-- ", style="dim"), Text(text, style=style))
        return self.post(name, line, counts=False)

    def mentions_me(self, text: str) -> bool:
        if not self.nick:
            return False
        return re.search(rf"(?<![\w-]){re.escape(self.nick)}(?![\w-])", text, re.I) is not None

    def chat_line(self, event: ev.ChatMessage) -> tuple[Line, bool]:
        """A message line: ``12:34 <nick> text``, ``* nick acts``, ``-nick- note``;
        and whether it mentions us."""
        nick = Text(event.nick, style=f"bold {nick_color(event.nick)}")
        body = Text(event.text)
        if event.kind == "action":
            line = self.line(event.time, Text("* ") + nick + Text(" "), body)
        elif event.kind == "notice":
            line = self.line(event.time, Text("-") + nick + Text("- "), body)
        else:
            line = self.line(event.time, Text("<") + nick + Text("> "), body)
        # A private message always calls for attention; in a channel, our nick does.
        private = event.buffer is not None and event.buffer == event.nick
        mention = not event.own and (private or self.mentions_me(event.text))
        if mention:
            line.text.stylize("on grey23")
        return line, mention

    def chat(self, event: ev.ChatMessage) -> Buffer:
        """Post a live message to its buffer."""
        line, mention = self.chat_line(event)
        buf = self.post(event.buffer, line, counts=not event.own, mention=mention)
        if event.msgid:
            buf.msgids.add(event.msgid)
        return buf

    def history(self, event: ev.History) -> Buffer | None:
        """Put past messages in their buffer, each once: the latest ones just
        before the lines of the join they answer (with a marker where the live
        lines begin), older pages at the top."""
        if event.buffer is None:
            return None
        buf = self.open(event.buffer)
        fresh = [m for m in event.messages if not (m.msgid and m.msgid in buf.msgids)]
        buf.msgids.update(m.msgid for m in fresh if m.msgid)
        lines = [self.chat_line(m)[0] for m in fresh]
        paging = event.before is not None
        if paging or not buf.history_loaded:
            if event.messages:
                buf.oldest = event.messages[0].msgid or buf.oldest
            buf.history_done = event.complete
        buf.history_loaded = True
        buf.loading = False
        if paging:
            buf.insert(0, lines)
        elif lines:
            marker = Line(Text(LIVE_MARKER, style="dim italic"), 0)
            buf.insert(buf.live_from, [*lines, marker])
        return buf

    def search_results(self, event: ev.SearchResults, time: datetime) -> Buffer:
        """Show what a /search found in the active buffer, each line with where
        it was said."""
        count = len(event.messages)
        head = f'Search "{event.text}": {count} message{"s" if count != 1 else ""} found'
        buf = self.info(self.active, head, time, style="bold")
        for msg in event.messages:
            where = msg.buffer or msg.target
            line, _ = self.chat_line(msg)
            prefix = Text(f"  [{where}] ", style="dim")
            buf.add(Line(prefix + line.text, len(prefix) + line.indent))
        return buf

    def apply(self, event: ev.Event, now: datetime) -> set[str | None]:
        """Apply one event; return the keys of the buffers it changed (every
        line an event adds is added here, so the app can redraw exactly
        those). ``now`` stamps the lines of events that carry no time."""
        changed: set[str | None] = set()
        t = getattr(event, "time", None)
        match event:
            case ev.Registered(nick=nick):
                self.nick = nick
                changed.add(self.info(None, f"Connected as {nick}.", now).key)
            case ev.Ready():
                self.ready = True
            case ev.LoggedIn():
                text = event.text if event.account else "You are logged out."
                changed.add(self.info(None if not self.ready else self.active, text, event.time,
                                      style="green").key)  # fmt: skip
            case ev.LoginFailed():
                text = f"Login failed: {event.reason}"
                changed.add(self.info(None, text, now, style="red").key)
            case ev.NickInUse(registered=True):
                text = f"The nickname {event.nick} is taken: {event.reason}"
                changed.add(self.info(self.active, text, now, style="red").key)
            case ev.Disconnected():
                self.ready = False
                text = event.reason
                if event.reconnect_in is not None:
                    text += f" Reconnecting in {event.reconnect_in:.0f}s."
                for buf in self.ordered():
                    changed.add(self.info(buf.key, text, now, style="red").key)
            case ev.ChatMessage():
                changed.add(self.chat(event).key)
            case ev.History():
                past = self.history(event)
                if past is not None:
                    changed.add(past.key)
            case ev.Join(own=True):
                buf = self.open(event.channel)
                buf.joined = True
                buf.live_from = len(buf.lines)
                changed.add(self.info(event.channel, f"You joined {event.channel}", event.time).key)
            case ev.Join():
                line = self.line(event.time, Text("→ ", style="green"),
                                 Text(f"{event.nick} joined", style="dim"))
                changed.add(self.post(event.channel, line, counts=False).key)
            case ev.Part() | ev.Kick():
                changed |= self._left(event)
            case ev.Quit():
                why = f" ({event.reason})" if event.reason else ""
                for channel in event.channels:
                    line = self.line(event.time, Text("← ", style="red"),
                                     Text(f"{event.nick} quit{why}", style="dim"))
                    changed.add(self.post(channel, line, counts=False).key)
                if self.get(event.nick):
                    changed.add(self.info(event.nick, f"{event.nick} quit{why}", event.time).key)
            case ev.NickChange():
                if event.own:
                    self.nick = event.new
                names: list[str | None] = list(event.channels)
                if self.get(event.old) and not event.own:
                    names.append(event.old)
                for name in names or [None]:
                    changed.add(self.info(name, f"{event.old} is now {event.new}", event.time).key)
                if not event.own and self.rename(event.old, event.new):
                    changed.add(self.key(event.new))
            case ev.Topic(changed=True):
                text = f"{event.setter} set the topic: {event.topic}"
                changed.add(self.info(event.channel, text, event.time).key)
            case ev.Topic():
                changed.add(self.open(event.channel).key)
            case ev.Away():
                pass  # shown through the member list, not as a line per change
            case ev.Invite():
                text = f"{event.by} invites you to {event.channel} — /join {event.channel}"
                changed.add(self.info(self.active, text, event.time, style="yellow").key)
            case ev.ServerError(command="ERROR"):
                pass  # the Disconnected that follows shows the same reason, once
            case ev.ServerError() if t is not None:
                line = self.line(t, Text("! ", style="bold red"),
                                 Text(event.text, style="bold red"))
                target = event.buffer if event.buffer is not None else self.active
                changed.add(self.post(target, line, counts=False).key)
            case ev.ServerReply() if t is not None:
                target = event.buffer
                if target is None and self.ready:
                    target = self.active
                changed.add(self.info(target, event.text, t, style="").key)
            case ev.ModeChange():
                if event.target.startswith(("#", "&")):
                    text = f"{event.setter} sets mode {event.modes} {' '.join(event.args)}"
                    changed.add(self.info(event.target, text.rstrip(), event.time).key)
        return changed

    def _left(self, event: ev.Part | ev.Kick) -> set[str | None]:
        reason = f" ({event.reason})" if event.reason else ""
        if isinstance(event, ev.Kick):
            who = "You were" if event.own else f"{event.nick} was"
            text = f"{who} kicked by {event.by}{reason}"
        else:
            text = ("You left" if event.own else f"{event.nick} left") + reason
        if event.own:
            buf = self.open(event.channel)
            buf.joined = False
            return {self.info(event.channel, text, event.time).key}
        line = self.line(event.time, Text("← ", style="red"), Text(text, style="dim"))
        return {self.post(event.channel, line, counts=False).key}
