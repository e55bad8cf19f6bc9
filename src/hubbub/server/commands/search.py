"""Full-text search over history: SEARCH (IRCv3 work-in-progress draft/search,
and soju's soju.im/search, which is the same command).

``SEARCH in=#chan;from=nick;after=<time>;before=<time>;text=words;limit=n``
(attributes written like message tags). Only what the asker may read is
searched: the channels it is a member of now, and its own private
conversations; ``in`` narrows that to one of them and can never widen it.
Results are PRIVMSG and NOTICE lines in a batch: ``draft/search``, or
``soju.im/search`` for a client that asked for soju's capability only.
"""

from __future__ import annotations

from hubbub.protocol import Message, casefold, is_channel_name, is_valid_nick, parse_tags
from hubbub.store.base import Found, SearchQuery

from ..dispatch import CommandTable, Context
from ..ids import parse_server_time
from ..limits import CHANNELLEN, CHATHISTORY_MAX, NICKLEN
from ..playback import add_history
from .history import viewer_keys

table = CommandTable()

#: How many results a SEARCH without ``limit`` gets.
DEFAULT_LIMIT = 50
_KNOWN = frozenset({"in", "from", "after", "before", "text", "limit"})


def batch_type(caps: frozenset[str]) -> str:
    """The batch type this client knows search results by."""
    return "soju.im/search" if "soju.im/search" in caps and "draft/search" not in caps else (
        "draft/search")  # fmt: skip


def _invalid(ctx: Context, param: str, why: str) -> None:
    ctx.standard_reply("FAIL", "INVALID_PARAMS", param, text=why)


def parse_search(ctx: Context, raw: str) -> SearchQuery | None:
    """The query ``raw`` asks for, within what the user may read; None after
    answering INVALID_PARAMS."""
    attrs = parse_tags(raw)
    unknown = sorted(set(attrs) - _KNOWN)
    if unknown:
        _invalid(ctx, unknown[0], f"Unknown search attribute {unknown[0]}")
        return None
    user, network = ctx.user, ctx.server.network
    query: dict[str, object] = {
        "owners": viewer_keys(user),
        "channels": tuple(user.channels),
        "text": attrs.get("text", ""),
        "limit": DEFAULT_LIMIT,
    }
    where = attrs.get("in")
    if where:
        if is_channel_name(where, CHANNELLEN):
            chan = network.channel(where)
            # A channel one is not in is searched like one that does not exist.
            query["in_channel"] = chan.name_cf if chan is not None else casefold(where)
        elif is_valid_nick(where, NICKLEN):
            query["in_peer"] = casefold(where)
        else:
            _invalid(ctx, "in", f"{where} is not a channel or a nick")
            return None
    if attrs.get("from"):
        query["from_nick"] = attrs["from"]
    for key in ("after", "before"):
        if key in attrs:
            ms = parse_server_time(attrs[key])
            if ms is None:
                _invalid(ctx, key, f"{key} must be a time such as 2024-01-02T03:04:05.000Z")
                return None
            query[f"{key}_ms"] = ms
    if "limit" in attrs:
        limit = attrs["limit"]
        if not limit.isdigit() or int(limit) < 1:
            _invalid(ctx, "limit", "limit must be a positive number")
            return None
        query["limit"] = min(int(limit), CHATHISTORY_MAX)
    return SearchQuery(**query)  # type: ignore[arg-type]


@table("SEARCH", min_params=1)
def search(ctx: Context, msg: Message) -> None:
    """SEARCH <attributes> (in, from, after, before, text, limit)"""
    history = ctx.server.config.history
    if not (history.enabled and history.search):
        ctx.standard_reply("FAIL", "INTERNAL_ERROR", text="Search is off on this server")
        return
    query = parse_search(ctx, msg.params[0])
    if query is None:
        return
    store, network = ctx.server.history, ctx.server.network
    store.commit()
    store.index()  # the search must see what was just said
    kind = batch_type(ctx.session.caps)

    def answer(found: list[Found]) -> None:
        add_history(ctx.rb, found, network, kind, ())

    def failed(exc: Exception) -> None:
        ctx.standard_reply("FAIL", "INTERNAL_ERROR", text="The search could not be run")

    ctx.run_blocking(lambda: store.search(query), answer, failed, query="search")
