"""``/metrics``: the server's counters in the Prometheus text format.

Theory of operation
-------------------
The server counts with plain integers where the work happens
(:mod:`hubbub.server.meters`, the pipeline's tallies, the history store's
:class:`~hubbub.store.base.WriteStats`); nothing on the chat's path calls
prometheus_client. When Prometheus scrapes, :class:`ServerCollector` reads
those integers and builds metric families, and prometheus_client writes the
page (text format 0.0.4, or OpenMetrics when the scraper asks for it). The
scrape runs on the event loop, like everything that reads the server's
state, so it needs no lock; it costs a few hundred microseconds (see
``benchmarks/ops_cost.py scrape``), every fifteen seconds or so.

Every label comes from a fixed set (transports, disconnect reasons, event
kinds, command verbs of the command table, history query kinds, SASL
mechanisms and results): nothing a client chooses, no nick, channel or
address, so the number of series is bounded whatever happens on the network.

The process collectors of prometheus_client add ``process_*`` (memory, CPU,
open files) and ``python_*`` (interpreter, garbage collector). The process
one counts open files by listing ``/proc/self/fd``, about 2 µs a file: 18 ms
for a server with 9,000 clients, far too long for the loop. So it runs on a
worker thread (:class:`ProcessSnapshot`) and the page is rendered when it
is back (:mod:`.http`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from hubbub import events as ev
from hubbub.histogram import Histogram
from hubbub.server.meters import HISTORY_QUERIES

from .health import Readiness
from .lag import LoopLag

if TYPE_CHECKING:
    from pathlib import Path

    from hubbub.server.server import Server

PREFIX = "hubbub_"
#: A bucket bound as prometheus_client writes its own ("0.005", "+Inf").
bound_text: Callable[[float], str] = floatToGoString


def kind_label(kind: type) -> str:
    """An event class's ``kind`` label: ``MessageSent`` -> ``message_sent``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


def histogram(name: str, doc: str, labels: list[str] | None = None) -> HistogramMetricFamily:
    """An empty histogram family (fill it with :func:`add_histogram`)."""
    return HistogramMetricFamily(PREFIX + name, doc, labels=labels)


def add_histogram(
    family: HistogramMetricFamily, hist: Histogram, labels: list[str] | None = None
) -> None:
    """Add one labelled histogram to ``family``."""
    buckets = [(bound_text(bound), float(n)) for bound, n in hist.cumulative()]
    family.add_metric(labels or [], buckets, hist.total)


