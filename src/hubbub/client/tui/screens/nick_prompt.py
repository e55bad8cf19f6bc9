"""The nickname prompt: shown at start without --nick, and when a nick is taken."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from hubbub.protocol import is_valid_nick


class NickPrompt(ModalScreen[str]):
    """Asks for a nickname; dismisses with a valid one."""

    def __init__(self, message: str = "", suggestion: str = "") -> None:
        super().__init__()
        self.message = message
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(id="nick-dialog"):
            yield Label("Choose a nickname", id="nick-title")
            yield Label(self.message, id="nick-message")
            yield Input(value=self.suggestion, placeholder="nickname", id="nick-input")
            yield Label("Enter to connect · Ctrl+Q to quit", id="nick-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        nick = event.value.strip()
        if is_valid_nick(nick):
            self.dismiss(nick)
            return
        self.query_one("#nick-message", Label).update(
            f"{nick!r} is not a valid nickname: start with a letter; use letters, digits, "
            "- _ [ ] { } \\ | ^ `"
            if nick
            else "Type a nickname first."
        )
