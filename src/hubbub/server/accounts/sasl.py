"""One SASL exchange (AUTHENTICATE), as a session holds it between lines.

The command layer (:mod:`hubbub.server.commands.sasl`) drives it; this is
only the state: which mechanism, the chunks read so far, where the exchange
stands, and (for SCRAM) the server's half of the exchange.
"""

from __future__ import annotations

from hubbub.auth.chunks import ChunkReader
from hubbub.auth.scram import ScramServer

PLAIN = "PLAIN"
SCRAM = "SCRAM-SHA-256"
EXTERNAL = "EXTERNAL"
#: The mechanisms, best first (as the ``sasl`` capability lists them).
MECHANISMS = (SCRAM, PLAIN, EXTERNAL)


class Exchange:
    """A SASL exchange in progress."""

    __slots__ = ("account", "mechanism", "reader", "scram", "step")

    def __init__(self, mechanism: str) -> None:
        self.mechanism = mechanism
        self.reader = ChunkReader()
        #: Payloads received so far (SCRAM has three: first, final, the empty ack).
        self.step = 0
        self.scram: ScramServer | None = None
        #: SCRAM: the account being proved (None: a decoy for an unknown name).
        self.account: str | None = None
