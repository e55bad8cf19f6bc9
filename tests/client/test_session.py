"""ClientSession without sockets: a scripted server in memory (habit 4).

Each test feeds server lines with :func:`feed` and reads what the session
sends back with :func:`sent`, so registration, CAP negotiation and state
tracking are checked line by line, fast and deterministically.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hubbub.client import ClientSession
from hubbub.client import events as ev
from hubbub.client.text import ctcp, parse_server_time, payload_budget, split_text
from hubbub.protocol import parse_line

FIXED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make(nick: str = "alice", **kwargs: object) -> ClientSession:
    session = ClientSession(nick, clock=lambda: FIXED, **kwargs)  # type: ignore[arg-type]
    session.connection_made()
    return session


def feed(session: ClientSession, *lines: str) -> list[ev.Event]:
    out: list[ev.Event] = []
    for line in lines:
        out.extend(session.receive(parse_line(line)))
    return out


def sent(session: ClientSession) -> list[str]:
    return [m.to_line() for m in session.data_to_send()]


def register(session: ClientSession, caps: str = "") -> list[ev.Event]:
    """Walk the session through CAP and the welcome burst."""
    sent(session)
    events = feed(session, f":srv CAP * LS :{caps}")
    if caps:
        wanted = sent(session)[0].split(" ", 2)[2].lstrip(":")
        events += feed(session, f":srv CAP * ACK :{wanted}")
    events += feed(
        session,
        f":srv 001 {session.state.nick} :Welcome",
        f":srv 005 {session.state.nick} CASEMAPPING=rfc1459 PREFIX=(qov)~@+ "
        "CHANTYPES=# CHANMODES=b,k,l,imnt :are supported",
        f":srv 376 {session.state.nick} :End of MOTD",
    )
    sent(session)
    return events + feed(session, ":srv PONG srv :hubbub-ready")


def test_registration_starts_with_cap_ls_then_nick_and_user() -> None:
    session = make(password="sekrit")
    assert sent(session) == [
        "PASS sekrit",
        "CAP LS 302",
        "NICK alice",
        "USER hubbub 0 * :hubbub user",
    ]


def test_cap_requests_only_offered_and_wanted_caps_across_multiline_ls() -> None:
    session = make()
    sent(session)
    feed(session, ":srv CAP * LS * :server-time sasl=PLAIN,EXTERNAL")
    assert sent(session) == []  # not the last LS line yet
    feed(session, ":srv CAP * LS :echo-message draft/unknown multi-prefix")
    assert sent(session) == ["CAP REQ :echo-message multi-prefix server-time"]
    feed(session, ":srv CAP alice ACK :echo-message multi-prefix server-time")
    assert sent(session) == ["CAP END"]
    assert session.state.caps == {"echo-message", "multi-prefix", "server-time"}


def test_cap_nak_still_ends_negotiation() -> None:
    session = make()
    sent(session)
    feed(session, ":srv CAP * LS :away-notify")
    sent(session)
    feed(session, ":srv CAP * NAK :away-notify")
    assert sent(session) == ["CAP END"]
    assert session.state.caps == set()


def test_nothing_to_request_ends_at_once() -> None:
    session = make()
    sent(session)
    feed(session, ":srv CAP * LS :sasl draft/foo")
    assert sent(session) == ["CAP END"]


def test_server_without_cap_registers_anyway() -> None:
    session = make()
    sent(session)
    events = feed(session, ":srv 421 * CAP :Unknown command", ":srv 001 alice :Welcome")
    assert [type(e) for e in events][:1] == [ev.Registered]
    assert not any(isinstance(e, ev.ServerError) for e in events)


def test_ping_is_answered() -> None:
    session = make()
    sent(session)
    feed(session, "PING :abc def")
    assert sent(session) == ["PONG :abc def"]


def test_ready_after_motd_and_pong_barrier() -> None:
    session = make()
    events = register(session)
    assert isinstance(events[-1], ev.Ready)
    assert session.ready


def test_nick_in_use_waits_for_a_choice_when_asking() -> None:
    session = make(alt_nicks=False)
    sent(session)
    events = feed(session, ":srv 433 * alice :Nickname is already in use")
    assert events == [ev.NickInUse("alice", "Nickname is already in use", registered=False)]
    assert sent(session) == []
    session.set_nick("alice2")
    assert sent(session) == ["NICK alice2"]
    feed(session, ":srv 001 alice2 :Welcome")
    assert session.state.nick == "alice2"


def test_nick_in_use_tries_alternatives_for_bots() -> None:
    session = make(alt_nicks=True)
    sent(session)
    feed(session, ":srv 433 * alice :in use")
    assert sent(session) == ["NICK alice_"]
    feed(session, ":srv 433 * alice_ :in use")
    assert sent(session) == ["NICK alice__"]


def test_nick_in_use_after_registration_keeps_old_nick() -> None:
    session = make()
    register(session)
    session.set_nick("bob")
    assert sent(session) == ["NICK bob"]
    events = feed(session, ":srv 433 alice bob :in use")
    assert events == [ev.NickInUse("bob", "in use", registered=True)]
    assert session.state.nick == "alice"


def test_join_names_with_multi_prefix_and_userhost() -> None:
    session = make()
    register(session)
    events = feed(
        session,
        ":alice!a@h JOIN #Lobby",
        ":srv 332 alice #Lobby :Welcome all",
        ":srv 333 alice #Lobby bob!b@h 1700000000",
        ":srv 353 alice = #Lobby :@+bob!b@h alice +carol ~dave",
        ":srv 366 alice #Lobby :End of NAMES",
    )
    assert events[0] == ev.Join("#Lobby", "alice", True, FIXED)
    assert ev.Topic("#Lobby", "Welcome all", None, False, FIXED) in events
    assert events[-1] == ev.Members("#Lobby")
    members = [(m.prefixes, m.nick) for m in session.state.members("#lobby")]
    assert members == [("~", "dave"), ("@+", "bob"), ("+", "carol"), ("", "alice")]
    assert session.state.channel("#LOBBY").topic_setter == "bob"  # type: ignore[union-attr]
    assert session.rejoin == {"#lobby": "#Lobby"}


def test_mode_changes_update_prefixes() -> None:
    session = make()
    register(session)
    feed(session, ":alice!a@h JOIN #c", ":srv 353 alice = #c :alice bob", ":srv 366 alice #c :.")
    events = feed(session, ":srv MODE #c +kov-v key bob bob bob")
    assert isinstance(events[0], ev.ModeChange)
    assert events[1] == ev.Members("#c")
    bob = session.state.channel("#c").members["bob"]  # type: ignore[union-attr]
    assert bob.prefixes == "@"


def test_part_kick_quit_nick_update_members() -> None:
    session = make()
    register(session)
    feed(
        session,
        ":alice!a@h JOIN #a",
        ":alice!a@h JOIN #b",
        ":srv 353 alice = #a :alice bob carol",
        ":srv 353 alice = #b :alice bob",
    )
    nick = feed(session, ":bob!b@h NICK Robert")
    assert nick == [ev.NickChange("bob", "Robert", False, ("#a", "#b"), FIXED)]
    quit_ = feed(session, ":Robert!b@h QUIT :gone")
    assert quit_ == [ev.Quit("Robert", "gone", ("#a", "#b"), FIXED)]
    feed(session, ":carol!c@h PART #a :bye")
    assert [m.nick for m in session.state.members("#a")] == ["alice"]
    kicked = feed(session, ":op!o@h KICK #b alice :out")
    assert kicked == [ev.Kick("#b", "alice", "op", "out", True, FIXED)]
    assert session.state.channel("#b") is None
    assert "#b" not in session.rejoin


def test_own_nick_change() -> None:
    session = make()
    register(session)
    feed(session, ":alice!a@h NICK :alicia")
    assert session.state.nick == "alicia"
    assert session.state.is_me("ALICIA")


def test_messages_are_routed_to_buffers_with_server_time() -> None:
    session = make()
    register(session)
    feed(session, ":alice!a@h JOIN #c")
    chan, private, action, server = feed(
        session,
        "@time=2024-01-02T03:04:05.678Z :bob!b@h PRIVMSG #C :hi all",
        ":bob!b@h PRIVMSG alice :psst",
        ":bob!b@h PRIVMSG #c :\x01ACTION waves\x01",
        ":srv NOTICE alice :server says",
    )
    assert isinstance(chan, ev.ChatMessage) and chan.buffer == "#c"
    assert chan.time == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert isinstance(private, ev.ChatMessage) and private.buffer == "bob"
    assert isinstance(action, ev.ChatMessage) and (action.kind, action.text) == ("action", "waves")
    assert isinstance(server, ev.ChatMessage) and server.buffer is None


def test_own_messages_echo_locally_only_without_echo_message() -> None:
    plain = make()
    register(plain)
    local = plain.message("#c", "hello")
    assert sent(plain) == ["PRIVMSG #c hello"]
    assert [(e.own, e.text) for e in local if isinstance(e, ev.ChatMessage)] == [(True, "hello")]

    echoing = make()
    register(echoing, caps="echo-message")
    assert echoing.message("bob", "hi there") == []
    assert sent(echoing) == ["PRIVMSG bob :hi there"]
    (echo,) = feed(echoing, ":alice!a@h PRIVMSG bob :hi there")
    assert isinstance(echo, ev.ChatMessage) and echo.own and echo.buffer == "bob"


def test_long_messages_are_split_to_fit_the_relayed_line() -> None:
    session = make()
    register(session)
    text = " ".join(["word"] * 300)
    session.message("#c", text)
    lines = sent(session)
    assert len(lines) > 1
    relayed_prefix = ":alice!" + "u" * 12 + "@" + "h" * 63 + " "
    assert all(len((relayed_prefix + line + "\r\n").encode()) <= 512 for line in lines)
    assert " ".join(line.split(" ", 2)[2].lstrip(":") for line in lines) == text


def test_ctcp_version_is_answered_by_notice() -> None:
    session = make()
    register(session)
    feed(session, ":bob!b@h PRIVMSG alice :\x01VERSION\x01")
    (reply,) = sent(session)
    assert reply.startswith("NOTICE bob :\x01VERSION hubbub")


def test_rejoin_after_reconnect_and_alt_nick_on_collision() -> None:
    session = make(alt_nicks=False)
    register(session)
    feed(session, ":alice!a@h JOIN #a", ":alice!a@h JOIN #b", ":alice!a@h PART #b")
    session.connection_lost()
    assert session.state.channels == {}
    session.connection_made()
    assert "NICK alice" in sent(session)
    # The old connection may linger as a ghost: a reconnect never blocks on a
    # person, it takes an alternative nick.
    feed(session, ":srv CAP * LS :", ":srv 433 * alice :in use")
    assert "NICK alice_" in sent(session)
    feed(session, ":srv 001 alice_ :Welcome")
    assert sent(session) == ["JOIN #a"]


def test_chathistory_batch_does_not_replay_joins() -> None:
    session = make()
    register(session, caps="batch")
    feed(session, ":alice!a@h JOIN #c")
    events = feed(
        session,
        ":srv BATCH +h1 chathistory #c",
        "@batch=h1 :ghost!g@h JOIN #c",
        "@batch=h1;time=2020-01-01T00:00:00Z :ghost!g@h PRIVMSG #c :old",
        ":srv BATCH -h1",
    )
    (history,) = events
    assert isinstance(history, ev.History)
    assert [(m.nick, m.text, m.history) for m in history.messages] == [("ghost", "old", True)]
    assert (history.buffer, history.before) == ("#c", None)
    assert "ghost" not in session.state.channel("#c").members  # type: ignore[union-attr]


def test_history_is_asked_for_and_comes_back_as_one_event() -> None:
    session = make()
    register(session, caps="batch server-time message-tags draft/chathistory")
    feed(session, ":srv 005 alice CHATHISTORY=40 :are supported", ":alice!a@h JOIN #c")
    session.history("#c", 100)
    assert sent(session) == ["CHATHISTORY LATEST #c * 40"]  # capped by ISUPPORT
    (page,) = feed(
        session,
        ":srv BATCH +b chathistory #c",
        "@batch=b;msgid=m1;time=2020-01-01T00:00:00.000Z :bob!b@h PRIVMSG #c :one",
        "@batch=b;msgid=m2;time=2020-01-01T00:01:00.000Z :alice!a@h PRIVMSG #c :two",
        "@batch=b;msgid=m3 :bob!b@h PRIVMSG #c :\x01VERSION\x01",
        ":srv BATCH -b",
    )
    assert isinstance(page, ev.History)
    assert [(m.msgid, m.own) for m in page.messages] == [("m1", False), ("m2", True)]
    assert page.complete  # fewer than asked for: nothing older is left
    assert sent(session) == []  # a CTCP from the past is not answered again
    session.history("#c", 2, before="m1")
    assert sent(session) == ["CHATHISTORY BEFORE #c msgid=m1 2"]
    (older,) = feed(
        session,
        ":srv BATCH +b2 chathistory #c",
        "@batch=b2;msgid=m0 :bob!b@h PRIVMSG #c :zero",
        "@batch=b2;msgid=m00 :bob!b@h NOTICE #c :zero-zero",
        ":srv BATCH -b2",
    )
    assert isinstance(older, ev.History)
    assert (older.before, older.complete, len(older.messages)) == ("m1", False, 2)


def test_search_results_come_back_as_one_event() -> None:
    session = make()
    register(session, caps="batch draft/search")
    session.search("fast cars", "#c", limit=5)
    assert sent(session) == ["SEARCH text=fast\\scars;limit=5;in=#c"]
    (found,) = feed(session, ":srv BATCH +s draft/search",
                    "@batch=s :bill!b@h PRIVMSG #c :fast cars here", ":srv BATCH -s")  # fmt: skip
    assert isinstance(found, ev.SearchResults)
    assert found.text == "fast cars" and [m.text for m in found.messages] == ["fast cars here"]


def test_error_numerics_name_their_channel_buffer() -> None:
    session = make()
    register(session)
    feed(session, ":alice!a@h JOIN #c")
    (error,) = feed(session, ":srv 404 alice #c :Cannot send to channel")
    assert isinstance(error, ev.ServerError)
    assert (error.buffer, error.text) == ("#c", "#c: Cannot send to channel")


@pytest.mark.parametrize(
    ("text", "budget"),
    [("a" * 1000, 100), ("é" * 300, 101), ("x y " * 200, 50), ("", 10), ("short", 400)],
)
def test_split_text_respects_budget_and_characters(text: str, budget: int) -> None:
    pieces = split_text(text, budget)
    assert pieces
    assert all(len(p.encode()) <= budget for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_text_helpers() -> None:
    assert ctcp("\x01ACTION dances\x01") == ("ACTION", "dances")
    assert ctcp("\x01version") == ("VERSION", "")
    assert ctcp("hi") is None
    assert parse_server_time("nonsense") is None
    assert parse_server_time("2024-01-01T00:00:00Z") == datetime(2024, 1, 1, tzinfo=UTC)
    assert 300 < payload_budget("alice", "PRIVMSG", "#c") < 512


def test_missing_motd_is_not_shown_as_an_error() -> None:
    session = make()
    sent(session)
    events = feed(session, ":srv 001 alice :Welcome", ":srv 422 alice :MOTD File is missing")
    assert isinstance(events[-1], ev.ServerReply)
    assert events[-1].text == "MOTD File is missing"
    assert sent(session)[-1] == "PING hubbub-ready"
