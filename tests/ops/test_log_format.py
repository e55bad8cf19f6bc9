"""The log formats: JSON keys and values, private exceptions, and every
server log call naming its event."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

from hubbub.ops.logs import HumanFormatter, JsonFormatter

SRC = Path(__file__).resolve().parents[2] / "src" / "hubbub"
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def record(msg: str, *args: object, exc: BaseException | None = None, **extra: object
           ) -> logging.LogRecord:  # fmt: skip
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    rec = logging.LogRecord("hubbub.test", logging.INFO, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def raised(text: str) -> BaseException:
    try:
        int(text)
    except ValueError as exc:
        return exc
    raise AssertionError


def test_a_json_line_has_the_stable_keys_first_then_the_call_s_fields() -> None:
    rec = record("%s disconnected: %s", "alice", "Ping timeout", event="client.disconnected",
                 client_id="ab-1", address="192.0.2.7", reason="Ping timeout: 120 seconds",
                 transport="tls", nick="alice")  # fmt: skip
    rec.created = 1_796_000_000.5
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    data = json.loads(line)
    assert list(data) == ["time", "level", "event", "client_id", "address", "reason",
                          "message", "logger", "nick", "transport"]  # fmt: skip
    assert data["time"] == "2026-11-30T00:53:20.500Z"
    assert data["level"] == "info"
    assert data["message"] == "alice disconnected: Ping timeout"


def test_a_record_without_an_event_is_named_after_its_logger() -> None:
    data = json.loads(JsonFormatter().format(record("from a library")))
    assert data["event"] == "hubbub.test"
    assert "client_id" not in data and "reason" not in data


def test_newlines_in_a_message_stay_on_one_line() -> None:
    line = JsonFormatter().format(record("two\nlines", event="x"))
    assert "\n" not in line and json.loads(line)["message"] == "two\nlines"


def test_a_private_exception_shows_where_and_what_kind_never_its_message() -> None:
    exc = raised("hunter2 said by a client")
    for formatter in (JsonFormatter(), HumanFormatter()):
        out = formatter.format(record("handler failed", exc=exc, exc_private=True, event="x"))
        assert "hunter2" not in out
        assert "builtins.ValueError: (message withheld" in out
        assert "in raised" in out  # the frame where it was raised
    # Not private: the whole exception, message included.
    out = JsonFormatter().format(record("upkeep failed", exc=raised("visible"), event="y"))
    assert "invalid literal for int() with base 10: 'visible'" in json.loads(out)["exc"]


def log_calls(path: Path) -> list[ast.Call]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOG_METHODS
            and ast.unparse(node.func.value) in ("log", 'logging.getLogger("hubbub")')
        ):
            calls.append(node)
    return calls


def dict_event(node: ast.AST) -> str | None:
    """The "event" of the first dict literal in ``node`` that has one."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Dict):
            for key, value in zip(sub.keys, sub.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "event":
                    return value.value if isinstance(value, ast.Constant) else "?"
    return None


def field_helpers(tree: ast.AST) -> dict[str, str]:
    """Functions of a module that build a call's log fields: name -> event."""
    helpers = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and ret.value is not None:
                    event = dict_event(ret.value)
                    if event is not None:
                        helpers[node.name] = event
    return helpers


def event_of(call: ast.Call, helpers: dict[str, str] | None = None) -> str | None:
    """The literal "event" in the call's ``extra=``, directly or from a
    helper of the module that builds the fields."""
    for kw in call.keywords:
        if kw.arg != "extra":
            continue
        event = dict_event(kw.value)
        if event is not None:
            return event
        for node in ast.walk(kw.value):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (helpers or {}):
                return (helpers or {})[ast.unparse(node.func)]
    return None


def test_every_server_log_call_names_its_event() -> None:
    """The client library logs for its user; everything the server runs
    logs with an event name (JSON logs are searched by it)."""
    missing, found = [], 0
    for path in SRC.rglob("*.py"):
        if "client" in path.relative_to(SRC).parts:
            continue
        helpers = field_helpers(ast.parse(path.read_text()))
        for call in log_calls(path):
            found += 1
            event = event_of(call, helpers)
            if event is None or not event.islower() or "." not in event:
                missing.append(f"{path.relative_to(SRC)}:{call.lineno}: {ast.unparse(call)[:70]}")
    assert found > 30
    assert missing == []


def test_the_event_check_finds_a_call_without_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        'def fields():\n    return {"event": "c.d"}\n'
        'log.info("no event here")\nlog.info("x", extra={"event": "a.b"})\n'
        'log.info("y", extra=fields())\nlog.info("z", extra=other())\n'
    )
    helpers = field_helpers(ast.parse(bad.read_text()))
    assert [event_of(c, helpers) for c in log_calls(bad)] == [None, "a.b", "c.d", None]


