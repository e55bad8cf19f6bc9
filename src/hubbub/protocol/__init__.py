"""The sans-I/O IRC protocol layer shared by the hubbub server and client.

No networking here at all (like h11): bytes and strings in, messages and
bytes out. A test keeps asyncio, socket, ssl and sqlite3 out of this package.
"""

from .casemap import Casemapping, casefold, irc_equal
from .errors import EmptyLine, MissingCommand, ProtocolError
from .framing import (
    MAX_BODY,
    MAX_CLIENT_TAGS,
    MAX_LINE,
    MAX_TAGS,
    TOO_LONG,
    LineBuffer,
    check_length,
    decode,
)
from .isupport import isupport_chunks, isupport_tokens, parse_isupport
from .masks import (
    UserHost,
    is_channel_name,
    is_valid_hostname,
    is_valid_nick,
    mask_match,
    normalise_mask,
    split_userhost,
)
from .message import NO_TAGS, Message, body_size, fit, middle_param, parse_line, reply_params
from .tags import escape_value, parse_tags, serialise_tags, unescape_value

__all__ = [
    "MAX_BODY",
    "MAX_CLIENT_TAGS",
    "MAX_LINE",
    "MAX_TAGS",
    "NO_TAGS",
    "TOO_LONG",
    "Casemapping",
    "EmptyLine",
    "LineBuffer",
    "Message",
    "MissingCommand",
    "ProtocolError",
    "UserHost",
    "body_size",
    "casefold",
    "check_length",
    "decode",
    "escape_value",
    "fit",
    "irc_equal",
    "is_channel_name",
    "is_valid_hostname",
    "is_valid_nick",
    "isupport_chunks",
    "isupport_tokens",
    "mask_match",
    "middle_param",
    "normalise_mask",
    "parse_isupport",
    "parse_line",
    "parse_tags",
    "reply_params",
    "serialise_tags",
    "split_userhost",
    "unescape_value",
]