class ServerCollector(Collector):
    """Reads a server's counters at scrape time (see the module docstring)."""

    def __init__(
        self, server: Server, lag: LoopLag | None = None, readiness: Readiness | None = None,
        database_file: Path | None = None,
    ) -> None:  # fmt: skip
        self.server = server
        self.lag = lag
        self.readiness = readiness
        #: The SQLite file (None: PostgreSQL, or nothing kept).
        self.database_file = database_file

    def collect(self) -> Iterator[Metric]:
        if self.readiness is not None:
            yield GaugeMetricFamily(
                PREFIX + "ready", "1 when /readyz answers ready (listening, database), else 0",
                value=0 if self.readiness.problems() else 1,
            )  # fmt: skip
        yield from self._process()
        yield from self._connections()
        yield from self._traffic()
        yield from self._history()
        yield from self._sasl()
        yield from self._cluster()
        if self.lag is not None:
            yield from self._lag(self.lag)

    def _cluster(self) -> Iterator[Metric]:
        """Cluster mode: each node's lag behind the log's end, as it last
        reported it (one series per node: as many as the cluster has nodes)."""
        links = self.server.membership.links()
        if not links:
            return
        lag = GaugeMetricFamily(
            PREFIX + "cluster_log_lag_seconds",
            "How far behind the end of the cluster's log each node was at its last report",
            labels=["node"],
        )  # fmt: skip
        age = GaugeMetricFamily(
            PREFIX + "cluster_report_age_seconds",
            "How long ago each node last reported (a node that stops reporting is reaped)",
            labels=["node"],
        )  # fmt: skip
        now_ms = time.time() * 1000
        for link in links:
            if not link.reported_ms:
                continue  # a node that has not reported yet has no lag to show
            lag.add_metric([link.node], link.lag_ms / 1000)
            age.add_metric([link.node], max(0.0, (now_ms - link.reported_ms) / 1000))
        yield lag
        yield age
        yield GaugeMetricFamily(
            PREFIX + "cluster_nodes", "Nodes of the cluster (this one included)",
            value=len(links),
        )  # fmt: skip

    def _process(self) -> Iterator[Metric]:
        server = self.server
        info = GaugeMetricFamily(
            PREFIX + "build_info", "The running hubbub: always 1, with its version",
            labels=["version"],
        )  # fmt: skip
        info.add_metric([server.version], 1)
        yield info
        yield GaugeMetricFamily(
            PREFIX + "start_time_seconds", "When this server started (Unix time)",
            value=server.started,
        )  # fmt: skip
        network = server.network
        yield GaugeMetricFamily(
            PREFIX + "users", "Users on the network (registered connections)",
            value=len(network.users),
        )  # fmt: skip
        yield GaugeMetricFamily(PREFIX + "channels", "Channels", value=len(network.channels))

    def _connections(self) -> Iterator[Metric]:
        meters = self.server.meters
        label = ["transport"]
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {
            "connections": GaugeMetricFamily(
                PREFIX + "connections", "Connections open now, registered or not", labels=label
            ),
            "clients": GaugeMetricFamily(
                PREFIX + "connected_clients", "Registered clients connected now", labels=label
            ),
            "accepted": CounterMetricFamily(
                PREFIX + "connections_accepted", "Connections accepted (past the limits)",
                labels=label,
            ),
            "registered": CounterMetricFamily(
                PREFIX + "registrations", "Connections that registered (NICK, USER, CAP END)",
                labels=label,
            ),
            "bytes_in": CounterMetricFamily(
                PREFIX + "received_bytes", "Bytes read from clients (TLS: decrypted)",
                labels=label,
            ),
        }  # fmt: skip
        for name, meter in meters.transports.items():
            families["connections"].add_metric([name], meter.connected)
            families["clients"].add_metric([name], meter.users)
            families["accepted"].add_metric([name], meter.accepted)
            families["registered"].add_metric([name], meter.registered)
            families["bytes_in"].add_metric([name], meter.bytes_in)
        yield from families.values()
        yield CounterMetricFamily(
            PREFIX + "sent_bytes", "Bytes of IRC lines written to clients (all transports)",
            value=self.server.output.bytes_out,
        )  # fmt: skip
        disconnects = CounterMetricFamily(
            PREFIX + "disconnects", "Connections closed, by reason (see docs/operating.md)",
            labels=["reason"],
        )  # fmt: skip
        for reason, n in meters.disconnects.items():
            disconnects.add_metric([reason], n)
        yield disconnects
        yield CounterMetricFamily(
            PREFIX + "flood_throttles",
            "Bursts of lines flood control held back (the client's reading paused)",
            value=meters.flood_throttles,
        )

    def _traffic(self) -> Iterator[Metric]:
        server = self.server
        tallies = server.pipeline.tallies
        messages = tallies[ev.MessageSent]
        yield CounterMetricFamily(
            PREFIX + "messages_relayed", "PRIVMSG, NOTICE and TAGMSG relayed (one per target)",
            value=messages.events,
        )  # fmt: skip
        yield CounterMetricFamily(
            PREFIX + "message_deliveries",
            "Copies of relayed messages queued to recipients (echo-message copies not counted)",
            value=messages.deliveries,
        )
        events = CounterMetricFamily(
            PREFIX + "events", "Changes to the network, by kind", labels=["kind"]
        )
        deliveries = CounterMetricFamily(
            PREFIX + "event_deliveries", "Copies of events queued to clients, by kind",
            labels=["kind"],
        )  # fmt: skip
        for kind, tally in tallies.items():
            events.add_metric([kind_label(kind)], tally.events)
            deliveries.add_metric([kind_label(kind)], tally.deliveries)
        yield events
        yield deliveries
        commands = CounterMetricFamily(
            PREFIX + "commands", "Commands run (past the gate), by verb", labels=["command"]
        )
        for verb, n in sorted(server.stats.items()):
            commands.add_metric([verb], n)
        yield commands

    def _history(self) -> Iterator[Metric]:
        server = self.server
        stats = server.history.stats
        yield CounterMetricFamily(
            PREFIX + "history_commits", "History transactions written (at most one per loop turn)",
            value=stats.commits,
        )  # fmt: skip
        yield CounterMetricFamily(
            PREFIX + "history_rows_written", "History rows written", value=stats.rows
        )
        yield CounterMetricFamily(
            PREFIX + "history_commit_failures",
            "History commits that failed (their rows wait and are tried again)",
            value=stats.failures,
        )
        yield GaugeMetricFamily(
            PREFIX + "history_waiting_rows", "History entries waiting after a failed commit",
            value=stats.waiting,
        )  # fmt: skip
        commit = histogram("history_commit_seconds", "Time of one history commit, on the loop")
        add_histogram(commit, stats.latency)
        yield commit
        queries = histogram(
            "history_query_seconds",
            "History reads (CHATHISTORY subcommands, SEARCH, replay on join), "
            "from the command to the answer",
            ["query"],
        )
        failures = CounterMetricFamily(
            PREFIX + "history_query_failures", "History reads that failed", labels=["query"]
        )
        meter = server.meters.history_queries
        for kind in HISTORY_QUERIES:
            add_histogram(queries, meter.latency[kind], [kind])
            failures.add_metric([kind], meter.failures[kind])
        yield queries
        yield failures
        yield from self._database_size()

    def _database_size(self) -> Iterator[Metric]:
        path = self.database_file
        if path is None:
            return
        size = GaugeMetricFamily(
            PREFIX + "database_bytes", "Size of the database file and its write-ahead log",
            labels=["file"],
        )  # fmt: skip
        for label, suffix in (("database", ""), ("wal", "-wal")):
            try:
                size.add_metric([label], os.stat(f"{path}{suffix}").st_size)
            except OSError:
                size.add_metric([label], 0)
        yield size

    def _sasl(self) -> Iterator[Metric]:
        sasl = CounterMetricFamily(
            PREFIX + "sasl_authentications", "SASL exchanges, by mechanism and result",
            labels=["mechanism", "result"],
        )  # fmt: skip
        for (mechanism, result), n in self.server.meters.sasl.counts.items():
            sasl.add_metric([mechanism, result], n)
        yield sasl

    def _lag(self, lag: LoopLag) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            PREFIX + "event_loop_lag_last_seconds",
            "How late the event loop ran a timer, last time it was measured",
            value=lag.last,
        )
        lags = histogram(
            "event_loop_lag_seconds",
            f"How late the event loop runs a timer, measured every {lag.interval} s",
        )
        add_histogram(lags, lag.histogram)
        yield lags


class ProcessSnapshot(Collector):
    """prometheus_client's process metrics as last read by :meth:`read`,
    which runs on a worker thread (it lists ``/proc/self/fd``)."""

    def __init__(self) -> None:
        self._collector = ProcessCollector(registry=None)
        self.families: list[Metric] = []

    def read(self) -> list[Metric]:
        """Read them now (on a worker thread; only files under /proc)."""
        return list(self._collector.collect())

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class MetricsRegistry:
    """The server's collector and prometheus_client's process collectors."""

    def __init__(
        self, server: Server, lag: LoopLag | None = None, readiness: Readiness | None = None,
        database_file: Path | None = None,
    ) -> None:  # fmt: skip
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ServerCollector(server, lag, readiness, database_file))
        self.process = ProcessSnapshot()
        self.registry.register(self.process)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The page and its content type: OpenMetrics if ``accept`` asks for
        it, else the Prometheus text format. On the loop; the process
        metrics are those of the last :meth:`ProcessSnapshot.read`."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
