"""Fixtures of the cluster tests: nodes on a Redis of the test's own (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clusterkit import Nodes, RedisServer


def _nodes(tmp_path: Path, redis: RedisServer) -> Iterator[Nodes]:
    nodes = Nodes(tmp_path, redis)
    yield nodes
    nodes.stop()
    for name, srv in nodes.servers.items():
        text = srv.log.read_text()
        if "Traceback" in text:
            pytest.fail(f"node {name} logged a traceback:\n{text[-3000:]}")


@pytest.fixture
def nodes(tmp_path: Path, redis: RedisServer) -> Iterator[Nodes]:
    """Nodes on :func:`redis`, started by the test (``nodes.start("n1")``)."""
    yield from _nodes(tmp_path, redis)


@pytest.fixture
def durable_nodes(tmp_path: Path, durable_redis: RedisServer) -> Iterator[Nodes]:
    """Nodes on :func:`durable_redis`."""
    yield from _nodes(tmp_path, durable_redis)
