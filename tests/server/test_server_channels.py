"""Channels as their members see them: JOIN and its restrictions, PART, KICK,
TOPIC, NAMES, LIST, INVITE and RENAME."""

from __future__ import annotations

import pytest

from hubbub.protocol.numerics import (
    ERR_BADCHANNELKEY,
    ERR_BANNEDFROMCHAN,
    ERR_CHANNELISFULL,
    ERR_CHANOPRIVSNEEDED,
    ERR_INVITEONLYCHAN,
    ERR_NEEDMOREPARAMS,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_NOTONCHANNEL,
    ERR_USERNOTINCHANNEL,
    ERR_USERONCHANNEL,
    RPL_AWAY,
    RPL_ENDOFNAMES,
    RPL_ENDOFWHO,
    RPL_INVITING,
    RPL_LIST,
    RPL_LISTEND,
    RPL_LISTSTART,
    RPL_NAMREPLY,
    RPL_NOTOPIC,
    RPL_TOPIC,
    RPL_TOPICWHOTIME,
)

from serverharness import ALICE, BOB, FakeClient, Harness, commands, find, find_all, params_of


def names(client: FakeClient, channel: str) -> list[str]:
    """The names in ``channel`` as ``client`` sees them (NAMES)."""
    msgs = client.ask(f"NAMES {channel}")
    return [name for p in params_of(msgs, RPL_NAMREPLY) for name in p[-1].split()]


# --- JOIN --------------------------------------------------------------------------


