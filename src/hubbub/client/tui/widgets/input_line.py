"""The input line: history on up/down and tab completion.

Completion candidates come from the app through :attr:`InputLine.complete`
(attributes down): a function from the word being completed to candidates,
so the widget knows nothing about IRC. Tab again cycles through them.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.events import Key
from textual.widgets import Input

HISTORY_LIMIT = 500


class InputLine(Input):
    """An Input with shell-like history and cycling tab completion."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous line", show=False),
        Binding("down", "history(1)", "Next line", show=False),
        Binding("tab", "complete", "Complete", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        #: word, is-first-word -> candidates
        self.complete: Callable[[str, bool], list[str]] = lambda word, first: []
        self.history: list[str] = []
        self._history_pos = 0
        self._draft = ""
        # (text before the word, candidates, index, text after) while cycling
        self._cycle: tuple[str, list[str], int, str] | None = None

    def remember(self, line: str) -> None:
        """Add a submitted line to the history."""
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY_LIMIT]
        self._history_pos = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._history_pos == len(self.history):
            self._draft = self.value
        pos = min(max(self._history_pos + step, 0), len(self.history))
        self._history_pos = pos
        self.value = self._draft if pos == len(self.history) else self.history[pos]
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        if self._cycle is not None:
            before, candidates, index, after = self._cycle
            index = (index + 1) % len(candidates)
        else:
            before = self.value[: self.cursor_position]
            after = self.value[self.cursor_position :]
            start = before.rfind(" ") + 1
            word = before[start:]
            if not word:
                return
            first = start == 0
            candidates = self.complete(word, first)
            if not candidates:
                self.app.bell()
                return
            before, index = before[:start], 0
            # A nick at the start of a line is addressed: "alice: ".
            if first and not word.startswith(("/", "#", "&")):
                candidates = [c + ":" for c in candidates]
        completed = candidates[index] + " "
        self.value = before + completed + after.lstrip(" ")
        self.cursor_position = len(before + completed)
        self._cycle = (before, candidates, index, after)

    def on_key(self, event: Key) -> None:
        if event.key != "tab":
            self._cycle = None
