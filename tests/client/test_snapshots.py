"""Snapshots of the main screen at 80x24 and 120x36 (pytest-textual-snapshot).

The app runs on a scripted client (fixed nicks, server-time tags, clock and
time zone), so the SVGs under ``__snapshots__/`` only change when the
layout or rendering does. Update them deliberately with
``pytest tests/client/test_snapshots.py --snapshot-update`` and look at the
diff before committing.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from textual.pilot import Pilot

from hubbub.client.tui.app import ChatApp, make_app

from .scripted import (
    FIXED_NOW,
    SCRIPT,
    HistoryScriptedClient,
    ScriptedClient,
    long_line_after_a_private_chat,
    settle,
)

if importlib.util.find_spec("pytest_textual_snapshot") is None:
    _why = "pytest-textual-snapshot is not installed (pip install pytest-textual-snapshot)"
    if os.environ.get("CI") == "true":
        raise RuntimeError(_why + "; under CI=true the snapshot tests must run")
    pytest.skip(_why, allow_module_level=True)


def scripted_app() -> ChatApp:
    return make_app(
        "irc.hubbub.test", 6667, "alice",
        client_factory=ScriptedClient, tz=UTC, clock=lambda: FIXED_NOW,
    )


def test_script_is_complete() -> None:
    assert SCRIPT[-1].endswith("QUIT :Quit: see you")


def test_main_screen_80x24(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(scripted_app(), terminal_size=(80, 24), run_before=settle)


def test_main_screen_120x36(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(scripted_app(), terminal_size=(120, 36), run_before=settle)


def test_private_buffer_80x24(snap_compare: Callable[..., bool]) -> None:
    async def to_private(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("alt+4")  # server, #dev, #lobby, carol

    assert snap_compare(scripted_app(), terminal_size=(80, 24), run_before=to_private)


def test_long_line_after_leaving_a_private_chat_80x24(snap_compare: Callable[..., bool]) -> None:
    # The 45 numbered words wrap inside the log, under the message, none cut off.
    assert snap_compare(scripted_app(), terminal_size=(80, 24),
                        run_before=long_line_after_a_private_chat)  # fmt: skip


def test_history_on_join_80x24(snap_compare: Callable[..., bool]) -> None:
    """#lobby's earlier messages above a marker, then the live lines."""

    async def until_live(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ChatApp)
        while not ((lobby := app.model.get("#lobby")) and len(lobby.lines) >= 7):
            await pilot.pause(0.02)
        await pilot.pause()

    app = make_app("irc.hubbub.test", 6667, "alice", client_factory=HistoryScriptedClient,
                   tz=UTC, clock=lambda: FIXED_NOW)  # fmt: skip
    assert snap_compare(app, terminal_size=(80, 24), run_before=until_live)
