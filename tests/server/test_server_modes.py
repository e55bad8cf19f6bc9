"""MODE on channels (membership, lists, key, limit, flags) and on users."""

from __future__ import annotations

import pytest

from hubbub.protocol.numerics import (
    ERR_CHANOPRIVSNEEDED,
    ERR_KEYSET,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_UMODEUNKNOWNFLAG,
    ERR_UNKNOWNMODE,
    ERR_USERNOTINCHANNEL,
    ERR_USERSDONTMATCH,
    RPL_BANLIST,
    RPL_CHANNELMODEIS,
    RPL_CREATIONTIME,
    RPL_ENDOFBANLIST,
    RPL_ENDOFEXCEPTLIST,
    RPL_ENDOFINVEXLIST,
    RPL_EXCEPTLIST,
    RPL_INVEXLIST,
    RPL_UMODEIS,
)

from serverharness import ALICE, FakeClient, Harness, commands, params_of


@pytest.fixture
def room(h: Harness) -> tuple[FakeClient, FakeClient, FakeClient]:
    """#m with alice (op), bob and carol; dave exists outside it."""
    alice, bob, carol = h.connect("alice"), h.connect("bob"), h.connect("carol")
    h.connect("dave")
    h.join("#m", alice, bob, carol)
    return alice, bob, carol


Room = tuple[FakeClient, FakeClient, FakeClient]


def modes_of(client: FakeClient) -> list[tuple[str, ...]]:
    return params_of(client.messages(), "MODE")


# --- membership modes ------------------------------------------------------------


def test_op_and_voice_are_announced_to_everyone(room: Room) -> None:
    alice, bob, carol = room
    (echo,) = alice.ask("MODE #m +ov bob carol")
    assert (echo.source, echo.params) == (ALICE, ("#m", "+ov", "bob", "carol"))
    assert modes_of(bob) == [("#m", "+ov", "bob", "carol")]
    assert modes_of(carol) == [("#m", "+ov", "bob", "carol")]
    # bob is an operator now and may pass it on.
    assert params_of(bob.ask("MODE #m -v carol"), "MODE") == [("#m", "-v", "carol")]


def test_membership_mode_errors(room: Room) -> None:
    alice, bob, _ = room
    assert params_of(alice.ask("MODE #m +o dave"), ERR_USERNOTINCHANNEL) == [
        ("alice", "dave", "#m", "They aren't on that channel")
    ]
    assert params_of(alice.ask("MODE #m +o nobody"), ERR_NOSUCHNICK)[0][1] == "nobody"
    assert params_of(bob.ask("MODE #m +o carol"), ERR_CHANOPRIVSNEEDED) == [
        ("bob", "#m", "You're not channel operator")
    ]


def test_no_such_channel(room: Room) -> None:
    alice, _, _ = room
    assert commands(alice.ask("MODE #nowhere +n")) == [ERR_NOSUCHCHANNEL]


# --- lists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("letter", "item", "end"),
    [
        ("b", RPL_BANLIST, RPL_ENDOFBANLIST),
        ("e", RPL_EXCEPTLIST, RPL_ENDOFEXCEPTLIST),
        ("I", RPL_INVEXLIST, RPL_ENDOFINVEXLIST),
    ],
)
def test_list_modes_add_list_and_remove(room: Room, letter: str, item: str, end: str) -> None:
    alice, bob, _ = room
    (echo,) = alice.ask(f"MODE #m +{letter} troll")
    assert echo.params == ("#m", f"+{letter}", "troll!*@*")
    assert modes_of(bob) == [("#m", f"+{letter}", "troll!*@*")]
    # Anyone may read the list.
    msgs = bob.ask(f"MODE #m +{letter}")
    assert commands(msgs) == [item, end]
    entry = msgs[0].params
    assert entry[:4] == ("bob", "#m", "troll!*@*", ALICE)
    assert entry[4].isdigit()
    assert msgs[1].params[:2] == ("bob", "#m")
    # Setting it again changes nothing and says nothing.
    assert alice.ask(f"MODE #m +{letter} troll!*@*") == []
    assert params_of(alice.ask(f"MODE #m -{letter} troll!*@*"), "MODE") == [
        ("#m", f"-{letter}", "troll!*@*")
    ]
    assert commands(bob.ask(f"MODE #m {letter}")) == [end]


def test_list_changes_need_an_operator(room: Room) -> None:
    _, bob, _ = room
    assert commands(bob.ask("MODE #m +b troll")) == [ERR_CHANOPRIVSNEEDED]


