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

An event that arrives from another process later takes exactly the same road,
with no origin. The origin never travels: it is kept here by msgid until
the event comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from hubbub.bus.base import Bus
from hubbub.events import Event

from .apply import APPLY
from .delivery import ROUTES, Delivery
from .reply_buffer import ReplyBuffer


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

    __slots__ = ("_origins", "_steps", "bus", "delivery", "network", "subscribers", "tallies")

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
        #: Per event kind, for the metrics.
        self.tallies = {kind: Tally() for kind in ROUTES}
        watchers = watchers or {}
        # One lookup per event for all the steps of its kind, and its tally.
        self._steps = {
            kind: (
                route.audience, APPLY.get(kind), route.deliver, watchers.get(kind),
                self.tallies[kind],
            )
            for kind, route in ROUTES.items()
        }
        bus.attach(self.receive)

    def publish(self, event: Event, origin: ReplyBuffer | None = None) -> None:
        """Put ``event`` on the road; ``origin`` gets the actor's copy."""
        if origin is not None:
            self._origins[event.msgid] = origin
        self.bus.append(event)

    def receive(self, event: Event) -> None:
        """Apply, record and deliver one event from the bus."""
        origin = self._origins.pop(event.msgid, None) if self._origins else None
        audience_of, apply, deliver, watcher, tally = self._steps[type(event)]
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
