"""Every command family's table, merged into one; a verb defined twice fails at import."""

from ..dispatch import merge
from . import channels, info, messaging, modes, operators, queries, registration, users

COMMANDS = merge(
    registration.table,
    channels.table,
    messaging.table,
    modes.table,
    queries.table,
    operators.table,
    users.table,
    info.table,
)
