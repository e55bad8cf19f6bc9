"""History in the TUI and the client library, against a real `hubbub serve`:
a room's recent history on join with a marker where the live lines begin,
older pages when scrolling to the top, /search, and the library's own calls."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hubbub.client import Client
from hubbub.client import events as ev
from hubbub.client.tui.app import make_app
from hubbub.client.tui.model import LIVE_MARKER

from .conftest import RunningServer, free_port
from .test_tui import lines, shows, type_line, until


@pytest.fixture
def quick_server(tmp_path: Path) -> Iterator[RunningServer]:
    """`hubbub serve` without flood control (the test says many lines at once)."""
    port = free_port()
    config = tmp_path / "hubbub.toml"
    config.write_text("[limits]\nflood_control = false\n")
    argv = [sys.executable, "-m", "hubbub", "serve", "--listen", f"127.0.0.1:{port}",
            "--config", str(config), "--data-dir", str(tmp_path / "data")]  # fmt: skip
    server = RunningServer(argv, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def chatter(server: RunningServer, count: int) -> None:
    """bob says ``count`` numbered lines in #lobby and leaves."""
    async with Client(server.host, server.port, "bob") as bob:
        await bob.wait_ready()
        for i in range(count):
            await bob.privmsg("#lobby", f"line {i:02d}")
        await bob.wait_for(ev.ChatMessage, lambda e: e.text == f"line {count - 1:02d}")


async def test_the_library_pages_through_history_and_searches(quick_server: RunningServer) -> None:
    await chatter(quick_server, 30)
    async with Client(quick_server.host, quick_server.port, "reader") as reader:
        await reader.wait_ready()
        assert reader.has_history
        await reader.history("#lobby", 20)
        latest = await reader.wait_for(ev.History)
        assert [m.text for m in latest.messages] == [f"line {i:02d}" for i in range(10, 30)]
        assert not latest.complete and all(m.history for m in latest.messages)
        await reader.history("#lobby", 20, before=latest.messages[0].msgid)
        older = await reader.wait_for(ev.History)
        assert [m.text for m in older.messages] == [f"line {i:02d}" for i in range(10)]
        assert older.complete and older.before == latest.messages[0].msgid
        await reader.search("line 07")
        found = await reader.wait_for(ev.SearchResults)
        assert found.text == "line 07" and [m.text for m in found.messages] == ["line 07"]


async def test_history_on_join_a_live_marker_and_older_pages_on_scroll(
    quick_server: RunningServer,
) -> None:
    await chatter(quick_server, 60)
    app = make_app(quick_server.host, quick_server.port, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.model.get("#lobby") is not None)
        await until(pilot, shows(app, "line 59", "#lobby"))
        shown = lines(app, "#lobby")
        marker = shown.index(LIVE_MARKER)
        # The last 50 lines, then the marker, then this join.
        assert [line.split("> ", 1)[1] for line in shown[:marker]] == [
            f"line {i:02d}" for i in range(10, 60)]  # fmt: skip
        assert "You joined #lobby" in shown[marker + 1]
        async with Client(quick_server.host, quick_server.port, "carol") as carol:
            await carol.wait_ready()
            await carol.privmsg("#lobby", "live and well")
            await until(pilot, shows(app, "live and well", "#lobby"))
        assert lines(app, "#lobby").index(LIVE_MARKER) < lines(app, "#lobby").index(
            next(line for line in lines(app, "#lobby") if "live and well" in line))
        # Scrolling up to the top loads what came before, once.
        for _ in range(20):
            await pilot.press("pageup")
            await pilot.pause(0.05)
            if shows(app, "line 00", "#lobby")():
                break
        await until(pilot, shows(app, "line 00", "#lobby"))
        texts = [line.split("> ", 1)[1] for line in lines(app, "#lobby") if "<bob>" in line]
        assert texts == [f"line {i:02d}" for i in range(60)]
        lobby = app.model.get("#lobby")
        assert lobby is not None and lobby.history_done

        await type_line(pilot, "/search line 42")
        await until(pilot, shows(app, 'Search "line 42": 1 message found', "#lobby"))
        assert any("[#lobby]" in line and "line 42" in line for line in lines(app, "#lobby"))
