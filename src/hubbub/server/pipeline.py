"""The one road every change travels: publish -> bus -> subscribers -> apply -> deliver.

Theory of operation
-------------------
A handler publishes an event with the reply buffer of its command as the
*origin*. The event goes onto the bus; the pipeline acts only on what the bus
hands back (:meth:`Pipeline.receive`), which for a single process is the
same event, at once. For each event it:

1. works out the audience (:mod:`.delivery`) while the state is still as it
   was: who shared a channel with a user who quits, say;
2. hands it to every subscriber (the history recorder), also while the state
   is as it was: a QUIT is kept in the history of the channels the user was
   in, which applying it forgets;
3. applies the event to the network (:mod:`.apply`, the only mutator);
   then to the watcher of its kind, if there is one, which sees the new
   state (the registered-channel keeper watches a few kinds, so a chat line
   costs it nothing);
4. delivers it: renders the IRC message once per tag profile and queues the
   bytes on the audience's sessions, the actor's copy into its origin.

Subscribers come before delivery, so what anyone is shown was recorded
first; the output scheduler commits the record before the bytes leave.

Each kind of event has a :class:`Tally`: how many passed, and how many
deliveries they made (the audience's size, added once per event rather
than counted per recipient). The metrics read them when scraped.

An event that arrives from another process takes exactly the same road,
with no origin. The origin never travels: it is kept here by msgid until
the event comes back (from a Redis log, as a different object with the same
msgid).

Before all that, the event's *guard* (:data:`.apply.GUARDS`) says whether it
still applies to the state it meets. On one process it always does (the
handler has just checked); on a cluster two nodes can each accept ``NICK
bob`` at once, and the first in the log wins: the other is skipped whole on
every node, and its handler learns it (below) to answer 433.

Asynchronous buses
------------------
A local bus hands an event back within ``append``: when ``publish``
returns, the event was applied and delivered, and a handler may read the new
state. A bus between processes hands it back later. Two things make the
same handlers right on both:

* ``then``: a handler that must act on the outcome (registration attaches
  its session to the new user; a lost NICK race answers 433) passes a
  continuation, called with whether the event applied, right after it was
  delivered. On a local bus that is within ``publish``, on a cluster when
  the event comes back from the log.
* holding the origin: on an asynchronous bus (``bus.synchronous`` False) the
  origin is *held* until its event is back (:meth:`~.reply_buffer.ReplyBuffer.hold`):
  the command's replies wait, and so do the client's next lines, exactly as
  for a command waiting for a worker thread. On a local bus nothing is held
  and nothing is paid for it.
* lines that ask for no answer go ahead: a PRIVMSG, NOTICE or TAGMSG whose
  sender did not negotiate echo-message (and is not writing to itself) gets
  nothing back from its event, so it is not held: the client's next lines
  are read at once, as on one process, up to :data:`AHEAD` such events in
  flight per client; the next line past that is held as any other (the
  events come back in the order they went, so by then the others are
  back). A node's outbox thus holds at most ``AHEAD`` + 1 events per client,
  and a client that talks fast is not paced by the log's round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from hubbub.bus.base import Bus
from hubbub.events import Event, MessageSent, NodeGone

from .apply import APPLY, GUARDS, node_quits
from .delivery import ROUTES, Delivery, netsplit
from .reply_buffer import ReplyBuffer
from .state import Network

log = logging.getLogger(__name__)

#: A handler's continuation: called with whether its event applied.
Then = Callable[[bool], None]

#: Lines asking for no answer a client may have on their way through an
#: asynchronous bus before its next line waits (see the module docstring).
AHEAD = 32


class Subscriber(Protocol):
    """Sees every event before it is applied (the state as the event found
    it) and before it is delivered."""

    def record(self, event: Event) -> None: ...


class Tally:
    """Events of one kind that passed, and the deliveries they made."""

    __slots__ = ("deliveries", "events")

    def __init__(self) -> None:
        self.events = 0
        self.deliveries = 0


class Pipeline:
    """Publishes events and runs those the bus hands back."""

    __slots__ = (
        "_ahead", "_in_flight", "_origins", "_steps", "_thens", "bus", "delivery", "network",
        "subscribers", "tallies", "waits",
    )  # fmt: skip

    def __init__(
        self,
        delivery: Delivery,
        bus: Bus,
        subscribers: list[Subscriber],
        watchers: dict[type[Any], Callable[[Event], None]] | None = None,
    ) -> None:
        self.delivery = delivery
        self.network = delivery.network
        self.bus = bus
        self.subscribers = subscribers
        self._origins: dict[str, ReplyBuffer] = {}
        self._thens: dict[str, Then] = {}
        #: Lines gone ahead unheld: msgid -> their client's session, and
        #: how many each session has on the way.
        self._ahead: dict[str, object] = {}
        self._in_flight: dict[object, int] = {}
        #: Whether origins wait for their events (the bus hands them back later).
        self.waits = not bus.synchronous
        #: Per event kind, for the metrics.
        self.tallies = {kind: Tally() for kind in ROUTES}
        watchers = watchers or {}
        # One lookup per event for all the steps of its kind, and its tally.
        self._steps = {
            kind: (GUARDS.get(kind), route.audience, APPLY.get(kind), route.deliver,
                   watchers.get(kind), self.tallies[kind])
            for kind, route in ROUTES.items()
        }  # fmt: skip
        # A node that left stands for the QUIT of each of its users.
        self._steps[NodeGone] = (self._node_gone, *self._steps[NodeGone][1:])
        bus.attach(self.receive)

    def publish(
        self, event: Event, origin: ReplyBuffer | None = None, then: Then | None = None
    ) -> None:
        """Put ``event`` on the road; ``origin`` gets the actor's copy, and
        ``then(applied)`` runs once the event is back (see the module docstring)."""
        if origin is not None:
            if self.waits and type(event) is MessageSent and self._go_ahead(event, origin):
                origin = None
            else:
                self._origins[event.msgid] = origin
                if self.waits:
                    origin.hold()
        if then is not None:
            self._thens[event.msgid] = then
        self.bus.append(event)

    def _go_ahead(self, event: MessageSent, origin: ReplyBuffer) -> bool:
        """Whether a line needs no holding (see the module docstring)."""
        session = origin.session
        if "echo-message" in session.caps or event.recipient == event.uid:
            return False
        in_flight = self._in_flight.get(session, 0)
        if in_flight >= AHEAD:
            return False
        self._in_flight[session] = in_flight + 1
        self._ahead[event.msgid] = session
        return True

    def receive(self, event: Event) -> None:
        """Apply, record and deliver one event from the bus."""
        if self._ahead:
            session = self._ahead.pop(event.msgid, None)
            if session is not None:
                left = self._in_flight[session] - 1
                if left:
                    self._in_flight[session] = left
                else:
                    del self._in_flight[session]
        origin = self._origins.pop(event.msgid, None) if self._origins else None
        guard, audience_of, apply, deliver, watcher, tally = self._steps[type(event)]
        if guard is not None and not guard(self.network, event):
            self._answer(event, False, origin)
            return
        delivery = self.delivery
        audience = audience_of(delivery, event)
        tally.events += 1
        tally.deliveries += len(audience)
        for subscriber in self.subscribers:
            subscriber.record(event)
        if apply is not None:
            apply(self.network, event)
        if watcher is not None:
            watcher(event)
        deliver(delivery, event, audience, origin)
        if self._thens or (origin is not None and self.waits):
            self._answer(event, True, origin)

    def _answer(self, event: Event, applied: bool, origin: ReplyBuffer | None) -> None:
        """The event is back: its continuation runs, its origin is released."""
        then = self._thens.pop(event.msgid, None) if self._thens else None
        if then is not None:
            try:
                then(applied)
            except Exception:
                # As the dispatcher does for a handler: one client, not the server.
                log.exception("the continuation of %s failed", type(event).__name__,
                              extra={"event": "command.continuation_failed"})
                if origin is not None:
                    origin.messages.clear()
                    origin.session.close("Internal server error")
        if origin is not None and self.waits:
            origin.release()

    def _node_gone(self, network: Network, event: NodeGone) -> bool:
        """The guard of a NodeGone, and the QUIT of each of the node's users
        before the NodeGone itself is applied: each goes down the road as any
        QUIT would, inside one netsplit batch."""
        if not GUARDS[NodeGone](network, event):
            return False
        quits = node_quits(network, event)
        with netsplit(self.delivery, event, quits):
            for quit_ in quits:
                self.receive(quit_)
        return True

    def forget(self) -> None:
        """Drop every origin and continuation still waiting (a fenced node
        closed its clients: their events will never come back)."""
        self._origins.clear()
        self._thens.clear()
        self._ahead.clear()
        self._in_flight.clear()
