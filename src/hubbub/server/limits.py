"""Protocol limits, in one place: the commands enforce them and ISUPPORT
announces them from the same constants, so the two cannot disagree."""

from __future__ import annotations

from typing import Final

NICKLEN: Final = 30
CHANNELLEN: Final = 50
USERLEN: Final = 18
HOSTLEN: Final = 64
TOPICLEN: Final = 390
KICKLEN: Final = 390
AWAYLEN: Final = 390
REALNAME_LEN: Final = 390
#: Channels one user may be in.
MAX_CHANNELS: Final = 100
#: Entries per list mode (b, e, I).
MAX_LIST: Final = 100
#: Mode changes with a parameter per MODE command.
MAX_PARAM_MODES: Final = 4
MONITOR_LIMIT: Final = 100
#: Targets per PRIVMSG/NOTICE/TAGMSG and per KICK.
MAX_TARGETS: Final = 4
MAX_KICK_TARGETS: Final = 4
#: Messages one CHATHISTORY or SEARCH answers at most (ISUPPORT CHATHISTORY).
CHATHISTORY_MAX: Final = 100
