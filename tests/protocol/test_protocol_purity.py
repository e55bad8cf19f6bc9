"""The protocol layer stays sans-I/O: no networking or storage imports.

The check reads the source with :mod:`ast` instead of looking at
``sys.modules``, so it does not depend on what other tests imported first,
and it sees imports inside functions and ``if`` blocks too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hubbub.protocol

FORBIDDEN = frozenset({"asyncio", "socket", "ssl", "selectors", "sqlite3"})
PACKAGE = Path(hubbub.protocol.__file__).resolve().parent


def imported_roots(source: str) -> set[str]:
    """Top-level names of every absolute module ``source`` imports."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import asyncio", {"asyncio"}),
        ("import os, socket as s", {"os", "socket"}),
        ("from asyncio.events import AbstractEventLoop", {"asyncio"}),
        ("def f():\n    import ssl\n", {"ssl"}),
        ("try:\n    import selectors\nexcept ImportError:\n    pass\n", {"selectors"}),
        ("import importlib\nimportlib.import_module('sqlite3')", {"importlib", "sqlite3"}),
        ("__import__('socket')", {"socket"}),
        ("from . import tags\nfrom .errors import ProtocolError", set()),
    ],
)
def test_scanner_sees_imports(source: str, found: set[str]) -> None:
    assert imported_roots(source) == found


def test_protocol_imports_no_io_modules() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    names = {f.name for f in files}
    # Guard against scanning the wrong directory and passing on nothing.
    assert {"__init__.py", "message.py", "framing.py", "tags.py"} <= names
    offenders = {
        str(f.relative_to(PACKAGE)): sorted(
            imported_roots(f.read_text(encoding="utf-8")) & FORBIDDEN
        )
        for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_public_api_is_exported_once() -> None:
    """Every name in ``__all__`` exists and there are no duplicates."""
    exported = hubbub.protocol.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        assert hasattr(hubbub.protocol, name), name
