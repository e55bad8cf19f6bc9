"""What the server counts for its operators: plain integers, read when scraped.

Theory of operation
-------------------
The relay path (a PRIVMSG read, fanned out to a channel, written) was tuned
instruction by instruction, and a Prometheus client ``Counter.inc()`` takes
a lock and costs about a microsecond: called per message, per delivery or
per byte it would cost more than some whole steps of that path. So the
server counts with plain integers in slotted objects, where the work is
done anyway and as rarely as possible:

* per connection: accepted, registered, closed (and why), per transport;
* per read: bytes in; per loop turn: bytes out, summed over the turn's
  writes in a local variable (a write carries every line a session got in
  the turn);
* per event (:mod:`.pipeline`): how many of each kind, and how many
  deliveries, added once per event as the length of its audience;
* per history commit (once per loop turn) and per history query.

Everything here is changed on the event-loop thread only, so no locks.
:mod:`hubbub.ops.metrics` reads these objects when Prometheus scrapes (on
the loop thread too) and turns them into metric families: the cost of
watching falls on the scrape, every fifteen seconds or so, not on the chat.

Labels come from fixed sets (transport kinds, disconnect reasons, SASL
mechanisms, query kinds): never a nick, a channel or an address, so the
number of time series cannot grow with the network.
"""

from __future__ import annotations

from typing import Final, Literal

from hubbub.histogram import SLOW_BUCKETS, Histogram

#: The kinds of connection, by transport (the ``transport`` label).
TRANSPORTS: Final = ("tcp", "tls", "websocket", "websocket_tls")


def transport_kind(*, tls: bool, framed: bool) -> str:
    """The ``transport`` label of a connection."""
    if framed:
        return "websocket_tls" if tls else "websocket"
    return "tls" if tls else "tcp"


class TransportMeter:
    """Counters of the connections over one kind of transport."""

    __slots__ = ("accepted", "bytes_in", "closed", "name", "registered", "registered_closed")

    def __init__(self, name: str) -> None:
        self.name = name
        #: Connections accepted (past the connection limits), and closed.
        self.accepted = 0
        self.closed = 0
        #: Connections that registered (became users), and those of them closed.
        self.registered = 0
        self.registered_closed = 0
        #: Bytes read from the connections (TLS: after decryption; WebSocket:
        #: the frames as read). Bytes written are counted for all transports
        #: together, by the output scheduler (a write costs less that way).
        self.bytes_in = 0

    @property
    def connected(self) -> int:
        """Connections open now."""
        return self.accepted - self.closed

    @property
    def users(self) -> int:
        """Registered connections open now."""
        return self.registered - self.registered_closed


#: Disconnect reasons as the server writes them (the start of the QUIT
#: reason), and their ``reason`` label. docs/operating.md says what each
#: means. A reason not listed counts as "other".
DISCONNECT_REASONS: Final = (
    ("Quit", "quit"),
    ("Connection closed", "connection_closed"),
    ("Ping timeout", "ping_timeout"),
    ("Registration timed out", "registration_timeout"),
    ("SendQ exceeded", "sendq_exceeded"),
    ("Excess Flood", "excess_flood"),
    ("Received malformed line", "malformed_line"),
    ("Bad password", "bad_password"),
    ("Killed", "killed"),
    ("WebSocket error", "websocket_error"),
    ("Internal server error", "internal_error"),
    ("Server shutting down", "server_shutdown"),
    ("Server restarting", "server_restart"),
)
DISCONNECT_LABELS: Final = (*(label for _, label in DISCONNECT_REASONS), "other")


def disconnect_label(reason: str) -> str:
    """The ``reason`` label of a disconnect reason."""
    for prefix, label in DISCONNECT_REASONS:
        if reason.startswith(prefix):
            return label
    return "other"


def loggable_reason(reason: str) -> str:
    """A disconnect reason as logs may show it: a client's own QUIT text
    is what it chose to say, and stays out of the logs like any message."""
    return "Quit" if reason.startswith("Quit") else reason


#: The history reads (the ``query`` label): CHATHISTORY's subcommands, SEARCH,
#: and the replay on join to clients without chathistory.
HISTORY_QUERIES: Final = (
    "latest", "before", "after", "around", "between", "targets", "search", "replay",
)  # fmt: skip


class QueryMeter:
    """History reads by kind: how long each took, and how many failed."""

    __slots__ = ("failures", "latency")

    def __init__(self) -> None:
        self.latency = {kind: Histogram(SLOW_BUCKETS) for kind in HISTORY_QUERIES}
        self.failures = dict.fromkeys(HISTORY_QUERIES, 0)

    def observe(self, kind: str, seconds: float, ok: bool = True) -> None:
        """One query of ``kind`` (one of :data:`HISTORY_QUERIES`) took ``seconds``."""
        self.latency[kind].observe(seconds)
        if not ok:
            self.failures[kind] += 1


#: The SASL mechanisms counted by name (any other is "other").
SASL_MECHANISMS: Final = ("PLAIN", "EXTERNAL", "SCRAM-SHA-256")
SaslResult = Literal["success", "failure", "aborted"]
SASL_RESULTS: Final = ("success", "failure", "aborted")


class SaslMeter:
    """SASL exchanges by mechanism and result.

    ``commands/sasl.py`` calls :meth:`record` where an exchange ends: 903
    (success); 904 and 905 (failure: a wrong password or proof, an unknown
    mechanism, a payload that does not decode or is too long); 906 (aborted
    by the client, or by its registration finishing first).
    """

    __slots__ = ("counts",)

    def __init__(self) -> None:
        mechanisms = (*SASL_MECHANISMS, "other")
        self.counts = {(m, r): 0 for m in mechanisms for r in SASL_RESULTS}

    def record(self, mechanism: str, result: SaslResult) -> None:
        """Count one SASL exchange that ended with ``result``."""
        name = mechanism.upper()
        key = (name if name in SASL_MECHANISMS else "other", result)
        self.counts[key] += 1


class Meters:
    """Every counter the server keeps, but the per-event ones (which live
    in the pipeline, where each event passes) and the history store's own."""

    __slots__ = ("disconnects", "flood_throttles", "history_queries", "sasl", "transports")

    def __init__(self) -> None:
        self.transports = {name: TransportMeter(name) for name in TRANSPORTS}
        self.disconnects = dict.fromkeys(DISCONNECT_LABELS, 0)
        #: Times flood control began holding a client's lines back (once per
        #: burst, however many releases it takes to let them through).
        self.flood_throttles = 0
        self.history_queries = QueryMeter()
        self.sasl = SaslMeter()

    def transport(self, *, tls: bool, framed: bool) -> TransportMeter:
        """The meter of a new connection's transport."""
        return self.transports[transport_kind(tls=tls, framed=framed)]

    def disconnected(self, reason: str) -> None:
        """Count a closed connection by its reason."""
        self.disconnects[disconnect_label(reason)] += 1
