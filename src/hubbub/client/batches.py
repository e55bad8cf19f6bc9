"""The server's open batches, and the past messages of history and search.

IRCv3 batches group lines. Most need nothing from the client but knowing
which batch a line is in; two hold past messages instead of live ones: a
``chathistory`` batch (the answer to CHATHISTORY, or a server's replay on
join) and a search batch (``draft/search``, soju's ``soju.im/search``). Their
messages are collected here while the batch is open and handed over when it
closes, with the request that asked for them (how many, from where), so the
session can report one event for the lot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import events as ev

HISTORY_BATCH = "chathistory"
SEARCH_BATCHES = frozenset({"draft/search", "soju.im/search", "search"})


@dataclass
class Closed:
    """A history or search batch that just ended."""

    kind: str
    params: tuple[str, ...]
    messages: tuple[ev.ChatMessage, ...]


@dataclass
class Batches:
    """Open batches by reference; past messages; the requests awaiting answers."""

    open: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    collected: dict[str, list[ev.ChatMessage]] = field(default_factory=dict)
    #: History asked for, by casefolded target: (limit, before).
    asked: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    #: Search texts not answered yet, in order.
    searches: list[str] = field(default_factory=list)

    def clear(self) -> None:
        """A new connection: nothing is open or awaited."""
        self.open.clear()
        self.collected.clear()
        self.asked.clear()
        self.searches.clear()

    def start(self, ref: str, kind: str, params: tuple[str, ...]) -> None:
        """``BATCH +ref kind params...``."""
        self.open[ref] = (kind, params)
        if kind == HISTORY_BATCH or kind in SEARCH_BATCHES:
            self.collected[ref] = []

    def end(self, ref: str) -> Closed | None:
        """``BATCH -ref``: the history or search batch it closes, if it was one."""
        opened = self.open.pop(ref, None)
        collected = self.collected.pop(ref, None)
        if opened is None or collected is None:
            return None
        return Closed(opened[0], opened[1], tuple(collected))

    def past(self, ref: str | None) -> list[ev.ChatMessage] | None:
        """Where to put the messages of batch ``ref``, if they are past ones."""
        return self.collected.get(ref) if ref is not None else None

    def history_target(self, ref: str | None) -> str | None:
        """The target a chathistory batch is about (its first parameter)."""
        opened = self.open.get(ref) if ref is not None else None
        if opened is None or opened[0] != HISTORY_BATCH or not opened[1]:
            return None
        return opened[1][0]

    def answer(self, key: str) -> tuple[int, str | None]:
        """The history request the batch about ``key`` answers: (0, None) if
        none was made (a replay the server sent on its own)."""
        return self.asked.pop(key, (0, None))

    def answer_search(self) -> str:
        """The text of the oldest search not answered yet."""
        return self.searches.pop(0) if self.searches else ""
