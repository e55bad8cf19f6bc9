"""irctest controller for hubbub.

irctest (https://github.com/progval/irctest) is not vendored: this module is
loaded *by* an irctest checkout with

    pytest --controller hubbub_controller ...

with this directory on PYTHONPATH (``run_irctest.sh`` does all of that).

For every test, irctest calls :meth:`HubbubController.run`; we write a TOML
config that follows the contract in DESIGN.md into a fresh temporary
directory and start ``hubbub serve --config ... --data-dir ...`` on the port
irctest chose. The server is killed (and the directory removed) after the test.

Environment:

``HUBBUB``
    The command that runs hubbub (split like a shell would), default
    ``hubbub`` on PATH, e.g. ``/work/main/.venv/bin/hubbub`` or
    ``/work/main/.venv/bin/python -m hubbub``.
``HUBBUB_IRCTEST_LOG_DIR``
    If set, every server's stdout/stderr goes to a file there, named after
    the test (otherwise they are discarded, or streamed to pytest's output
    with ``IRCTEST_DEBUG_LOGS=1``).
``HUBBUB_IRCTEST_STRICT``
    ``1`` declares the IRCv3 capabilities, optional behaviours and ISUPPORT
    tokens hubbub aims to support (``TARGET_*`` below): irctest then *fails*
    instead of skipping tests for those when the server lacks them. Default
    ``0``: nothing is declared, missing features show up as skips (the same
    footing as irctest's ngIRCd controller, so counts are comparable).
``HUBBUB_IRCTEST_SASL_MECHS``
    SASL mechanisms the server is expected to support (space separated),
    default ``PLAIN SCRAM-SHA-256`` (EXTERNAL needs a client certificate,
    which irctest's clients do not have). Only matters for
    ``services``-marked tests.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from irctest import patma
from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController
from irctest.specifications import Capabilities, OptionalBehaviors

# What the irctest suite assumes of any server (see the README next to this file).
SERVER_NAME = "My.Little.Server"  # time.py, who.py, connection_registration.py check it
OPER_NAME = "operuser"  # OPER operuser operpassword: oper.py, kill.py, who.py, ...
OPER_PASSWORD = "operpassword"

# Declared only with HUBBUB_IRCTEST_STRICT=1.
TARGET_CAPABILITIES = frozenset(
    {
        Capabilities.ACCOUNT_NOTIFY,
        Capabilities.ACCOUNT_TAG,
        Capabilities.AWAY_NOTIFY,
        Capabilities.BATCH,
        Capabilities.ECHO_MESSAGE,
        Capabilities.EXTENDED_JOIN,
        Capabilities.EXTENDED_MONITOR,
        Capabilities.LABELED_RESPONSE,
        Capabilities.MESSAGE_REDACTION,
        Capabilities.MESSAGE_TAGS,
        Capabilities.MULTI_PREFIX,
        Capabilities.SERVER_TIME,
        Capabilities.SETNAME,
    }
)
TARGET_OPTIONAL_BEHAVIORS = frozenset(
    {
        OptionalBehaviors.BAN_EXCEPTION_MODE,
        OptionalBehaviors.CAP_REQ_MINUS,
        OptionalBehaviors.INVITE_EXCEPTION_MODE,
        OptionalBehaviors.MULTI_JOIN,
        OptionalBehaviors.MULTI_KICK,
        OptionalBehaviors.MULTI_NAMES_COMMAND,
        OptionalBehaviors.MULTI_PRIVMSG,
    }
)
TARGET_ISUPPORT: dict[str, Any] = {
    "CASEMAPPING": patma.ANYSTR,
    "CHANTYPES": patma.ANYSTR,
    "PREFIX": patma.ANYSTR,
    "STATUSMSG": patma.ANYSTR,
    "TARGMAX": patma.ANYSTR,
    "MONITOR": patma.ANYSTR,
    "UTF8ONLY": None,
    "WHOX": None,
}

_STRICT = os.environ.get("HUBBUB_IRCTEST_STRICT", "0").lower() in ("1", "true", "yes")


def _toml_str(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(value)


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _addr(host: str, port: int) -> str:
    # irctest hands out "0.0.0.0" (it bound ("", 0) to find a free port) and
    # connects to that address, which Linux routes to loopback: never listen
    # on every interface for a test server.
    if host in ("", "0.0.0.0", "localhost"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


class HubbubController(BaseServerController, DirectoryBasedController):
    software_name = "hubbub"
    _port_wait_interval = 0.02
    supports_sts = False
    supported_sasl_mechanisms = set(
        os.environ.get("HUBBUB_IRCTEST_SASL_MECHS", "PLAIN SCRAM-SHA-256").split()
    )
    capabilities = TARGET_CAPABILITIES if _STRICT else frozenset()
    optional_behaviors = TARGET_OPTIONAL_BEHAVIORS if _STRICT else frozenset()
    isupport = dict(TARGET_ISUPPORT) if _STRICT else {}

    def config_text(
        self,
        listen: list[str],
        *,
        password: str | None,
        tls_listen: list[str],
        websocket_listen: list[str],
    ) -> str:
        """The TOML config for one test. Only keys of the DESIGN.md contract."""
        assert self.directory
        tc = self.test_config
        lines = [
            "[server]",
            f"name = {_toml_str(SERVER_NAME)}",
            'network = "IrctestNet"',
            'description = "test server"',
            f"listen = {_toml_list(listen)}",
            "auto_join = []",
        ]
        if password is not None:
            lines.append(f"password = {_toml_str(password)}")
        if tls_listen:
            lines += [
                f"tls_listen = {_toml_list(tls_listen)}",
                f"tls_cert = {_toml_str(str(self.pem_path))}",
                f"tls_key = {_toml_str(str(self.key_path))}",
            ]
        if websocket_listen:
            lines.append(f"websocket_listen = {_toml_list(websocket_listen)}")
        lines += [
            "",
            "[[operators]]",
            f"name = {_toml_str(OPER_NAME)}",
            f"password = {_toml_str(OPER_PASSWORD)}",
            "",
            "[accounts]",
            "enabled = true",
            "registration = true",
            "registration_before_connect = "
            + ("true" if tc.account_registration_before_connect else "false"),
            "registration_requires_email = "
            + ("true" if tc.account_registration_requires_email else "false"),
            # irctest registers short passwords ("bar", "sesame").
            "password_min_length = 1",
        ]
        if tc.account_registration_requires_email:
            # A mail server is required with registration_requires_email; the
            # email tests only check refusals, so nothing is ever sent (port 9
            # is discard: a send would fail, and say so).
            lines.append('smtp = "smtp://127.0.0.1:9"')
        lines += [
            "",
            "[history]",
            "enabled = true",
            'database = "hubbub.sqlite3"',
            "",
            "[limits]",
            "flood_control = false",
            "max_clients = 10000",
            "max_clients_per_ip = 10000",
            "",
        ]
        return "\n".join(lines)

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: str | None,
        ssl: bool,
        run_services: bool,
        faketime: str | None,
        websocket_hostname: str | None = None,
        websocket_port: int | None = None,
    ) -> None:
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory
        data_dir = self.directory / "data"
        data_dir.mkdir()

        tls_listen: list[str] = []
        if ssl:
            # TLS on the port the test connects to; plain TCP on a spare port
            # (like irctest's other controllers do).
            self.gen_ssl()
            (plain_host, plain_port) = self.get_hostname_and_port()
            listen = [_addr(plain_host, plain_port)]
            tls_listen = [_addr(hostname, port)]
        else:
            listen = [_addr(hostname, port)]
        websocket_listen = []
        if websocket_hostname is not None and websocket_port is not None:
            websocket_listen = [_addr(websocket_hostname, websocket_port)]

        config_path = self.directory / "hubbub.toml"
        config_path.write_text(
            self.config_text(
                listen,
                password=password,
                tls_listen=tls_listen,
                websocket_listen=websocket_listen,
            )
        )

        faketime_cmd: list[str] = []
        if faketime and shutil.which("faketime"):
            faketime_cmd = ["faketime", "-f", faketime]
            self.faketime_enabled = True

        command = [
            *faketime_cmd,
            *shlex.split(os.environ.get("HUBBUB", "hubbub")),
            "serve",
            "--config",
            str(config_path),
            "--data-dir",
            str(data_dir),
        ]
        if not ssl:
            # Same value as the config's; the contract's flags win over it.
            command += ["--listen", listen[0]]

        kwargs: dict[str, Any] = {}
        log = None
        log_dir = os.environ.get("HUBBUB_IRCTEST_LOG_DIR")
        if log_dir:
            test = os.environ.get("PYTEST_CURRENT_TEST", "unknown").split(" ")[0]
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test)[-180:]
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            log = open(Path(log_dir) / f"{name}.log", "ab")  # noqa: SIM115
            log.write(f"$ {shlex.join(command)}\n".encode())
            log.flush()
            # not stderr=STDOUT: irctest would pipe that into pytest's output
            kwargs = {"stdout": log, "stderr": log}
        self.proc = self.execute(command, proc_name="hubbub", **kwargs)
        if log is not None:
            log.close()  # the child has its own copy

        if websocket_listen:
            self._require_websocket_listener(websocket_hostname or "127.0.0.1", websocket_port)

    def _require_websocket_listener(self, host: str, port: int | None) -> None:
        """Skip (rather than hang 60 s in irctest's retry loop) when the server
        accepted ``websocket_listen`` but does not listen there (the WebSocket
        transport is "later" in DESIGN.md)."""
        assert port is not None
        self.wait_for_port()
        deadline = time.monotonic() + 2.0
        while True:
            try:
                socket.create_connection((host, port), timeout=1.0).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        # setup is failing, so irctest's tearDown won't run: clean up here
        self.kill()
        self.directory = None
        raise NotImplementedByController("Websocket (nothing listens on websocket_listen)")

    def wait_for_services(self) -> None:
        # Accounts are built in: nothing separate to wait for.
        pass

    def registerUser(
        self,
        case: Any,
        username: str,
        password: str | None = None,
    ) -> None:
        """Register an account, for ``services``-marked tests.

        Uses IRCv3 draft/account-registration when the server offers it, else
        ``PRIVMSG NickServ :REGISTER <password>``.
        """
        if not case.run_services:
            raise ValueError("Attempted to register a nick, but `run_services` is not True.")
        assert password
        client = case.addClient(show_io=True)
        case.sendLine(client, "CAP LS 302")
        caps = case.getCapLs(client)
        reg_cap = next((c for c in ("draft/account-registration",) if c in caps), None)
        if reg_cap:
            case.sendLine(client, f"CAP REQ {reg_cap}")
            case.getRegistrationMessage(client)
        case.sendLine(client, "NICK " + username)
        case.sendLine(client, "USER r e g :user")
        case.sendLine(client, "CAP END")
        while case.getRegistrationMessage(client).command != "001":
            pass
        case.getMessages(client)
        if reg_cap:
            case.sendLine(client, f"REGISTER * * {password}")
            msgs = self._wait_messages(case, client)
            assert any(m.command == "REGISTER" and m.params[:1] == ["SUCCESS"] for m in msgs), msgs
        else:
            case.sendLine(client, f"PRIVMSG {self.nickserv} :REGISTER {password}")
            msgs = self._wait_messages(case, client)
            assert any(m.command in ("900", "NOTICE") for m in msgs), msgs
        case.sendLine(client, "QUIT")
        case.assertDisconnected(client)

    @staticmethod
    def _wait_messages(case: Any, client: Any, timeout: float = 5.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        msgs: list[Any] = []
        while not msgs and time.monotonic() < deadline:
            msgs = case.getMessages(client)
        return msgs


def get_irctest_controller_class() -> type[HubbubController]:
    return HubbubController
