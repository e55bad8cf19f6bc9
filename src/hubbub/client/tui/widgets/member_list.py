"""The member list of the active channel, ops first, with prefixes."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hubbub.client.state import Member

from ..model import nick_color


class MemberList(OptionList):
    """Shows ``@op``, ``+voice`` and the rest; away members are dimmed.
    Members logged in to an account have a ``✓`` after the nick, or the
    account's name when it is not the nick (``bob (robert)``).
    Clicking a nick asks the app to open a private chat with them."""

    class Picked(Message):
        """The person clicked ``nick``."""

        def __init__(self, nick: str) -> None:
            super().__init__()
            self.nick = nick

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._nicks: list[str] = []

    def show(self, members: list[Member], title: str | None = None) -> None:
        """Redraw with ``members`` (already in rank order); the title says
        how many, unless ``title`` is given."""
        self._nicks = [member.nick for member in members]
        self.clear_options()
        self.border_title = title or f"{len(members)} users"
        options = []
        for member in members:
            label = Text(member.prefix or " ", style="bold yellow")
            style = "dim" if member.away else nick_color(member.nick)
            label.append(member.nick, style=style)
            account = member.account
            if account is not None:
                same = account.lower() == member.nick.lower()
                label.append(" ✓" if same else f" ({account})", style="green")
            options.append(Option(label))
        self.add_options(options)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._nicks):
            self.post_message(self.Picked(self._nicks[event.option_index]))
