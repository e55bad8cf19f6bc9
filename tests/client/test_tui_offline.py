"""TUI behaviour that needs no server: the scripted client (see scripted.py)."""

from __future__ import annotations

import re
from datetime import UTC

from hubbub.client.tui.app import ChatApp, make_app

from .scripted import FIXED_NOW, NUMBERED, ScriptedClient, long_line_after_a_private_chat, settle


def scripted_app() -> ChatApp:
    return make_app("irc.hubbub.test", 6667, "alice", client_factory=ScriptedClient, tz=UTC,
                    clock=lambda: FIXED_NOW)


async def test_history_up_and_down_keeps_the_draft() -> None:
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for line in ("/help", "/help join"):
            await pilot.press(*line, "enter")
        await pilot.press(*"draft")
        await pilot.press("up")
        assert app.input_line.value == "/help join"
        await pilot.press("up", "up")
        assert app.input_line.value == "/help"
        await pilot.press("down", "down")
        assert app.input_line.value == "draft"


async def test_help_unknown_and_rendering_of_events() -> None:
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = [line.plain for line in app.model.current.lines]
        assert "09:05 * dave brings coffee for everyone" in text
        assert "09:06 → erin joined" in text
        assert "09:08 ← erin left (lunch)" in text
        assert "09:07 -- dave is now davey" in text
        await pilot.press(*"/help", "enter")
        await pilot.press(*"/nosuch", "enter")
        await pilot.pause()
        text = [line.plain for line in app.model.current.lines]
        assert any("/join #channel [key]" in line for line in text)
        assert text[-1].endswith("Unknown command /nosuch. Type /help for the list of commands.")
        # Unread counts and mentions, as the buffer list shows them.
        dev, carol = app.model.get("#dev"), app.model.get("carol")
        assert dev is not None and (dev.unread, dev.mention) == (2, False)
        assert carol is not None and (carol.unread, carol.mention) == (1, True)


async def test_clicking_a_member_opens_a_private_chat() -> None:
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        members = app.member_list
        prompts = [members.get_option_at_index(i).prompt for i in range(members.option_count)]
        assert [str(p) for p in prompts] == ["@bob", " alice", " davey"]
        await pilot.click("#members", offset=(2, 0))
        await pilot.pause()
        assert app.model.current.name == "bob"


async def test_a_server_shutdown_is_told_once_per_buffer() -> None:
    from hubbub.client import events as ev
    from hubbub.client.tui.messages import IrcEvent

    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        reason = "Closing link: (~alice@127.0.0.1) [Server shutting down]"
        app.post_message(IrcEvent(ev.ServerError("ERROR", (reason,), reason, None, FIXED_NOW)))
        app.post_message(IrcEvent(ev.Disconnected(f"The server closed the connection: {reason}",
                                                  1.0)))
        await pilot.pause()
        text = [line.plain for line in app.model.current.lines]
        assert sum("Server shutting down" in line for line in text) == 1
        assert "disconnected" in str(app.status)


async def test_a_taken_nick_is_not_shown_as_ours() -> None:
    from hubbub.client import events as ev
    from hubbub.client.tui.messages import IrcEvent

    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.post_message(IrcEvent(ev.NickInUse("ben", "Nickname is already in use", False)))
        await pilot.pause()
        assert app.nick is None
        assert "taken" in str(app.status)


async def test_a_private_chat_follows_the_peers_nick_change() -> None:
    from hubbub.client import events as ev
    from hubbub.client.tui.messages import IrcEvent

    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = list(app.model.buffers)
        old_lines = [line.plain for line in app.model.get("carol").lines]  # type: ignore[union-attr]
        app.post_message(IrcEvent(ev.NickChange("carol", "carol_away", False, (), FIXED_NOW)))
        await pilot.pause()
        assert app.model.get("carol") is None
        moved = app.model.get("carol_away")
        assert moved is not None and moved.name == "carol_away"
        assert [line.plain for line in moved.lines][: len(old_lines)] == old_lines
        assert moved.lines[-1].plain.endswith("carol is now carol_away")
        # Same place in the buffer list.
        assert list(app.model.buffers).index("carol_away") == before.index("carol")


