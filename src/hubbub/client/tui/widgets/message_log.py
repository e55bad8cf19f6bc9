"""The message log: a buffer's lines, wrapped to the width the log has now.

Theory of operation
-------------------
Textual's ``RichLog`` wraps a line once, when it is written, at the width
the log has at that moment, and keeps the rows. Switching from a private
chat (no member list) to a channel narrows the log by the member list's
width, and every row written before was then cut off at the right edge,
for good: resizing did not mend it.

This log keeps the lines themselves (:class:`~..model.Line`) and wraps
them again whenever its width changes, so a row is always as wide as the
log. Wrapped rows start under the message (the line's ``indent``: after
the time and the nick), not under the time, so a long message reads as one
block. An indent over half the width falls back to half the width: a very
long nick must not leave a narrow column.

It is a Line API widget (``render_line``): only the visible rows are drawn.
Scrolling up to the first row asks the app for older history
(:class:`MessageLog.ReachedTop`).
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..model import MAX_LINES, Line


def wrap(line: Line, width: int, console: Console) -> list[Text]:
    """``line`` as rows of at most ``width`` cells, rows after the first
    indented under the message."""
    if width < 1:
        return []
    text = line.text.copy()
    text.expand_tabs()
    indent = min(text[: line.indent].cell_len, width // 2)
    rows: list[Text] = []
    for number, part in enumerate(text.split("\n", allow_blank=True)):
        rest = part
        if number == 0:
            first = part.wrap(console, width)[0] if part.plain else Text()
            rows.append(first)
            # The first row's trailing spaces may have been trimmed; the
            # next row must not start with them.
            rest = part[len(first.plain) :]
            rest = rest[len(rest.plain) - len(rest.plain.lstrip(" ")) :]
            if not rest.plain:
                continue
        pad = Text(" " * indent)
        rows += [pad + row for row in rest.wrap(console, width - indent)]
    return rows


class MessageLog(ScrollView, can_focus=False):
    """Shows the lines it is given; keeps up to :data:`MAX_LINES`."""

    class ReachedTop(Message):
        """The person scrolled to the oldest line shown."""

    DEFAULT_CSS = """
    MessageLog {
        overflow-y: scroll;
        overflow-x: hidden;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        #: The lines shown, oldest first.
        self.lines: list[Line] = []
        #: The rows on screen, at :attr:`wrap_width`; ``_counts[i]`` rows per line.
        self.rows: list[Strip] = []
        self._counts: list[int] = []
        self.wrap_width = 0
        #: Set while the app redraws: scrolling it causes is not the person's.
        self.redrawing = False

    # -- what the app calls ---------------------------------------------------

    def clear(self) -> None:
        """Show nothing."""
        self.lines.clear()
        self.rows.clear()
        self._counts.clear()
        self._update_size(at_end=True)

    def write(self, line: Line) -> None:
        """Add ``line`` at the bottom; follow it if the view was at the bottom."""
        at_end = self.is_vertical_scroll_end
        self.lines.append(line)
        new = self._strips(line)
        self.rows += new
        self._counts.append(len(new))
        if len(self.lines) > MAX_LINES:
            del self.lines[0]
            del self.rows[: self._counts.pop(0)]
        self._update_size(at_end)

    def text_rows(self) -> list[str]:
        """The rows as plain text, as they are drawn (for tests and screen readers)."""
        return [strip.text for strip in self.rows]

    # -- drawing --------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value and not self.redrawing:
            self.post_message(self.ReachedTop())

    def on_resize(self, event: Resize) -> None:
        self._rewrap()

    def _rewrap(self) -> None:
        width = self.scrollable_content_region.width
        if width == self.wrap_width:
            return
        at_end = self.is_vertical_scroll_end
        self.wrap_width = width
        per_line = [self._strips(line) for line in self.lines]
        self.rows = [strip for strips in per_line for strip in strips]
        self._counts = [len(strips) for strips in per_line]
        self._update_size(at_end)

    def _strips(self, line: Line) -> list[Strip]:
        if self.wrap_width < 1:
            return []  # not laid out yet: wrapped at the first resize
        console = self.app.console
        return [
            Strip(list(row.render(console)), row.cell_len)
            for row in wrap(line, self.wrap_width, console)
        ]

    def _update_size(self, at_end: bool) -> None:
        self.virtual_size = Size(self.wrap_width, len(self.rows))
        if at_end:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        row = self.rows[index] if 0 <= index < len(self.rows) else Strip.blank(width)
        return row.crop_extend(0, width, self.rich_style).apply_style(self.rich_style)
