"""The command line: ``hubbub serve``, ``hubbub chat``, ``hubbub cert`` and
``hubbub backup`` (see DESIGN.md, the contract, which these extend)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hubbub import __version__
from hubbub.config import DEFAULT_WEB, Config, ConfigError, load, parse_address, with_overrides
from hubbub.ops import logs

if TYPE_CHECKING:
    from hubbub.client.trust import Trust

T = TypeVar("T")


def _server_options(parser: argparse.ArgumentParser) -> None:
    """The options ``serve`` and ``cert`` share: where the config and data are."""
    parser.add_argument("--config", metavar="PATH", help="TOML configuration file")
    parser.add_argument("--name", help="server name shown to clients")
    parser.add_argument("--data-dir", metavar="DIR", help="where data lives (./hubbub-data)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hubbub", description="A chat server that speaks IRC.")
    parser.add_argument("--version", action="version", version=f"hubbub {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{serve,chat,cert,backup}"
    )

    serve = sub.add_parser(
        "serve", help="run the chat server in the foreground",
        description="Run the chat server in the foreground. SIGINT, SIGTERM and SIGHUP "
        "(the terminal closing) stop it cleanly; SIGUSR1 reloads the config file and "
        "the TLS certificate.",
    )  # fmt: skip
    _server_options(serve)
    serve.add_argument(
        "--listen", metavar="HOST:PORT", action="append",
        help="plain TCP listener (repeatable; replaces server.listen)",
    )  # fmt: skip
    serve.add_argument(
        "--web", metavar="HOST:PORT", action="append",
        help="web client and IRC over WebSocket (repeatable; replaces "
        f"server.websocket_listen; with no --config and no --listen: {DEFAULT_WEB})",
    )  # fmt: skip
    serve.add_argument(
        "--tls-listen", metavar="HOST:PORT", action="append",
        help="TLS listener (repeatable; replaces server.tls_listen); the certificate is "
        "server.tls_cert, or DATA_DIR/tls/cert.pem as `hubbub cert` makes it",
    )  # fmt: skip
    serve.add_argument(
        "--log-level", default="info",
        choices=["debug", "info", "warning", "error"], help="log verbosity (info)",
    )  # fmt: skip
    serve.add_argument(
        "--log-format", default="human", choices=logs.LOG_FORMATS,
        help="human: one readable line per event (the default); json: one JSON object per "
        "line (time, level, event, client_id, address, reason, message, ...)",
    )  # fmt: skip

    chat = sub.add_parser("chat", help="the terminal chat client")
    chat.add_argument("address", nargs="?", default="127.0.0.1", metavar="HOST[:PORT]")
    chat.add_argument("--nick", help="nickname (asked for when missing)")
    chat.add_argument("--tls", action="store_true", help="connect with TLS (port 6697)")
    trust = chat.add_mutually_exclusive_group()
    trust.add_argument(
        "--tls-ca", metavar="FILE",
        help="trust the certificates this CA file vouches for (a self-signed certificate "
        "can be its own CA file); implies --tls",
    )  # fmt: skip
    trust.add_argument(
        "--tls-fingerprint", metavar="SHA256",
        help="trust exactly the certificate with this SHA-256 fingerprint (as `hubbub "
        "cert` prints it); implies --tls",
    )  # fmt: skip
    trust.add_argument(
        "--tls-insecure", action="store_true",
        help="do not check the certificate at all (for tests only); implies --tls",
    )  # fmt: skip
    chat.add_argument("--plain", action="store_true", help="line mode for pipes and scripts")
    chat.add_argument(
        "--account", metavar="NAME",
        help="log in to this account with SASL (SCRAM-SHA-256 when the server offers it); "
        "the password is asked for (or read from HUBBUB_PASSWORD), never given here",
    )  # fmt: skip

    cert = sub.add_parser(
        "cert", help="make a self-signed TLS certificate for the server",
        description="Make a self-signed TLS certificate and key where `hubbub serve` looks "
        "for them (server.tls_cert/tls_key, or DATA_DIR/tls/cert.pem and key.pem), and print "
        "its fingerprint for clients to pin.",
    )  # fmt: skip
    _server_options(cert)
    cert.add_argument(
        "--host", metavar="NAME", action="append", default=[],
        help="another host name or IP address clients use (repeatable)",
    )  # fmt: skip
    cert.add_argument("--days", type=int, default=365, help="validity in days (365)")
    cert.add_argument("--force", action="store_true", help="replace an existing certificate")

    backup = sub.add_parser(
        "backup", help="copy the database of a running (or stopped) server",
        description="Make a consistent copy of the server's database (history and accounts), "
        "found the way `serve` finds it, while the server runs or not: SQLite's online "
        "backup, or pg_dump's custom format for a postgresql:// database. To restore SQLite, "
        "stop the server, remove the database's -wal and -shm files, and copy DEST to the "
        "database's path; PostgreSQL: pg_restore (docs/operating.md).",
    )  # fmt: skip
    backup.add_argument("--config", metavar="PATH", help="the server's TOML configuration file")
    backup.add_argument("--data-dir", metavar="DIR", help="the server's data dir (./hubbub-data)")
    backup.add_argument(
        "dest", metavar="DEST",
        help="the file to write (replaced if it exists), or a folder to write a file named "
        "after the time into",
    )  # fmt: skip
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
    listen = getattr(args, "listen", None)
    web = getattr(args, "web", None)
    if web is None and hasattr(args, "web") and not args.config and not listen:
        # Zero-config: the brief's "start it and open the page". With a config
        # file or --listen, only what is asked for is served (test suites run
        # many servers side by side and must not fight over port 8097).
        web = [DEFAULT_WEB]
    return with_overrides(
        base, name=getattr(args, "name", None), data_dir=args.data_dir, listen=listen, web=web,
        tls_listen=getattr(args, "tls_listen", None),
    )  # fmt: skip


def serve_main(args: argparse.Namespace) -> int:
    """``hubbub serve``."""
    # Until the server installs its handlers, a reload request is moot (the
    # config is about to be read anyway) and must not kill the process,
    # which is SIGUSR1's default action.
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    logs.setup(args.log_level, args.log_format)
    try:
        config = _build_config(args)
    except ConfigError as exc:
        return _config_failed(args, f"config error: {exc}", exc)
    from hubbub.server.app import serve

    # A reload re-reads the file and the flags; without a file it still
    # picks up a renewed certificate.
    def reload() -> Config:
        return _build_config(args)

    try:
        restart = _run(serve(config, reload_config=reload))
    except ConfigError as exc:
        return _config_failed(args, str(exc), exc)
    except KeyboardInterrupt:
        return 0
    if restart:
        # RESTART: the same process (same PID, for supervisors) starts afresh.
        logging.getLogger("hubbub").warning("restarting", extra={"event": "server.restarting"})
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "hubbub", *sys.argv[1:]])
    return 0


def _config_failed(args: argparse.Namespace, text: str, exc: ConfigError) -> int:
    """A configuration that stops the start: said on stderr as a sentence,
    and as a log record too when the logs are JSON (a log system reading
    them must see why the server did not start)."""
    if args.log_format == "json":
        logging.getLogger("hubbub").error(text, extra={
            "event": "server.config_error", "reason": exc.why, "key": exc.key,
            "path": exc.file,
        })  # fmt: skip
    else:
        print(f"hubbub: {text}", file=sys.stderr)
    return 2


def _tool_config(args: argparse.Namespace) -> Config | None:
    """The config for a command other than serve; None (said on stderr) when it is wrong."""
    try:
        return _build_config(args)
    except ConfigError as exc:
        print(f"hubbub: config error: {exc}", file=sys.stderr)
        return None


def backup_main(args: argparse.Namespace) -> int:
    """``hubbub backup``."""
    import subprocess
    from pathlib import Path

    from hubbub.ops.backup import BackupError, backup

    config = _tool_config(args)
    if config is None:
        return 2
    try:
        if config.history.postgres:
            from hubbub.ops.pgbackup import pg_backup

            done = pg_backup(config.history.database, Path(args.dest))
            restore = ("stop the server, run pg_restore --clean --if-exists --no-owner "
                       f"--dbname '{done.source}' {done.dest} (with the password), "
                       "start the server.")  # fmt: skip
        else:
            done = backup(config.resolve(config.history.database), Path(args.dest))
            restore = ("stop the server, delete the database's -wal and -shm files, copy "
                       f"{done.dest} to {done.source}, start the server.")  # fmt: skip
    except (BackupError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"hubbub backup: {exc}", file=sys.stderr)
        return 1
    print(f"Copied {done.source} ({done.size:,} bytes, schema version {done.schema_version}) "
          f"to {done.dest} in {done.seconds:.2f} s.")  # fmt: skip
    print(f"To restore: {restore}")
    return 0


def _trust(args: argparse.Namespace) -> Trust | None:
    """The certificate check the chat options ask for; None: plain TCP."""
    from hubbub.client.trust import Trust, parse_fingerprint

    if args.tls_fingerprint is not None:
        return Trust(pinned=parse_fingerprint(args.tls_fingerprint))
    if args.tls_ca is not None:
        trust = Trust(ca_file=args.tls_ca)
        trust.context()  # a file that cannot be loaded is an error now, not later
        return trust
    if args.tls_insecure or args.tls:
        return Trust(insecure=args.tls_insecure)
    return None


def chat_main(args: argparse.Namespace) -> int:
    """``hubbub chat``."""
    try:
        trust = _trust(args)
        address = parse_address(
            args.address, default_port=6667 if trust is None else 6697, default_host="127.0.0.1"
        )
    except ValueError as exc:
        print(f"hubbub chat: {exc}", file=sys.stderr)
        return 2
    from hubbub.client.main import ask_credentials, run_chat

    credentials = None
    if args.account:
        credentials = ask_credentials(args.account)
        if credentials is None:
            return 130
    return run_chat(address.host, address.port, args.nick, trust, args.plain, credentials)


def cert_main(args: argparse.Namespace) -> int:
    """``hubbub cert``."""
    config = _tool_config(args)
    if config is None:
        return 2
    cert, key = config.tls_files()
    if cert.exists() and not args.force:
        print(f"hubbub cert: {cert} already exists; --force replaces it (a running server "
              "takes the new one on SIGUSR1 or REHASH)", file=sys.stderr)  # fmt: skip
        return 2
    if args.days <= 0:
        print("hubbub cert: --days must be positive", file=sys.stderr)
        return 2
    from hubbub.certs import LOCAL_NAMES, make_self_signed

    names = [config.server.name, *args.host, *LOCAL_NAMES]
    try:
        fp = make_self_signed(cert, key, names, days=args.days)
    except OSError as exc:
        print(f"hubbub cert: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"A self-signed certificate for {', '.join(dict.fromkeys(names))}, "
          f"valid {args.days} days:")  # fmt: skip
    print(f"  certificate  {cert}\n  key          {key}")
    print(f"SHA-256 fingerprint: {fp}")
    print("Serve TLS:  hubbub serve --tls-listen 0.0.0.0:6697   (or server.tls_listen)")
    print(f"Connect:    hubbub chat --tls-fingerprint {fp} HOST")
    print(f"       or:  hubbub chat --tls-ca {cert} HOST")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hubbub`` command."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve_main(args)
    if args.command == "cert":
        return cert_main(args)
    if args.command == "backup":
        return backup_main(args)
    return chat_main(args)
