"""Every command family's table, merged into one; a verb defined twice fails at import."""

from ..dispatch import merge
from . import (
    accounts,
    channels,
    history,
    messaging,
    modes,
    operators,
    presence,
    redaction,
    registration,
    sasl,
    search,
    server_queries,
    user_queries,
)

COMMANDS = merge(
    registration.table,
    channels.table,
    messaging.table,
    presence.table,
    modes.table,
    user_queries.table,
    server_queries.table,
    operators.table,
    history.table,
    redaction.table,
    search.table,
    accounts.table,
    sasl.table,
)
