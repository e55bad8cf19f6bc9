"""Watching a cluster node: /metrics shows the nodes and each one's lag
behind the log, and /readyz turns unready while Redis does not answer (the
node fenced or waiting) and ready again once it serves in the log."""

from __future__ import annotations

from clusterkit import Nodes, RedisServer
from opstest import metrics_section, wait_for_scrape, wait_for_status


def test_a_node_s_metrics_and_readiness_follow_the_cluster(
    nodes: Nodes, redis: RedisServer
) -> None:
    section, mport = metrics_section()
    nodes.extra = section
    nodes.start("n1")
    nodes.extra = ""
    nodes.start("n2")
    assert wait_for_status(mport, "/readyz", 200) == b"ready\n"
    # Each node reports its lag at its lease renewals.
    samples = wait_for_scrape(mport, lambda s: all(
        ("hubbub_cluster_report_age_seconds", (("node", n),)) in s for n in ("n1", "n2")
    ))  # fmt: skip
    assert samples.get_value("hubbub_cluster_nodes") == 2
    for node in ("n1", "n2"):
        assert 0 <= samples.get_value("hubbub_cluster_log_lag_seconds", node=node) < 5
        assert 0 <= samples.get_value("hubbub_cluster_report_age_seconds", node=node) < 5

    redis.pause()
    try:
        body = wait_for_status(mport, "/readyz", 503, timeout=10).decode()
        assert "cluster:" in body and redis.url.split("://")[0] in body
    finally:
        redis.resume()
    # It joins again, and is sent clients again.
    assert wait_for_status(mport, "/readyz", 200, timeout=30) == b"ready\n"
    nodes.converged(timeout=30)
