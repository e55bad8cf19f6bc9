"""Running hubbub as a service: metrics, health, logs and backups.

* :mod:`.metrics` — ``/metrics``: the server's counters, read at scrape time;
* :mod:`.health` — ``/readyz`` (listening, database) and ``/healthz``;
* :mod:`.http` — the listener of ``[metrics] listen`` serving both;
* :mod:`.lag` — how late the event loop runs;
* :mod:`.logs` — ``--log-format human|json``;
* :mod:`.backup` — ``hubbub backup``: a consistent copy of a running server's database.

This package sits beside :mod:`hubbub.server`, not in it: it reads the
server (its counters, its history store's health) and the server's app
wires it in, but nothing in the server depends on it.
"""
