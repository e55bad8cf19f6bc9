"""The member list of the active channel, ops first, with prefixes."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from hubbub.client.state import Member

from ..model import nick_color


class MemberList(OptionList):
    """Shows ``@op``, ``+voice`` and the rest; away members are dimmed."""

    def show(self, members: list[Member]) -> None:
        """Redraw with ``members`` (already in rank order)."""
        self.clear_options()
        self.border_title = f"{len(members)} users"
        options = []
        for member in members:
            label = Text(member.prefix or " ", style="bold yellow")
            style = "dim" if member.away else nick_color(member.nick)
            label.append(member.nick, style=style)
            options.append(Option(label))
        self.add_options(options)
