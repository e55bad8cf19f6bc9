"""The web client in Chromium against a real ``hubbub serve --web``: what a
person sees and does. Few tests, one shared browser (CI time matters)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hubtest import RunningServer, ServerFactory

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def open_page(browser: Browser, srv: RunningServer, viewport: dict[str, int] = DESKTOP) -> Page:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(f"http://127.0.0.1:{srv.web_port}/")
    return page


def join_as(page: Page, nick: str) -> None:
    """Type a nickname into the prompt and wait to be in #lobby."""
    page.get_by_label("Nickname").fill(nick)
    page.get_by_role("button", name="Join the chat").click()
    expect(page.locator("#title")).to_have_text("#lobby")


def say(page: Page, text: str) -> None:
    box = page.locator("#input")
    box.fill(text)
    box.press("Enter")


def log_line(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.locator("#log .line", has_text=text)


@pytest.fixture
def web(server_factory: ServerFactory) -> RunningServer:
    return server_factory(web=True)


def test_two_browser_users_and_a_tcp_client_chat_in_the_lobby(
    browser: Browser, web: RunningServer
) -> None:
    alice = open_page(browser, web)
    join_as(alice, "alice")
    bob = open_page(browser, web)
    join_as(bob, "bob")
    carol = web.client("carol")  # an ordinary IRC client over TCP
    carol.expect("JOIN", "#lobby")

    say(alice, "hello from a browser, see https://example.org/docs.")
    line = log_line(bob, "hello from a browser")
    expect(line).to_be_visible()
    expect(line.locator(".nick")).to_have_text("alice")
    expect(line.locator(".time")).to_have_text(time.strftime("%H:%M"))
    link = line.get_by_role("link", name="https://example.org/docs")
    expect(link).to_have_attribute("href", "https://example.org/docs")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    heard = carol.expect("PRIVMSG", "#lobby")
    assert heard.source and heard.source.startswith("alice!")
    assert heard.params[1] == "hello from a browser, see https://example.org/docs."

    carol.send("PRIVMSG #lobby :hi both, from irc")
    for page in (alice, bob):
        expect(log_line(page, "hi both, from irc").locator(".nick")).to_have_text("carol")
    expect(bob.locator("#member-list")).to_contain_text("alice")
    expect(bob.locator("#member-list")).to_contain_text("carol")
    expect(log_line(bob, "carol joined #lobby")).to_be_visible()

    # /me and a mention: bob's line names alice, which her page highlights.
    say(bob, "/me waves at alice")
    expect(alice.locator("#log .line.action.mention")).to_contain_text("bob waves at alice")
    assert carol.expect("PRIVMSG", "#lobby").params[1] == "\x01ACTION waves at alice\x01"

    # A private message opens a tab with a mention badge; clicking shows it.
    carol.send("PRIVMSG alice :psst, privately")
    tab = alice.get_by_role("button", name="carol, 1 mentioning you")
    expect(tab).to_be_visible()
    tab.click()
    expect(alice.locator("#title")).to_have_text("carol")
    expect(log_line(alice, "psst, privately")).to_be_visible()
    say(alice, "got it")
    assert carol.expect("PRIVMSG", "carol").params[1] == "got it"

    # Keyboard: Alt+Up goes back to the lobby.
    alice.locator("#input").press("Alt+ArrowUp")
    expect(alice.locator("#title")).to_have_text("#lobby")
    # A room of their own: its creator is its operator and sets the topic.
    # (#lobby belongs to the server: nobody is its operator by arriving.)
    say(alice, "/join #tea")
    expect(alice.locator("#title")).to_have_text("#tea")
    say(bob, "/join #tea")
    expect(bob.locator("#title")).to_have_text("#tea")
    say(alice, "/topic Tea at five")
    expect(bob.locator("#topic")).to_have_text("Tea at five")
    say(bob, "/join #lobby")
    expect(bob.locator("#title")).to_have_text("#lobby")
    carol.send("QUIT :off to bed")
    expect(log_line(bob, "carol quit (Quit: off to bed)")).to_be_visible()
    expect(bob.locator("#member-list")).not_to_contain_text("carol")
    assert alice.errors == [] and bob.errors == []  # type: ignore[attr-defined]


def test_a_taken_nickname_is_asked_again(browser: Browser, web: RunningServer) -> None:
    web.client("dana")
    page = open_page(browser, web)
    page.get_by_label("Nickname").fill("dana")
    page.get_by_role("button", name="Join the chat").click()
    expect(page.get_by_role("alert")).to_contain_text("dana is taken")
    expect(page.get_by_label("Nickname")).to_be_focused()
    join_as(page, "dana2")
    expect(page.locator("#me")).to_have_text("You are dana2")


def test_the_page_reconnects_after_a_server_restart_keeping_the_unsent_line(
    browser: Browser, server_factory: ServerFactory
) -> None:
    srv = server_factory('[[operators]]\nname = "root"\npassword = "pw"\n', web=True)
    page = open_page(browser, srv)
    join_as(page, "erin")
    page.locator("#input").fill("typed while the server was away")
    boss = srv.client("boss")
    boss.send("OPER root pw")
    boss.expect("381")
    boss.send("RESTART")  # the same process comes back on the same ports
    expect(page.locator("#banner")).to_contain_text("Reconnecting")
    # Enter while disconnected keeps the line.
    page.locator("#input").press("Enter")
    expect(page.locator("#input")).to_have_value("typed while the server was away")
    expect(page.locator("#banner")).to_be_hidden(timeout=20_000)
    expect(page.locator("#member-list")).to_contain_text("erin")
    listener = srv.client("frank")
    page.locator("#input").press("Enter")
    heard = listener.expect("PRIVMSG", "#lobby")
    assert heard.params[1] == "typed while the server was away"
    assert heard.source and heard.source.startswith("erin!")
    expect(page.locator("#input")).to_have_value("")


def test_screenshots_at_desktop_and_phone_sizes(
    browser: Browser, web: RunningServer, artifacts: Path
) -> None:
    irc = web.client("grace")
    irc.send("TOPIC #lobby :Welcome! Be kind, and say hello")
    jack = web.client("jack")
    irc.send("MODE #lobby +v jack")
    desktop = open_page(browser, web, DESKTOP)
    join_as(desktop, "henry")
    for text in ("morning all", "anyone up for tea at five?"):
        irc.send(f"PRIVMSG #lobby :{text}")
    jack.send("PRIVMSG #lobby :only if there is cake")
    say(desktop, "grace: count me in, see https://example.org/menu")
    irc.send("PRIVMSG #lobby :\x01ACTION puts the kettle on\x01")
    say(desktop, "/join #baking")
    expect(desktop.locator("#title")).to_have_text("#baking")
    jack.send("PRIVMSG henry :the cake is in the kitchen, shh")
    desktop.get_by_role("button", name="#lobby").click()
    expect(log_line(desktop, "puts the kettle on")).to_be_visible()
    expect(desktop.get_by_role("button", name="jack, 1 mentioning you")).to_be_visible()
    desktop.screenshot(path=artifacts / "web-client-desktop.png")

    phone = open_page(browser, web, PHONE)
    join_as(phone, "iris")
    irc.send("PRIVMSG #lobby :iris: welcome!")
    expect(log_line(phone, "iris: welcome!")).to_be_visible()
    # On a phone the rooms and members are drawers; the messages and the
    # input fill the screen.
    expect(phone.locator("#rooms")).not_to_be_in_viewport()
    expect(phone.locator("#input")).to_be_in_viewport()
    phone.screenshot(path=artifacts / "web-client-phone.png")
    phone.get_by_role("button", name="Rooms").click()
    expect(phone.locator("#rooms")).to_be_in_viewport()
    expect(phone.get_by_role("navigation", name="Rooms and private chats")).to_contain_text(
        "#lobby"
    )
    phone.keyboard.press("Escape")
    expect(phone.locator("#rooms")).not_to_be_in_viewport()
    for name in ("web-client-desktop.png", "web-client-phone.png"):
        assert (artifacts / name).stat().st_size > 10_000


def test_register_in_the_browser_then_log_in_with_sasl(
    browser: Browser, web: RunningServer
) -> None:
    page = open_page(browser, web)
    page.get_by_label("Nickname").fill("webby")
    expect(page.locator("#account")).to_be_visible()  # the server offers sasl
    page.get_by_label("Password", exact=True).fill("webbys-password")
    page.get_by_label("New here? Create an account with this password").check()
    page.get_by_role("button", name="Join the chat").click()
    expect(page.locator("#title")).to_have_text("#lobby")
    expect(log_line(page, "Account created")).to_be_visible()
    page.context.close()

    again = open_page(browser, web)
    again.get_by_label("Nickname").fill("webby")
    again.get_by_label("Password", exact=True).fill("webbys-password")
    again.get_by_role("button", name="Join the chat").click()
    expect(again.locator("#title")).to_have_text("#lobby")
    watcher = web.client("watcher")
    watcher.send("WHOIS webby")
    assert watcher.expect("330").params[1:3] == ("webby", "webby")
    assert not again.errors  # type: ignore[attr-defined]
