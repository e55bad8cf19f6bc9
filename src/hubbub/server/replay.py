"""The replay on join, for clients that cannot ask for history themselves.

A client with draft/chathistory asks for what it wants. Any other client
(irssi by default, netcat, most bots) that joins a channel is shown the last
``[history] autoreplay`` messages of it, before any live line: the JOIN
command fetches them on a worker thread first, then joins and queues the
replay right after the JOIN, topic and names, in the same loop turn, so no
live line of the channel can come between (the client is not a member until
then, and its session reads nothing else meanwhile).

One gap remains to close: a message said in the channel while the query ran
is neither in the replay nor delivered live (the client was not a member
yet). The recorder counts what it keeps per channel; if the count moved
during the query, the query runs again (a few times at most).
"""

from __future__ import annotations

from collections.abc import Callable

from hubbub.protocol import casefold
from hubbub.store.base import MESSAGE_KINDS, Found, Scope

from .dispatch import Context

#: Queries one join makes at most before it accepts a replay that may miss a line.
ATTEMPTS = 3

Replays = dict[str, list[Found]]


def wanted(ctx: Context) -> bool:
    """Whether this client is shown history when it joins."""
    history = ctx.server.config.history
    return (
        history.enabled and history.autoreplay > 0 and "draft/chathistory" not in ctx.session.caps
    )


def fetch_then(
    ctx: Context, names: list[str], then: Callable[[Replays], None], attempts: int = ATTEMPTS
) -> None:
    """The last lines of each channel in ``names`` (by casefolded name), then
    ``then(replays)`` on the loop, in the command's own time."""
    server = ctx.server
    store, counts = server.history, server.recorder.recorded
    channels = list(dict.fromkeys(casefold(n) for n in names))
    if not channels:
        then({})
        return
    limit = server.config.history.autoreplay
    before = {name: counts.get(name, 0) for name in channels}
    store.commit()  # the query must see what this turn recorded

    def query() -> Replays:
        return {n: store.latest(Scope.of_channel(n, MESSAGE_KINDS), None, limit) for n in channels}

    def answer(replays: Replays) -> None:
        moved = any(counts.get(name, 0) != seen for name, seen in before.items())
        if moved and attempts > 1:
            fetch_then(ctx, names, then, attempts - 1)
        else:
            then(replays)

    ctx.run_blocking(query, answer, lambda exc: then({}), query="replay")