def assert_wrapped_whole(app: ChatApp) -> None:
    """Every row of the log fits it, the 45 words are all there in order, and
    wrapped rows start under the message, not under the time."""
    log = app.log_view
    width = log.scrollable_content_region.width
    rows = log.text_rows()
    assert all(len(row.rstrip()) <= width for row in rows), (width, rows)
    start = next(i for i, row in enumerate(rows) if "<bob> w1 " in row)
    end = next(i for i, row in enumerate(rows) if row.rstrip().endswith("w45"))
    words = " ".join(rows[start : end + 1]).split()
    assert words[words.index("w1") :] == NUMBERED.split()
    indent = rows[start].index("w1")
    assert indent == len("09:15 <bob> ")
    for row in rows[start + 1 : end + 1]:
        assert row[:indent].strip() == "" and row[indent] != " ", row


async def test_a_long_line_after_a_private_chat_loses_nothing() -> None:
    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await long_line_after_a_private_chat(pilot)
        assert app.model.current.name == "#lobby" and app.member_list.display
        assert_wrapped_whole(app)
        # What is on the screen, not only what the widget holds.
        screen = " ".join(s.text for s in app.screen._compositor.render_strips())
        assert [w for w in screen.split() if re.fullmatch(r"w\d+", w)] == NUMBERED.split()
        # Resizing rewraps to the new width, both ways.
        for size in ((120, 30), (60, 24), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert_wrapped_whole(app)


#: Lines from the server, and whether each adds a line to #lobby's log (the
#: others change a list: the member list, or the topic bar).
EVENT_LINES = [
    (":irc.hubbub.test 433 alice bob :Nickname is already in use", True),  # /nick bob
    (":bob!bob@127.0.0.1 MODE #lobby +o alice", True),
    (":bob!bob@127.0.0.1 TOPIC #lobby :a new topic", True),
    (":frank!frank@127.0.0.1 JOIN #lobby", True),
    (":frank!frank@127.0.0.1 NICK frankie", True),
    (":frankie!frank@127.0.0.1 AWAY :lunch", False),
    (":frankie!frank@127.0.0.1 PART #lobby :bye", True),
    (":bob!bob@127.0.0.1 INVITE alice #secret", True),
    (":irc.hubbub.test 482 alice #lobby :You're not channel operator", True),
    (":irc.hubbub.test 401 alice nobody :No such nick/channel", True),
    (":irc.hubbub.test NOTICE alice :a notice from the server", False),  # server buffer
]


def member_rows(app: ChatApp) -> list[str]:
    members = app.member_list
    return [str(members.get_option_at_index(i).prompt) for i in range(members.option_count)]


def assert_screen_shows_the_model(app: ChatApp) -> None:
    """The log shows every line of the active buffer, and the member list
    the members the client knows, without waiting for a key."""
    assert [line.plain for line in app.log_view.lines] == lines_of(app)
    assert app.client is not None
    expected = [(m.prefix[:1] or " ") + m.nick for m in app.client.state.members("#lobby")]
    assert member_rows(app) == expected


def lines_of(app: ChatApp) -> list[str]:
    return [line.plain for line in app.model.current.lines]


async def test_every_event_that_adds_a_line_or_changes_a_list_shows_at_once() -> None:
    from hubbub.client import events as ev
    from hubbub.client.tui.messages import IrcEvent
    from hubbub.protocol import parse_line

    app = scripted_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("alt+3")  # #lobby
        assert app.client is not None
        for raw, adds_a_line in EVENT_LINES:
            count = len(lines_of(app))
            for event in app.client.session.receive(parse_line(raw)):
                app.post_message(IrcEvent(event))
            await pilot.pause()
            assert_screen_shows_the_model(app)
            assert (len(lines_of(app)) > count) is adds_a_line, raw
        assert any("The nickname bob is taken" in line for line in lines_of(app))
        assert "a new topic" in str(app.topic_bar.content)

        # The server goes away: the log says so and nobody is listed any more.
        app.client.session.connection_lost()
        reason = "The server closed the connection: Server shutting down"
        app.post_message(IrcEvent(ev.Disconnected(reason, 2.0)))
        await pilot.pause()
        assert [line.plain for line in app.log_view.lines] == lines_of(app)
        assert lines_of(app)[-1].endswith(f"{reason} Reconnecting in 2s.")
        assert member_rows(app) == [] and app.member_list.border_title == "offline"
