"""The buffer list: server, channels and private chats, with unread counts."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ..model import Buffer


class BufferList(OptionList):
    """Click or Enter switches buffers; the app keeps the highlight in step."""

    class Selected(Message):
        """The person picked the buffer ``key``."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._keys: list[str | None] = []

    def show(self, buffers: list[Buffer], active: str | None) -> None:
        """Redraw from the model: one row per buffer, the active one highlighted."""
        self._keys = [buf.key for buf in buffers]
        self.clear_options()
        self.add_options([Option(self._label(buf, buf.key == active)) for buf in buffers])
        if active in self._keys:
            self.highlighted = self._keys.index(active)

    @staticmethod
    def _label(buf: Buffer, active: bool) -> Text:
        name = buf.name if not buf.is_server else f"[{buf.name}]"
        style = (
            "bold"
            if active
            else ("dim" if buf.key is not None and not buf.joined and buf.name[:1] in "#&" else "")
        )
        label = Text(name, style=style, overflow="ellipsis", no_wrap=True)
        if buf.unread:
            label.append(f" {buf.unread}", style="bold magenta" if buf.mention else "cyan")
        elif buf.mention:
            label.append(" !", style="bold magenta")
        return label

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._keys):
            self.post_message(self.Selected(self._keys[event.option_index]))
