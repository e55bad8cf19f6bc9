"""Every command family's table, merged into one; a verb defined twice fails at import."""

from ..dispatch import merge
from . import channels, messaging, modes, queries, registration

COMMANDS = merge(
    registration.table,
    channels.table,
    messaging.table,
    modes.table,
    queries.table,
)
