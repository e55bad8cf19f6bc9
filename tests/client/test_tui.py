"""The TUI driven by Pilot against a real `hubbub serve`.

A person's path through the app: type a nickname, get told it is taken,
pick another, land in #lobby (the server's auto-join), talk with another
client, switch buffers, tab-complete, and survive a server restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Label

from hubbub.client import Client
from hubbub.client import events as ev
from hubbub.client.tui.app import ChatApp, make_app
from hubbub.client.tui.screens import NickPrompt

from .conftest import RunningServer


async def until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (events arrive over sockets)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.05)


def lines(app: ChatApp, buffer: str | None = None) -> list[str]:
    """The plain text of a buffer's lines (the active one by default)."""
    buf = app.model.current if buffer is None else app.model.get(buffer)
    assert buf is not None, f"no buffer {buffer}"
    return [line.plain for line in buf.lines]


def shows(app: ChatApp, text: str, buffer: str | None = None) -> Callable[[], bool]:
    return lambda: any(text in line for line in lines(app, buffer))


async def type_line(pilot: Pilot[int], text: str) -> None:
    await pilot.press(*text)
    await pilot.press("enter")


async def test_nick_prompt_433_then_lobby_and_chat(hubbub_server: RunningServer) -> None:
    async with Client(hubbub_server.host, hubbub_server.port, "alice") as holder:
        await holder.wait_for(ev.Ready)
        app = make_app(hubbub_server.host, hubbub_server.port, None)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, NickPrompt))
            await type_line(pilot, "alice")
            # Taken: the prompt comes back saying so, with a suggestion.
            await until(pilot, lambda: isinstance(app.screen, NickPrompt)
                        and "taken" in str(app.screen.query_one("#nick-message", Label).content))
            field = app.screen.query_one("#nick-input", Input)
            assert field.value == "alice_"
            field.value = ""
            await type_line(pilot, "alicia")
            # Auto-joined to #lobby by the server: it opens and is active.
            await until(pilot, lambda: app.model.current.name == "#lobby")
            assert app.nick == "alicia"
            await until(pilot, lambda: {"alice", "alicia"} <= {
                m.nick for m in app.client.state.members("#lobby")} if app.client else False)

            await holder.privmsg("#lobby", "hi alicia, welcome!")
            await until(pilot, shows(app, "<alice> hi alicia, welcome!"))
            await type_line(pilot, "thanks alice")
            got = await holder.wait_for(ev.ChatMessage, lambda e: e.nick == "alicia")
            assert (got.buffer, got.text) == ("#lobby", "thanks alice")
            await until(pilot, shows(app, "<alicia> thanks alice"))
            assert app.input_line.value == ""


async def test_switch_buffers_private_chat_and_tab_completion(
    hubbub_server: RunningServer,
) -> None:
    app = make_app(hubbub_server.host, hubbub_server.port, "carol")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.model.current.name == "#lobby")
        async with Client(hubbub_server.host, hubbub_server.port, "dave") as dave:
            await dave.wait_for(ev.Ready)
            await until(pilot, shows(app, "dave joined"))

            # Tab completes a nick (addressed at line start), then cycles.
            await pilot.press("d", "tab")
            assert app.input_line.value == "dave: "
            await pilot.press(*"see #lo", "tab")
            assert app.input_line.value == "dave: see #lobby "
            app.input_line.value = ""
            await pilot.press(*"/whoi", "tab")
            assert app.input_line.value == "/whois "
            app.input_line.value = ""

            # A private message opens a buffer with an unread count and mention.
            await dave.privmsg("carol", "psst, carol")
            await until(pilot, lambda: app.model.get("dave") is not None
                        and app.model.get("dave").unread == 1)  # type: ignore[union-attr]
            assert app.model.get("dave").mention  # type: ignore[union-attr]
            assert app.model.current.name == "#lobby"

            # Ctrl+N moves to the next buffer: the private chat.
            await pilot.press("ctrl+n")
            assert app.model.current.name == "dave"
            assert app.model.current.unread == 0
            assert shows(app, "<dave> psst, carol")()
            assert not app.member_list.display  # no member list in a private chat
            await type_line(pilot, "hello dave")
            reply = await dave.wait_for(ev.ChatMessage, lambda e: e.nick == "carol")
            assert (reply.buffer, reply.text) == ("carol", "hello dave")

            # Ctrl+P goes back; /join opens and activates a new channel.
            await pilot.press("ctrl+p")
            assert app.model.current.name == "#lobby"
            assert app.member_list.display
            await type_line(pilot, "/join #side")
            await until(pilot, lambda: app.model.current.name == "#side")
            # Mouse: click the first entry (the server buffer) in the list.
            await pilot.click("#buffers", offset=(2, 0))
            await until(pilot, lambda: app.model.active is None)

            await type_line(pilot, "/frobnicate")
            await until(pilot, shows(app, "Unknown command /frobnicate"))


