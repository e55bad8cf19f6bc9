"""Fixtures for the in-memory server tests: a harness and three clients.

A test module may define its own ``h`` (another config); the clients then
connect to that one.
"""

from __future__ import annotations

import pytest

from serverharness import FakeClient, Harness


@pytest.fixture
def h() -> Harness:
    return Harness()


@pytest.fixture
def alice(h: Harness) -> FakeClient:
    return h.connect("alice", ip="10.0.0.1")


@pytest.fixture
def bob(h: Harness) -> FakeClient:
    return h.connect("bob", ip="10.0.0.2")


@pytest.fixture
def carol(h: Harness) -> FakeClient:
    return h.connect("carol", ip="10.0.0.3")