# --- key, limit, flags -----------------------------------------------------------------


def test_channel_mode_query_324_and_329(room: Room) -> None:
    alice, bob, _ = room
    msgs = bob.ask("MODE #m")
    assert commands(msgs) == [RPL_CHANNELMODEIS, RPL_CREATIONTIME]
    assert msgs[0].params == ("bob", "#m", "+nt")
    assert msgs[1].params[:2] == ("bob", "#m")
    assert msgs[1].params[2].isdigit()
    alice.ask("MODE #m +kl sesame 10")
    assert bob.ask("MODE #m")[0].params == ("bob", "#m", "+ntkl", "sesame", "10")


def test_key_already_set_gets_467(room: Room) -> None:
    alice, _, _ = room
    assert params_of(alice.ask("MODE #m +k one"), "MODE") == [("#m", "+k", "one")]
    assert params_of(alice.ask("MODE #m +k two"), ERR_KEYSET) == [
        ("alice", "#m", "Channel key already set")
    ]
    (removed,) = params_of(alice.ask("MODE #m -k one"), "MODE")
    assert removed[:2] == ("#m", "-k")
    assert params_of(alice.ask("MODE #m +k two"), "MODE") == [("#m", "+k", "two")]


def test_limit_set_and_removed(room: Room) -> None:
    alice, bob, _ = room
    assert params_of(alice.ask("MODE #m +l 5"), "MODE") == [("#m", "+l", "5")]
    assert modes_of(bob) == [("#m", "+l", "5")]
    assert params_of(alice.ask("MODE #m -l"), "MODE") == [("#m", "-l")]
    assert alice.ask("MODE #m -l") == []


def test_unknown_mode_gets_472_and_the_rest_applies(room: Room) -> None:
    alice, bob, _ = room
    msgs = alice.ask("MODE #m +Zm")
    assert params_of(msgs, ERR_UNKNOWNMODE) == [("alice", "Z", "is unknown mode char to me")]
    assert params_of(msgs, "MODE") == [("#m", "+m")]
    assert modes_of(bob) == [("#m", "+m")]


def test_only_real_changes_are_echoed(room: Room) -> None:
    alice, bob, _ = room
    assert alice.ask("MODE #m +nt") == []
    assert alice.ask("MODE #m +o alice") == []
    assert alice.ask("MODE #m -v bob") == []
    assert params_of(alice.ask("MODE #m +ntms"), "MODE") == [("#m", "+ms")]
    assert params_of(alice.ask("MODE #m -n+m-s"), "MODE") == [("#m", "-ns")]
    assert modes_of(bob) == [("#m", "+ms"), ("#m", "-ns")]


def test_flags_need_an_operator(room: Room) -> None:
    _, bob, carol = room
    assert commands(bob.ask("MODE #m +m")) == [ERR_CHANOPRIVSNEEDED]
    assert carol.messages() == []


# --- user modes ----------------------------------------------------------------------------


def test_user_modes_set_and_query(h: Harness) -> None:
    alice = h.connect("alice")
    (echo,) = alice.ask("MODE alice +iwB")
    assert (echo.command, echo.source, echo.params) == ("MODE", ALICE, ("alice", "+iwB"))
    assert params_of(alice.ask("MODE alice"), RPL_UMODEIS) == [("alice", "+Biw")]
    assert params_of(alice.ask("MODE alice -w"), "MODE") == [("alice", "-w")]
    assert alice.ask("MODE alice -w") == []


def test_user_mode_errors(h: Harness) -> None:
    alice = h.connect("alice")
    h.connect("bob")
    assert params_of(alice.ask("MODE alice +Z"), ERR_UMODEUNKNOWNFLAG) == [
        ("alice", "Unknown MODE flag")
    ]
    assert params_of(alice.ask("MODE bob +i"), ERR_USERSDONTMATCH) == [
        ("alice", "Can't change mode for other users")
    ]
    assert commands(alice.ask("MODE bob")) == [ERR_USERSDONTMATCH]
    assert commands(alice.ask("MODE nobody")) == [ERR_NOSUCHNICK]


def test_users_cannot_make_themselves_operators(h: Harness) -> None:
    alice = h.connect("alice")
    assert alice.ask("MODE alice +o") == []
    assert params_of(alice.ask("MODE alice"), RPL_UMODEIS) == [("alice", "+")]
