"""What every bus must do: hand back each appended event, once, in order.

The local bus does it at once, within ``append``; a bus between processes
later joins ``BUSES`` and must pass the same tests (waiting for delivery).
"""

from __future__ import annotations

import pytest

from hubbub import events as ev
from hubbub.bus.base import Bus
from hubbub.bus.local import LocalBus

BUSES = [LocalBus]


@pytest.fixture(params=BUSES)
def bus(request: pytest.FixtureRequest) -> Bus:
    made: Bus = request.param()
    return made


def quit_(n: int) -> ev.UserQuit:
    return ev.UserQuit(f"m{n}", float(n), f"u{n}", f"n{n}!u@h", "bye")


def test_every_appended_event_comes_back_once_in_order(bus: Bus) -> None:
    received: list[ev.Event] = []
    bus.attach(received.append)
    sent = [quit_(n) for n in range(100)]
    for event in sent:
        bus.append(event)
    assert received == sent
    bus.close()


def test_the_local_bus_delivers_within_append() -> None:
    bus = LocalBus()
    received: list[ev.Event] = []
    bus.attach(received.append)
    bus.append(quit_(1))
    assert received == [quit_(1)]


def test_a_closed_local_bus_refuses_events() -> None:
    bus = LocalBus()
    bus.attach(lambda e: None)
    bus.close()
    with pytest.raises(RuntimeError):
        bus.append(quit_(1))
