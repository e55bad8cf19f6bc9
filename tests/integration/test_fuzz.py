"""A short run of the fuzzing harness (``tests/fuzzing.py``; the long run is
``python tests/fuzzing.py --lines 1000000``, figures in docs/robustness.md)."""

from __future__ import annotations

from fuzzing import parser_run, server_run


def test_fuzzed_lines_through_the_parser() -> None:
    counts = parser_run(20_000, seed=7)
    assert counts.crashes == 0, counts.examples
    assert counts.round_trip_failures == 0, counts.examples
    # Every kind of input was met, so the run means something.
    for kind in ("parsed", "empty", "no_command", "malformed", "too_long", "invalid_utf8"):
        assert getattr(counts, kind) > 0, kind
    assert counts.lines >= counts.generated == 20_000


def test_fuzzed_lines_through_a_real_server() -> None:
    counts = server_run(6_000, clients=4, seed=7, warmup=1_000)
    report = {k: v for k, v in vars(counts).items() if k != "rss_samples"}
    assert counts.server_alive and counts.observer_ok, report
    assert counts.internal_errors == 0, report
    assert counts.closes_unexpected == 0 and counts.not_closed_when_expected == 0, report
    assert counts.received_bad == 0 and counts.received_over_512 == 0, report
    assert not counts.log_problems, report
    # Every connection that came and went is gone again.
    assert counts.lusers_after == counts.lusers_baseline, report
    assert counts.lines_processed == counts.lines_sent >= 5_990, report
    assert counts.closes_expected > 0  # malformed lines did close connections