async def test_drop_keeps_typed_text_then_reconnects_and_rejoins(
    hubbub_server: RunningServer,
) -> None:
    app = make_app(hubbub_server.host, hubbub_server.port, "erin")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.model.current.name == "#lobby")
        await type_line(pilot, "/join #keep")
        await until(pilot, lambda: app.model.current.name == "#keep")

        hubbub_server.stop()
        await until(pilot, shows(app, "Reconnecting in"))
        assert "disconnected" in app.status
        await type_line(pilot, "typed while offline")
        await until(pilot, shows(app, "Not connected"))
        assert app.input_line.value == "typed while offline"

        await asyncio.to_thread(hubbub_server.start)
        await until(pilot, lambda: app.status == "connected", timeout=20)
        await until(pilot, lambda: app.client is not None
                    and app.client.state.channel("#keep") is not None)
        await pilot.press("enter")
        async with Client(hubbub_server.host, hubbub_server.port, "frank") as frank:
            await frank.wait_for(ev.Ready)
            await frank.join("#keep")
            await frank.wait_for(ev.Members, lambda e: e.channel == "#keep")
            await type_line(pilot, "back again")
            # (What erin sent as the server came back is history by now.)
            got = await frank.wait_for(
                ev.ChatMessage, lambda e: e.nick == "erin" and e.text == "back again"
            )
            assert got.target == "#keep"


async def test_connection_error_is_a_sentence(hubbub_server: RunningServer) -> None:
    hubbub_server.stop()
    app = make_app(hubbub_server.host, hubbub_server.port, "gina")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, shows(app, "Could not connect", buffer=None))
        assert not any("Traceback" in line for line in lines(app, None))
        await type_line(pilot, "/quit")
        await until(pilot, lambda: not app.is_running)


def on_screen(app: ChatApp, text: str) -> Callable[[], bool]:
    """``text`` is in the log as drawn (not only in the model)."""
    return lambda: text in " ".join(row.strip() for row in app.log_view.text_rows())


async def test_a_taken_nick_and_a_server_going_away_show_without_a_key_press(
    hubbub_server: RunningServer,
) -> None:
    async with Client(hubbub_server.host, hubbub_server.port, "bob") as bob:
        await bob.wait_for(ev.Ready)
        app = make_app(hubbub_server.host, hubbub_server.port, "alice")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.model.current.name == "#lobby"
                        and app.member_list.option_count == 2)
            await type_line(pilot, "/nick bob")
            # Nothing else is typed: the refusal must reach the screen by itself.
            await until(pilot, on_screen(app, "The nickname bob is taken"))
            assert app.nick == "alice"

            await asyncio.to_thread(hubbub_server.stop)
            await until(pilot, on_screen(app, "Reconnecting in"))
            assert app.member_list.option_count == 0
            assert app.member_list.border_title == "offline"
            assert "disconnected" in app.status


async def test_join_of_a_channel_we_are_in_switches_to_it(hubbub_server: RunningServer) -> None:
    app = make_app(hubbub_server.host, hubbub_server.port, "hana")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.model.current.name == "#lobby")
        await type_line(pilot, "/join #side")
        await until(pilot, lambda: app.model.current.name == "#side")
        joins = sum("You joined #lobby" in line for line in lines(app, "#lobby"))
        # Already in #lobby: /join brings it up (nothing is sent, nothing repeats).
        await type_line(pilot, "/join #lobby")
        await until(pilot, lambda: app.model.current.name == "#lobby")
        assert on_screen(app, "You joined #lobby")()
        assert sum("You joined #lobby" in line for line in lines(app, "#lobby")) == joins
        # A channel left earlier keeps its buffer; joining it again goes there too.
        await type_line(pilot, "/part #side")
        await until(pilot, shows(app, "You left", buffer="#side"))
        await pilot.press("alt+1")
        await until(pilot, lambda: app.model.active is None)
        await type_line(pilot, "/join #side")
        await until(pilot, lambda: app.model.current.name == "#side")


async def test_ctrl_c_quits_and_says_goodbye(hubbub_server: RunningServer) -> None:
    async with Client(hubbub_server.host, hubbub_server.port, "ivan") as ivan:
        await ivan.wait_for(ev.Ready)
        app = make_app(hubbub_server.host, hubbub_server.port, "jill")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.model.current.name == "#lobby")
            await pilot.press(*"half-typed")
            await pilot.press("ctrl+c")
            await until(pilot, lambda: not app.is_running)
        gone = await ivan.wait_for(ev.Quit, lambda e: e.nick == "jill")
        assert gone.reason == "Quit: Leaving"
    assert app.return_code == 0


async def test_ctrl_c_at_the_nick_prompt_quits_too(hubbub_server: RunningServer) -> None:
    app = make_app(hubbub_server.host, hubbub_server.port, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, NickPrompt))
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not app.is_running)