def test_join_creates_the_channel_with_its_creator_as_op(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    msgs = alice.ask("JOIN #room")
    assert commands(msgs) == ["JOIN", RPL_NAMREPLY, RPL_ENDOFNAMES]
    assert (msgs[0].source, msgs[0].params) == (ALICE, ("#room",))
    assert msgs[1].params == ("alice", "=", "#room", "@alice")
    msgs = bob.ask("JOIN #room")
    assert msgs[1].params == ("bob", "=", "#room", "@alice bob")
    (seen,) = alice.messages()
    assert (seen.command, seen.source, seen.params) == ("JOIN", BOB, ("#room",))


def test_joining_a_channel_twice_is_silent(h: Harness, alice: FakeClient) -> None:
    alice.ask("JOIN #room")
    assert alice.ask("JOIN #room") == []


def test_join_a_bad_name_gets_403(alice: FakeClient) -> None:
    assert params_of(alice.ask("JOIN nochannel"), ERR_NOSUCHCHANNEL) == [
        ("alice", "nochannel", "No such channel")
    ]


@pytest.mark.parametrize("names", [",", ",,,"])
def test_join_of_commas_only_gets_461(alice: FakeClient, names: str) -> None:
    assert params_of(alice.ask(f"JOIN {names}"), ERR_NEEDMOREPARAMS) == [
        ("alice", "JOIN", "Not enough parameters")
    ]


def test_join_0_leaves_every_channel(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#a", alice, bob)
    h.join("#b", alice, bob)
    msgs = alice.ask("JOIN 0")
    assert sorted(p[0] for p in params_of(msgs, "PART")) == ["#a", "#b"]
    assert len(find_all(bob.messages(), "PART")) == 2
    assert alice.user.channels == {}


def test_key_is_needed_to_join(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#k", alice)
    alice.ask("MODE #k +k sesame")
    for line in ("JOIN #k", "JOIN #k wrong"):
        assert params_of(bob.ask(line), ERR_BADCHANNELKEY) == [
            ("bob", "#k", "Cannot join channel (+k)")
        ]
    assert commands(bob.ask("JOIN #k sesame"))[0] == "JOIN"


def test_keys_pair_with_channels_in_order(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#a", alice)
    h.join("#b", alice)
    alice.ask("MODE #a +k ka", "MODE #b +k kb")
    msgs = bob.ask("JOIN #a,#b,#c ka,kb")
    assert [p[0] for p in params_of(msgs, "JOIN")] == ["#a", "#b", "#c"]


def test_limit_makes_the_channel_full(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#l", alice)
    alice.ask("MODE #l +l 1")
    assert params_of(bob.ask("JOIN #l"), ERR_CHANNELISFULL) == [
        ("bob", "#l", "Cannot join channel (+l)")
    ]
    alice.ask("MODE #l +l 2")
    assert "JOIN" in commands(bob.ask("JOIN #l"))


def test_invite_only_and_an_invite_that_is_used_once(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    h.join("#i", alice)
    alice.ask("MODE #i +i")
    assert params_of(bob.ask("JOIN #i"), ERR_INVITEONLYCHAN) == [
        ("bob", "#i", "Cannot join channel (+i)")
    ]
    assert params_of(alice.ask("INVITE bob #i"), RPL_INVITING) == [("alice", "bob", "#i")]
    (invite,) = bob.messages()
    assert (invite.command, invite.source, invite.params) == ("INVITE", ALICE, ("bob", "#i"))
    assert "JOIN" in commands(bob.ask("JOIN #i"))
    bob.ask("PART #i")
    assert ERR_INVITEONLYCHAN in commands(bob.ask("JOIN #i"))


def test_invite_exception_lets_matching_users_in(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#i", alice)
    alice.ask("MODE #i +iI bob!*@*")
    assert "JOIN" in commands(bob.ask("JOIN #i"))
    assert ERR_INVITEONLYCHAN in commands(carol.ask("JOIN #i"))


def test_ban_and_ban_exception(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#b", alice)
    alice.ask("MODE #b +b *!*@10.0.0.*")
    assert params_of(bob.ask("JOIN #b"), ERR_BANNEDFROMCHAN) == [
        ("bob", "#b", "Cannot join channel (+b)")
    ]
    alice.ask("MODE #b +e bob!*@*")
    assert "JOIN" in commands(bob.ask("JOIN #b"))
    assert ERR_BANNEDFROMCHAN in commands(carol.ask("JOIN #b"))


@pytest.mark.parametrize("mode", ["+i", "+k sesame", "+l 1"])
def test_an_invite_overrides_the_restriction(
    h: Harness, alice: FakeClient, bob: FakeClient, mode: str
) -> None:
    h.join("#x", alice)
    alice.ask(f"MODE #x {mode}")
    alice.ask("INVITE bob #x")
    assert "JOIN" in commands(bob.ask("JOIN #x"))


# --- PART ----------------------------------------------------------------------------


def test_part_with_a_reason_is_seen_by_everyone(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    h.join("#p", alice, bob)
    (own,) = bob.ask("PART #p :see you")
    assert (own.command, own.source, own.params) == ("PART", BOB, ("#p", "see you"))
    (seen,) = alice.messages()
    assert seen.params == ("#p", "see you")
    assert names(alice, "#p") == ["@alice"]


def test_part_errors(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#p", alice)
    assert params_of(bob.ask("PART #p"), ERR_NOTONCHANNEL)[0][1] == "#p"
    assert params_of(bob.ask("PART #nowhere"), ERR_NOSUCHCHANNEL)[0][1] == "#nowhere"


def test_the_last_member_leaving_ends_the_channel(h: Harness, alice: FakeClient) -> None:
    h.join("#gone", alice)
    alice.ask("PART #gone")
    assert h.channel("#gone") is None


# --- KICK ------------------------------------------------------------------------------


@pytest.fixture
def kickroom(h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient) -> Harness:
    h.join("#k", alice, bob, carol)
    return h


def test_kick_several_users(
    kickroom: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    msgs = alice.ask("KICK #k bob,carol :behave")
    assert params_of(msgs, "KICK") == [("#k", "bob", "behave"), ("#k", "carol", "behave")]
    # bob is gone after the first kick; carol sees bob go, then her own kick.
    assert params_of(bob.messages(), "KICK") == [("#k", "bob", "behave")]
    assert len(find_all(carol.messages(), "KICK")) == 2
    assert names(alice, "#k") == ["@alice"]


def test_kick_reason_defaults_to_the_kicker(
    kickroom: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    (kick,) = alice.ask("KICK #k bob")
    assert (kick.source, kick.params) == (ALICE, ("#k", "bob", "alice"))


def test_kick_needs_channel_operator(kickroom: Harness, bob: FakeClient) -> None:
    assert params_of(bob.ask("KICK #k carol"), ERR_CHANOPRIVSNEEDED) == [
        ("bob", "#k", "You're not channel operator")
    ]


def test_kick_errors(kickroom: Harness, alice: FakeClient) -> None:
    outsider = kickroom.connect("dave")
    assert params_of(outsider.ask("KICK #k bob"), ERR_NOTONCHANNEL)[0][1] == "#k"
    assert params_of(alice.ask("KICK #k dave"), ERR_USERNOTINCHANNEL) == [
        ("alice", "dave", "#k", "They aren't on that channel")
    ]
    assert params_of(alice.ask("KICK #k nobody"), ERR_NOSUCHNICK)[0][1] == "nobody"
    assert params_of(alice.ask("KICK #nowhere bob"), ERR_NOSUCHCHANNEL)[0][1] == "#nowhere"


def test_kick_mixes_errors_and_kicks(kickroom: Harness, alice: FakeClient) -> None:
    msgs = alice.ask("KICK #k nobody,bob")
    assert commands(msgs) == [ERR_NOSUCHNICK, "KICK"]


# --- TOPIC -------------------------------------------------------------------------------


def test_topic_set_query_and_seen_on_join(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#t", alice, bob)
    assert params_of(alice.ask("TOPIC #t"), RPL_NOTOPIC) == [("alice", "#t", "No topic is set")]
    (own,) = alice.ask("TOPIC #t :Welcome all")
    assert (own.command, own.source, own.params) == ("TOPIC", ALICE, ("#t", "Welcome all"))
    assert params_of(bob.messages(), "TOPIC") == [("#t", "Welcome all")]
    msgs = bob.ask("TOPIC #t")
    assert params_of(msgs, RPL_TOPIC) == [("bob", "#t", "Welcome all")]
    (whotime,) = params_of(msgs, RPL_TOPICWHOTIME)
    assert whotime[:3] == ("bob", "#t", ALICE)
    assert whotime[3].isdigit()
    joined = carol.ask("JOIN #t")
    assert commands(joined)[:3] == ["JOIN", RPL_TOPIC, RPL_TOPICWHOTIME]


def test_topic_lock_needs_an_operator(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#t", alice, bob)
    assert params_of(bob.ask("TOPIC #t :mine"), ERR_CHANOPRIVSNEEDED) == [
        ("bob", "#t", "You're not channel operator")
    ]
    alice.ask("MODE #t -t")
    assert commands(bob.ask("TOPIC #t :mine")) == ["TOPIC"]


def test_topic_can_be_cleared(h: Harness, alice: FakeClient) -> None:
    h.join("#t", alice)
    alice.ask("TOPIC #t :something")
    (cleared,) = alice.ask("TOPIC #t :")
    assert cleared.params == ("#t", "")
    assert commands(alice.ask("TOPIC #t")) == [RPL_NOTOPIC]


def test_topic_errors(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#t", alice)
    assert commands(bob.ask("TOPIC #t :x")) == [ERR_NOTONCHANNEL]
    assert commands(bob.ask("TOPIC #nowhere")) == [ERR_NOSUCHCHANNEL]
    # Anyone may read the topic of a public channel.
    assert commands(bob.ask("TOPIC #t")) == [RPL_NOTOPIC]


# --- NAMES ---------------------------------------------------------------------------------


def test_names_shows_the_highest_prefix_or_all_with_multi_prefix(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    multi = h.connect("multi", caps=("multi-prefix",))
    h.join("#n", alice, bob, multi)
    alice.ask("MODE #n +ov bob bob")
    assert names(alice, "#n") == ["@alice", "@bob", "multi"]
    assert names(multi, "#n") == ["@alice", "@+bob", "multi"]


def test_names_with_userhost_in_names(h: Harness, alice: FakeClient) -> None:
    full = h.connect("full", caps=("userhost-in-names",), ip="10.9.9.9")
    h.join("#n", alice, full)
    assert names(full, "#n") == ["@" + ALICE, "full!~user@10.9.9.9"]


def test_invisible_members_are_hidden_from_outsiders(
    h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient
) -> None:
    h.join("#n", alice, bob)
    bob.ask("MODE bob +i")
    assert names(carol, "#n") == ["@alice"]
    assert names(alice, "#n") == ["@alice", "bob"]


def test_secret_channels_show_no_names_to_outsiders(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    h.join("#s", alice)
    alice.ask("MODE #s +s")
    assert commands(bob.ask("NAMES #s")) == [RPL_ENDOFNAMES]
    (reply,) = params_of(alice.ask("NAMES #s"), RPL_NAMREPLY)
    assert reply[1:3] == ("@", "#s")


def test_names_of_nothing_ends_at_once(h: Harness, alice: FakeClient) -> None:
    assert params_of(alice.ask("NAMES #nowhere"), RPL_ENDOFNAMES) == [
        ("alice", "#nowhere", "End of /NAMES list")
    ]


def test_long_names_lists_are_split_under_the_line_limit(h: Harness) -> None:
    members = [h.connect(f"member_with_a_long_nick_{i:03d}", ip=f"10.1.{i}.1") for i in range(40)]
    h.join("#big", *members)
    members[0].send("NAMES #big")
    lines = members[0].lines()
    assert sum(f" {RPL_NAMREPLY} " in line for line in lines) > 1
    assert all(len(line.encode()) + 2 <= 512 for line in lines)
    assert len(names(members[0], "#big")) == 40


# --- LIST ------------------------------------------------------------------------------------


@pytest.fixture
def listed(h: Harness) -> tuple[FakeClient, FakeClient]:
    """#one with 1 member, #two with 2, #three with 3 (topic "three")."""
    users = [h.connect(f"u{i}") for i in range(3)]
    h.join("#one", users[0])
    h.join("#two", *users[:2])
    h.join("#three", *users)
    users[0].ask("TOPIC #three :three")
    viewer = h.connect("viewer")
    return users[0], viewer


def _listing(client: FakeClient, line: str) -> dict[str, tuple[str, ...]]:
    msgs = client.ask(line)
    assert commands(msgs)[0] == RPL_LISTSTART
    assert commands(msgs)[-1] == RPL_LISTEND
    return {p[1]: p[2:] for p in params_of(msgs, RPL_LIST)}


def test_list_everything(listed: tuple[FakeClient, FakeClient]) -> None:
    _, viewer = listed
    assert _listing(viewer, "LIST") == {
        "#one": ("1", ""),
        "#two": ("2", ""),
        "#three": ("3", "three"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (">1", {"#two", "#three"}),
        ("<3", {"#one", "#two"}),
        (">1,<3", {"#two"}),
        ("#t*", {"#two", "#three"}),
        ("#ONE", {"#one"}),
        ("#none", set()),
        ("!#t*", {"#one"}),
        ("!#one,!#two", {"#three"}),
    ],
)
def test_list_filters(
    listed: tuple[FakeClient, FakeClient], query: str, expected: set[str]
) -> None:
    _, viewer = listed
    assert set(_listing(viewer, f"LIST {query}")) == expected


def test_list_by_creation_and_topic_time(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr(h.server, "now", lambda: clock[0])
    op = h.connect("op")
    op.ask("JOIN #old")
    op.ask("TOPIC #old :set long ago")
    clock[0] += 180  # three minutes later
    op.ask("JOIN #new")
    op.ask("TOPIC #new :fresh")
    op.ask("JOIN #bare")  # no topic: never matches a T condition
    clock[0] += 60
    assert set(_listing(op, "LIST C>2")) == {"#old"}
    assert set(_listing(op, "LIST C<2")) == {"#new", "#bare"}
    assert set(_listing(op, "LIST C>0")) == {"#old", "#new", "#bare"}
    assert set(_listing(op, "LIST T>2")) == {"#old"}
    assert set(_listing(op, "LIST T<2")) == {"#new"}
    assert set(_listing(op, "LIST T<0")) == set()
    assert set(_listing(op, "LIST C<10,!#bare")) == {"#old", "#new"}


def test_list_hides_secret_channels_from_outsiders(
    listed: tuple[FakeClient, FakeClient],
) -> None:
    member, viewer = listed
    member.ask("MODE #one +s")
    assert "#one" not in _listing(viewer, "LIST")
    assert "#one" in _listing(member, "LIST")


# --- INVITE ------------------------------------------------------------------------------------


def test_invite_errors(h: Harness, alice: FakeClient, bob: FakeClient, carol: FakeClient) -> None:
    h.join("#i", alice, bob)
    assert commands(alice.ask("INVITE nobody #i")) == [ERR_NOSUCHNICK]
    assert params_of(alice.ask("INVITE bob #i"), ERR_USERONCHANNEL) == [
        ("alice", "bob", "#i", "is already on channel")
    ]
    assert commands(carol.ask("INVITE alice #i")) == [ERR_NOTONCHANNEL]
    alice.ask("MODE #i +i")
    assert commands(bob.ask("INVITE carol #i")) == [ERR_CHANOPRIVSNEEDED]


def test_invite_an_away_user_and_invite_notify(h: Harness, alice: FakeClient) -> None:
    watcher = h.connect("watcher", caps=("invite-notify",))
    h.join("#i", alice, watcher)
    alice.ask("MODE #i +o watcher")
    watcher.messages()
    bob = h.connect("bob")
    bob.ask("AWAY :lunch")
    msgs = alice.ask("INVITE bob #i")
    assert params_of(msgs, RPL_AWAY) == [("alice", "bob", "lunch")]
    notified = find(watcher.messages(), "INVITE")
    assert (notified.source, notified.params) == (ALICE, ("bob", "#i"))


# --- RENAME (draft/channel-rename) ---------------------------------------------------------------


def test_rename_with_and_without_the_cap(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    modern = h.connect("modern", caps=("draft/channel-rename",))
    h.join("#old", alice, bob, modern)
    alice.ask("TOPIC #old :kept")
    h.drain()
    msgs = alice.ask("RENAME #old #new :tidy up")
    # alice has no cap: she sees herself leave and come back, with topic and names.
    assert commands(msgs) == [
        "PART", "JOIN", RPL_TOPIC, RPL_TOPICWHOTIME, RPL_NAMREPLY, RPL_ENDOFNAMES,
    ]  # fmt: skip
    assert (msgs[0].source, msgs[0].params) == (ALICE, ("#old", "Channel renamed to #new: tidy up"))
    assert (msgs[1].source, msgs[1].params) == (ALICE, ("#new",))
    bobs = bob.messages()
    assert (bobs[0].command, bobs[0].source) == ("PART", BOB)
    assert params_of(bobs, "JOIN") == [("#new",)]
    (renamed,) = modern.messages()
    assert (renamed.command, renamed.source) == ("RENAME", ALICE)
    assert renamed.params == ("#old", "#new", "tidy up")
    assert h.channel("#old") is None
    assert names(modern, "#new") == ["@alice", "bob", "modern"]


def test_rename_to_a_name_in_use_fails(h: Harness, alice: FakeClient) -> None:
    h.join("#old", alice)
    h.join("#taken", alice)
    (fail,) = alice.ask("RENAME #old #taken")
    assert fail.command == "FAIL"
    assert fail.params[:4] == ("RENAME", "CHANNEL_NAME_IN_USE", "#old", "#taken")
    assert h.channel("#old") is not None


def test_rename_to_a_name_of_another_kind_fails(h: Harness, alice: FakeClient) -> None:
    h.join("#old", alice)
    (fail,) = alice.ask("RENAME #old &local")
    assert fail.params[:2] == ("RENAME", "CANNOT_RENAME")


def test_rename_needs_an_operator(h: Harness, alice: FakeClient, bob: FakeClient) -> None:
    h.join("#old", alice, bob)
    assert commands(bob.ask("RENAME #old #new")) == [ERR_CHANOPRIVSNEEDED]
    assert commands(bob.ask("RENAME #nowhere #new")) == [ERR_NOSUCHCHANNEL]


def test_channel_names_keep_their_first_spelling(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    alice.ask("JOIN #Room")
    (join,) = params_of(bob.ask("JOIN #ROOM"), "JOIN")
    assert join == ("#Room",)
    assert commands(bob.ask("PART #room")) == ["PART"]


def test_secret_channels_tell_outsiders_nothing(
    h: Harness, alice: FakeClient, bob: FakeClient
) -> None:
    h.join("#s", alice)
    alice.ask("MODE #s +s", "TOPIC #s :hidden")
    assert commands(bob.ask("WHO #s")) == [RPL_ENDOFWHO]
    assert commands(bob.ask("TOPIC #s")) == [ERR_NOTONCHANNEL]
