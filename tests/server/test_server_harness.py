"""The in-memory harness itself: the fake loop's clock and queues, the fake
transport, and a client's first words with the server."""

from __future__ import annotations

import threading

import pytest

from hubbub.protocol.numerics import RPL_ISUPPORT, RPL_WELCOME

from serverharness import FakeLoop, FakeTransport, Harness, commands


def test_call_soon_runs_in_order_only_when_run() -> None:
    loop = FakeLoop()
    seen: list[int] = []
    loop.call_soon(seen.append, 1)
    loop.call_soon(lambda: loop.call_soon(seen.append, 3))
    loop.call_soon(seen.append, 2)
    assert seen == []
    loop.run()
    assert seen == [1, 2, 3]


def test_call_later_fires_in_time_order_as_the_clock_passes() -> None:
    loop = FakeLoop(start=100.0)
    seen: list[tuple[str, float]] = []
    loop.call_later(2.0, lambda: seen.append(("b", loop.time())))
    loop.call_later(1.0, lambda: seen.append(("a", loop.time())))
    cancelled = loop.call_later(1.5, lambda: seen.append(("x", loop.time())))
    cancelled.cancel()
    loop.advance(0.5)
    assert seen == []
    loop.advance(1.5)
    assert seen == [("a", 101.0), ("b", 102.0)]
    assert loop.time() == 102.0
    assert loop.pending_timers == 0


def test_a_timer_set_by_a_timer_fires_within_the_same_advance() -> None:
    loop = FakeLoop()
    seen: list[str] = []
    loop.call_later(1.0, lambda: loop.call_later(1.0, seen.append, "second"))
    loop.advance(2.0)
    assert seen == ["second"]


def test_call_soon_threadsafe_from_a_worker_thread() -> None:
    loop = FakeLoop()
    seen: list[str] = []
    worker = threading.Thread(target=lambda: loop.call_soon_threadsafe(seen.append, "done"))
    worker.start()
    loop.wait_for_threads(timeout=5)
    worker.join()
    assert seen == ["done"]


def test_wait_for_threads_times_out() -> None:
    with pytest.raises(TimeoutError):
        FakeLoop().wait_for_threads(timeout=0.01)


def test_fake_transport_records_what_happens() -> None:
    transport = FakeTransport()
    transport.write(b"a")
    transport.pause_reading()
    transport.resume_reading()
    transport.close()
    transport.write(b"late")
    assert transport.take() == b"a"
    assert (transport.pauses, transport.resumes, transport.closed) == (1, 1, True)
    assert transport.written_after_close == 4


def test_register_gets_the_welcome_burst_and_output_is_flushed_per_turn() -> None:
    h = Harness()
    client = h.connect()
    burst = client.register("alice")
    assert burst[0].command == RPL_WELCOME
    assert burst[0].params[0] == "alice"
    assert RPL_ISUPPORT in commands(burst)
    # The whole burst went out as one write: output is coalesced per loop turn.
    assert client.transport.writes == 1


def test_partial_lines_from_the_client_wait_for_their_end() -> None:
    h = Harness()
    client = h.connect("alice")
    client.send_bytes(b"PING :tok")
    assert client.messages() == []
    client.send_bytes(b"en\r\n")
    assert [m.params for m in client.messages()] == [("irc.test", "token")]
