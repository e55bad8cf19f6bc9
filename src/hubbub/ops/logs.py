"""Log lines for people and for log systems: ``hubbub serve --log-format human|json``.

``human`` is one readable line per record (time, level, logger, sentence).
``json`` is one JSON object per line, for Loki, Elasticsearch, journald's
``MESSAGE`` or ``jq``, with keys that do not change between versions:

========== ===============================================================
``time``    when, RFC 3339 in UTC with milliseconds (``2026-11-30T02:39:40.123Z``)
``level``   ``debug``, ``info``, ``warning``, ``error`` or ``critical``
``event``   what happened, a stable dotted name (``client.disconnected``); a
            record from a library (asyncio, websockets) carries its logger's name
``client_id`` the connection (its user's uid once registered), when the
            record is about one
``address`` the client's IP address, when the record is about one
``reason``  why (a disconnect reason, an error), when there is one
``message`` the sentence the human format shows
``logger``  the Python logger
``exc``     the traceback, when the record carries one
========== ===============================================================

Other fields a call site passes (``nick``, ``transport``, ``command``,
``path``...) follow, sorted. The server's log calls name their event and
their fields with ``extra=``; nothing parses the sentences.

No line holds what a client said or a secret, at any level: the server
never logs a message's text, a QUIT's text or a password, and a record that
sets ``exc_private`` (a command's handler that raised, whose exception may
quote what the client sent) shows the exception's type and traceback
without its message, in both formats.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, Final, Literal

LogFormat = Literal["human", "json"]
LOG_FORMATS: Final = ("human", "json")

#: The keys every JSON line may have, in this order (the stable part).
KEYS: Final = ("time", "level", "event", "client_id", "address", "reason", "message", "logger")
#: The attributes every LogRecord has: anything else came from ``extra=``.
_RECORD_ATTRS: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "exc_private",
}  # fmt: skip
_WITHHELD = "(message withheld: it may quote what a client sent)"

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def exception_text(record: logging.LogRecord) -> str:
    """The record's traceback, its message withheld when ``exc_private``."""
    if not record.exc_info or record.exc_info[1] is None:
        return ""
    exc_type, exc, tb = record.exc_info
    if not getattr(record, "exc_private", False):
        return "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n")
    # Where it was raised, and what kind of error: enough to find the bug.
    # Not the message, and not the chained exceptions (their messages too).
    stack = "".join(traceback.format_tb(tb))
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return f"Traceback (most recent call last):\n{stack}{name}: {_WITHHELD}"


class HumanFormatter(logging.Formatter):
    """``TIME LEVEL LOGGER: sentence``, with private exceptions kept private."""

    def __init__(self) -> None:
        super().__init__(HUMAN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            # Set here, the base class uses it instead of formatting the exception.
            record.exc_text = exception_text(record)
        return super().format(record)


def _json_safe(value: Any) -> Any:
    """A field value JSON can hold as it is, or its text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring for the keys)."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC)
        out: dict[str, Any] = {
            "time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or record.name,
        }
        for key in ("client_id", "address", "reason"):
            value = getattr(record, key, None)
            if value is not None:
                out[key] = _json_safe(value)
        out["message"] = record.getMessage()
        out["logger"] = record.name
        extra = sorted(k for k in vars(record) if k not in _RECORD_ATTRS and k not in out)
        for key in extra:
            out[key] = _json_safe(getattr(record, key))
        if record.exc_info:
            out["exc"] = exception_text(record)
        elif record.stack_info:
            out["exc"] = record.stack_info
        # One line, whatever the values hold: json.dumps escapes newlines.
        return json.dumps(out, ensure_ascii=False)


def formatter(fmt: LogFormat) -> logging.Formatter:
    """The formatter of ``--log-format``."""
    return JsonFormatter() if fmt == "json" else HumanFormatter()


def setup(level: str, fmt: LogFormat) -> None:
    """Send every log record (the server's, the libraries', Python's
    warnings) to stderr at ``level``, in ``fmt``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    logging.captureWarnings(True)
