"""The command line: ``hubbub serve`` and ``hubbub chat`` (see DESIGN.md, the contract)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from hubbub import __version__
from hubbub.config import Config, ConfigError, load, parse_address, with_overrides

T = TypeVar("T")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubbub", description="A chat server that speaks IRC.")
    parser.add_argument("--version", action="version", version=f"hubbub {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{serve,chat}")

    serve = sub.add_parser(
        "serve", help="run the chat server in the foreground",
        description="Run the chat server in the foreground. SIGINT, SIGTERM and SIGHUP "
        "(the terminal closing) stop it cleanly; SIGUSR1 reloads the config file.",
    )  # fmt: skip
    serve.add_argument("--config", metavar="PATH", help="TOML configuration file")
    serve.add_argument(
        "--listen", metavar="HOST:PORT", action="append",
        help="plain TCP listener (repeatable; replaces server.listen)",
    )  # fmt: skip
    serve.add_argument("--name", help="server name shown to clients")
    serve.add_argument("--data-dir", metavar="DIR", help="where data lives (./hubbub-data)")
    serve.add_argument(
        "--log-level", default="info",
        choices=["debug", "info", "warning", "error"], help="log verbosity (info)",
    )  # fmt: skip

    chat = sub.add_parser("chat", help="the terminal chat client")
    chat.add_argument("address", nargs="?", default="127.0.0.1", metavar="HOST[:PORT]")
    chat.add_argument("--nick", help="nickname (asked for when missing)")
    chat.add_argument("--tls", action="store_true", help="connect with TLS")
    chat.add_argument("--plain", action="store_true", help="line mode for pipes and scripts")
    return parser


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed, the stdlib loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def _build_config(args: argparse.Namespace) -> Config:
    base = load(args.config) if args.config else Config()
    return with_overrides(base, listen=args.listen, name=args.name, data_dir=args.data_dir)


def serve_main(args: argparse.Namespace) -> int:
    """``hubbub serve``."""
    # Until the server installs its handlers, a reload request is moot (the
    # config is about to be read anyway) and must not kill the process,
    # which is SIGUSR1's default action.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = _build_config(args)
    except ConfigError as exc:
        print(f"hubbub: config error: {exc}", file=sys.stderr)
        return 2
    from hubbub.server.app import serve

    reload = (lambda: _build_config(args)) if args.config else None
    try:
        restart = _run(serve(config, reload_config=reload))
    except ConfigError as exc:
        print(f"hubbub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    if restart:
        # RESTART: the same process (same PID, for supervisors) starts afresh.
        logging.getLogger("hubbub").warning("restarting")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "hubbub", *sys.argv[1:]])
    return 0


def chat_main(args: argparse.Namespace) -> int:
    """``hubbub chat``."""
    try:
        address = parse_address(
            args.address, default_port=6697 if args.tls else 6667, default_host="127.0.0.1"
        )
    except ValueError as exc:
        print(f"hubbub chat: {exc}", file=sys.stderr)
        return 2
    from hubbub.client.main import run_chat

    return run_chat(address.host, address.port, args.nick, args.tls, args.plain)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hubbub`` command."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve_main(args)
    return chat_main(args)
