"""The message view: a RichLog that says when the person scrolled to its top."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import RichLog


class MessageLog(RichLog):
    """Shows the active buffer's lines; scrolling up to the first line asks the
    app for older history (:class:`ReachedTop`)."""

    class ReachedTop(Message):
        """The person scrolled to the oldest line shown."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        #: Set while the app redraws: scrolling it causes is not the person's.
        self.redrawing = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value and not self.redrawing:
            self.post_message(self.ReachedTop())
