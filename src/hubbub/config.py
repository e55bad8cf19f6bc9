"""The server configuration: a TOML file -> one frozen, validated :class:`Config`.

Each ``[section]`` has a small validator that builds its frozen dataclass and
names the offending key in a :class:`ConfigError` (``server.listen``), with the
file it came from. Unknown keys are errors: a typo must not be silently
ignored. Command-line flags are applied on top with :func:`with_overrides`.
"""

from __future__ import annotations

import ipaddress
import socket
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from hubbub.protocol import is_channel_name, is_valid_hostname
from hubbub.store.postgres.url import is_postgres, masked, problem

T = TypeVar("T")

#: An IP network (a single address is a /32 or /128).
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Where ``hubbub serve`` with no --config and no --listen serves the web client.
DEFAULT_WEB = "0.0.0.0:8097"

#: Where ``hubbub cert`` writes, and where the server looks for its TLS
#: certificate and key when ``server.tls_cert``/``tls_key`` are not set
#: (relative to the data dir).
DEFAULT_TLS_CERT = Path("tls/cert.pem")
DEFAULT_TLS_KEY = Path("tls/key.pem")


class ConfigError(Exception):
    """A configuration problem, naming the file and the key."""

    def __init__(self, file: str | None, key: str, why: str) -> None:
        self.file, self.key, self.why = file, key, why
        where = f"{file}: " if file else ""
        super().__init__(f"{where}{key}: {why}")


@dataclass(frozen=True, slots=True)
class Address:
    """A listening address."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_address(
    text: str, *, default_port: int | None = None, default_host: str = "0.0.0.0"
) -> Address:
    """``HOST:PORT``, ``[V6]:PORT``, or (with ``default_port``) a bare ``HOST``,
    ``[V6]`` or IPv6 address -> Address; raises ValueError with a reason."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not [IPV6]:PORT")
        port = rest[1:]
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""  # a bare host name, or a bare IPv6 address
    if not port:
        if default_port is None:
            raise ValueError(f"{text!r} is not HOST:PORT")
        port = str(default_port)
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} has no valid port (0-65535)")
    return Address(host or default_host, int(port))


def normalize_origin(text: str) -> str:
    """``scheme://host[:port]`` in the form browsers send in ``Origin``:
    lower case, no default port, no path. Raises ValueError with a reason."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an origin like https://chat.example.org")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{text!r} is not an origin: it has more than scheme://host[:port]")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} has no valid port") from None
    host = parts.hostname  # already lower case
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_network(text: str) -> Network:
    """``10.0.0.1``, ``10.0.0.0/8`` or ``::1`` -> a network; ValueError with a reason."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or network (CIDR)") from None


@dataclass(frozen=True, slots=True)
class Operator:
    """An ``[[operators]]`` entry; ``password`` may be an argon2 hash."""

    name: str
    password: str


@dataclass(frozen=True, slots=True)
class ServerSection:
    """``[server]``."""

    name: str = field(default_factory=lambda: _default_server_name())
    network: str = "hubbub"
    description: str = "A hubbub server"
    listen: tuple[Address, ...] = (Address("0.0.0.0", 6667),)
    tls_listen: tuple[Address, ...] = ()
    tls_cert: str | None = None
    tls_key: str | None = None
    websocket_listen: tuple[Address, ...] = ()
    #: Origins (normalised, see :func:`normalize_origin`) whose pages may open
    #: a WebSocket besides the page hubbub serves itself; "*" allows any.
    allowed_origins: tuple[str, ...] = ()
    #: Peers whose X-Forwarded-For names the real client (reverse proxies).
    trusted_proxies: tuple[Network, ...] = ()
    password: str | None = None
    motd: str | None = None
    motd_file: str | None = None
    auto_join: tuple[str, ...] = ("#lobby",)


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where verification mail goes: ``smtp://[user:password@]host[:port]``
    (STARTTLS when the server offers it) or ``smtps://`` (TLS from the start)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        # Never the password: this is what logs show.
        user = f"{self.username}@" if self.username else ""
        return f"{'smtps' if self.tls else 'smtp'}://{user}{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class AccountsSection:
    """``[accounts]``."""

    enabled: bool = True
    registration: bool = True
    registration_before_connect: bool = True
    registration_requires_email: bool = False
    smtp: SmtpServer | None = None
    #: The sender of verification mail; default ``hubbub@<server.name>``.
    smtp_from: str | None = None
    #: Shorter passwords are refused at registration (WEAK_PASSWORD).
    password_min_length: int = 8
    #: Accounts one IP address (an IPv6 /64) may register per hour; 0: no limit.
    registrations_per_ip: int = 5


@dataclass(frozen=True, slots=True)
class HistorySection:
    """``[history]``."""

    enabled: bool = True
    #: An SQLite file, relative to the data dir, or a ``postgresql://`` URL;
    #: the accounts live in the same database. Never in a repr (a URL may
    #: hold a password): :attr:`database_shown` is what logs show.
    database: str = field(default="hubbub.sqlite3", repr=False)
    #: Seconds history is kept (``max_age = "90d"``); 0 keeps everything.
    max_age: float = 90 * 86400.0
    #: Lines replayed on join to clients without draft/chathistory.
    autoreplay: int = 20
    #: Full-text search (FTS5 or PostgreSQL's) and the SEARCH command.
    search: bool = True

    @property
    def postgres(self) -> bool:
        """Whether the database is PostgreSQL (a ``postgresql://`` URL)."""
        return is_postgres(self.database)

    @property
    def database_shown(self) -> str:
        """The database as logs and errors show it (a URL without its password)."""
        return masked(self.database) if self.postgres else self.database

    def __repr__(self) -> str:
        return (f"HistorySection(enabled={self.enabled!r}, database={self.database_shown!r}, "
                f"max_age={self.max_age!r}, autoreplay={self.autoreplay!r}, "
                f"search={self.search!r})")  # fmt: skip


@dataclass(frozen=True, slots=True)
class LimitsSection:
    """``[limits]``."""

    flood_control: bool = True
    max_clients: int = 10000
    max_clients_per_ip: int = 50
    #: Connections from one address that have not registered yet (see
    #: :func:`unregistered_per_ip`: by default it follows max_clients_per_ip).
    max_unregistered_per_ip: int = 10
    sendq_bytes: int = 1048576
    ping_interval: float = 90.0
    #: Seconds a connection may take to register, TLS handshake included.
    registration_timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class ClusterSection:
    """``[cluster]``: several processes serving one network over a Redis log
    (docs/cluster.md). ``redis`` set means cluster mode."""

    #: ``redis://[user:password@]host:port/db``, ``rediss://``, or ``unix:///path``.
    redis: str | None = field(default=None, repr=False)
    #: This process's name: it shows as the server ``<node>.<server.name>``.
    node: str = ""
    #: The network's name in Redis (its keys are ``hubbub:{network}:...``, so
    #: several networks may share one Redis); default: ``server.network``.
    network: str = ""
    #: A node that has not renewed its lease for this long is gone: its
    #: users quit everywhere.
    lease_ms: int = 30000
    #: How often a node renews its lease (and looks for nodes that are gone).
    renew_ms: int = 3000
    #: A node that cannot reach Redis for this long fences itself: it
    #: closes its clients before the others reap it (less than lease_ms).
    stall_timeout_ms: int = 25000
    #: How often the snapshot that late joiners start from is written.
    snapshot_interval_s: float = 60.0

    @property
    def enabled(self) -> bool:
        """Whether this process is a node of a cluster."""
        return self.redis is not None

    @property
    def redis_shown(self) -> str:
        """The Redis URL without its password, for logs."""
        return masked(self.redis or "")


@dataclass(frozen=True, slots=True)
class MetricsSection:
    """``[metrics]``: where Prometheus scrapes /metrics, and load balancers
    and orchestrators ask /healthz and /readyz. Off unless set."""

    listen: Address | None = None


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, frozen; a rehash builds a new one."""

    server: ServerSection = field(default_factory=ServerSection)
    operators: tuple[Operator, ...] = ()
    accounts: AccountsSection = field(default_factory=AccountsSection)
    history: HistorySection = field(default_factory=HistorySection)
    limits: LimitsSection = field(default_factory=LimitsSection)
    cluster: ClusterSection = field(default_factory=ClusterSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    data_dir: Path = Path("hubbub-data")
    #: Where the config came from (None: embedded defaults), for errors and REHASH.
    path: Path | None = None

    @property
    def server_name(self) -> str:
        """The name this process shows as a server: ``server.name``, or on a
        cluster ``<node>.<server.name>`` (each node is a server of the network)."""
        if self.cluster.enabled:
            return f"{self.cluster.node}.{self.server.name}"
        return self.server.name

    def resolve(self, name: str) -> Path:
        """A data path from the config: relative paths are under the data dir."""
        p = Path(name)
        return p if p.is_absolute() else self.data_dir / p

    def tls_files(self) -> tuple[Path, Path]:
        """The TLS certificate and key: ``server.tls_cert``/``tls_key``
        when set, else the data dir's ``tls/cert.pem`` and ``tls/key.pem``
        (what ``hubbub cert`` makes)."""
        cert, key = self.server.tls_cert, self.server.tls_key
        if cert and key:
            return self.resolve_file(cert), self.resolve_file(key)
        return self.data_dir / DEFAULT_TLS_CERT, self.data_dir / DEFAULT_TLS_KEY

    def resolve_file(self, name: str) -> Path:
        """An input file named in the config (TLS, MOTD): relative paths are
        relative to the config file's folder."""
        p = Path(name)
        if p.is_absolute() or self.path is None:
            return p
        return self.path.parent / p


def _default_server_name() -> str:
    host = socket.getfqdn() or "localhost"
    # A server name must look like a host name with a dot (clients split on it).
    name = host if "." in host else f"{host}.local"
    return name if server_name_problem(name) is None else "hubbub.local"


def server_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a server name, as a sentence; None if it can.

    A server name is a host name with at least one dot (clients tell a
    server from a nick by the dot). Each way to get it wrong gets its own
    answer: a name with a space must not be told it lacks a dot.
    """
    example = "a server name is a host name such as irc.example.org"
    if not name:
        return f"is empty; {example}"
    if any(c.isspace() for c in name):
        return f"{name!r} contains a space; {example}"
    bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in ".-"))})
    if bad:
        chars = " ".join(repr(c) for c in bad)
        return f"{name!r} contains {chars}: only letters, digits, '-' and '.' are allowed"
    if "." not in name:
        return f"{name!r} needs a dot; {example}"
    if not is_valid_hostname(name):
        return (f"{name!r} is not a host name: each part between dots must be letters "
                "and digits, with hyphens only inside")  # fmt: skip
    return None


# --- validators --------------------------------------------------------------


class _Section:
    """Reads keys of one table, tracking which were used."""

    def __init__(self, file: str | None, prefix: str, table: Mapping[str, Any]) -> None:
        self.file, self.prefix, self.table = file, prefix, table
        self.seen: set[str] = set()

    def error(self, key: str, why: str) -> ConfigError:
        return ConfigError(self.file, f"{self.prefix}.{key}", why)

    def get(self, key: str, kind: type[T], default: T) -> T:
        self.seen.add(key)
        if key not in self.table:
            return default
        value = self.table[key]
        # bool is an int in Python; a port of `true` is a mistake.
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise self.error(key, f"expected {kind.__name__}, got {type(value).__name__}")
        return value  # type: ignore[no-any-return]

    def positive(self, key: str, kind: type[T], default: T) -> T:
        value = self.get(key, kind, default)
        if value <= 0:  # type: ignore[operator]
            raise self.error(key, "must be positive")
        return value

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(key, list, list(default))
        if not all(isinstance(v, str) for v in value):
            raise self.error(key, "expected a list of strings")
        return tuple(value)

    def addresses(self, key: str, default: tuple[Address, ...]) -> tuple[Address, ...]:
        out = []
        for text in self.strings(key, tuple(map(str, default))):
            try:
                out.append(parse_address(text))
            except ValueError as exc:
                raise self.error(key, str(exc)) from None
        return tuple(out)

    def parsed(self, key: str, parse: Callable[[str], T]) -> tuple[T, ...]:
        """A list of strings, each turned into a value by ``parse`` (whose
        ValueError becomes an error naming the key)."""
        try:
            return tuple(parse(text) for text in self.strings(key, ()))
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def duration(self, key: str, default: str) -> float:
        """A duration in seconds, written ``"90d"``/``"12h"``/... or as seconds."""
        self.seen.add(key)
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(key, f"expected a duration such as \"90d\", got {value!r}")
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            raise self.error(unknown[0], "unknown key")


def _server(s: _Section) -> ServerSection:
    default_name = _default_server_name()
    section = ServerSection(
        name=s.get("name", str, default_name),
        network=s.get("network", str, "hubbub"),
        description=s.get("description", str, "A hubbub server"),
        listen=s.addresses("listen", (Address("0.0.0.0", 6667),)),
        tls_listen=s.addresses("tls_listen", ()),
        tls_cert=s.get("tls_cert", str, None),
        tls_key=s.get("tls_key", str, None),
        websocket_listen=s.addresses("websocket_listen", ()),
        allowed_origins=s.parsed("allowed_origins", _origin_or_star),
        trusted_proxies=s.parsed("trusted_proxies", parse_network),
        password=s.get("password", str, None),
        motd=s.get("motd", str, None),
        motd_file=s.get("motd_file", str, None),
        auto_join=s.strings("auto_join", ("#lobby",)),
    )
    problem = server_name_problem(section.name)
    if problem is not None:
        raise s.error("name", problem)
    if " " in section.network or not section.network:
        raise s.error("network", "must be one word")
    for chan in section.auto_join:
        if not is_channel_name(chan):
            raise s.error("auto_join", f"{chan!r} is not a channel name")
    if bool(section.tls_cert) != bool(section.tls_key):
        # Half a pair would leave websocket_listen silently unencrypted.
        missing = "tls_key" if section.tls_cert else "tls_cert"
        raise s.error(missing, "set server.tls_cert and server.tls_key together")
    if section.motd is not None and section.motd_file is not None:
        raise s.error("motd_file", "set either motd or motd_file, not both")
    return section


def _origin_or_star(text: str) -> str:
    return "*" if text.strip() == "*" else normalize_origin(text)


def parse_smtp(text: str) -> SmtpServer:
    """``smtp://[user:password@]host[:port]`` or ``smtps://...`` -> SmtpServer;
    ValueError with a reason."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"{text!r} is not like smtp://host:port or smtps://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{text!r} has more than [user:password@]host[:port]")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} has no valid port") from None
    tls = scheme == "smtps"
    return SmtpServer(parts.hostname, port or (465 if tls else 25), tls,
                      parts.username or None, parts.password or None)  # fmt: skip


def _accounts(s: _Section) -> AccountsSection:
    smtp_text = s.get("smtp", str, None)
    try:
        smtp = parse_smtp(smtp_text) if smtp_text is not None else None
    except ValueError as exc:
        raise s.error("smtp", str(exc)) from None
    section = AccountsSection(
        enabled=s.get("enabled", bool, True),
        registration=s.get("registration", bool, True),
        registration_before_connect=s.get("registration_before_connect", bool, True),
        registration_requires_email=s.get("registration_requires_email", bool, False),
        smtp=smtp,
        smtp_from=s.get("smtp_from", str, None),
        password_min_length=s.positive("password_min_length", int, 8),
        registrations_per_ip=s.get("registrations_per_ip", int, 5),
    )
    if section.registrations_per_ip < 0:
        raise s.error("registrations_per_ip", "must be 0 (no limit) or more")
    if section.smtp_from is not None and not is_email(section.smtp_from):
        raise s.error("smtp_from", f"{section.smtp_from!r} is not an e-mail address")
    if section.registration_requires_email and section.smtp is None:
        raise s.error(
            "smtp",
            "registration_requires_email = true needs a mail server to send the codes "
            '(smtp = "smtp://host:port")',
        )
    return section


def is_email(text: str) -> bool:
    """A plausible e-mail address: one ``@``, a dot in the domain, no spaces,
    no control characters, at most 254 characters (RFC 5321's limit)."""
    local, at, domain = text.rpartition("@")
    return (
        bool(at and local and domain)
        and len(text) <= 254
        and "." in domain.strip(".")
        and text.isprintable()
        and not any(c.isspace() or c in "<>,;:\\\"()[]" for c in domain)
        and not any(c.isspace() or c in "<>,;\"" for c in local)
    )


#: Units of a duration such as ``max_age = "90d"``, in seconds.
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """``"90d"``, ``"12h"``, ``"30m"``, ``"45s"``, ``"2w"`` or ``"0"`` -> seconds;
    raises ValueError with a reason."""
    value = text.strip().lower()
    unit = _DURATION_UNITS.get(value[-1:]) if value else None
    number = value[:-1] if unit is not None else value
    if not number.isdigit():
        raise ValueError(f"{text!r} is not a duration such as \"90d\", \"12h\" or \"0\"")
    return float(int(number) * (unit or 1))


def _history(s: _Section) -> HistorySection:
    autoreplay = s.get("autoreplay", int, 20)
    if autoreplay < 0:
        raise s.error("autoreplay", "must be 0 (off) or more")
    database = s.get("database", str, "hubbub.sqlite3")
    if not database.strip():
        raise s.error("database", "must name a file or a postgresql:// URL")
    if is_postgres(database):
        why = problem(database)
        if why is not None:
            raise s.error("database", why)
    elif "://" in database:
        raise s.error("database", f"{masked(database)}: only an SQLite file or a postgresql:// URL "
                      "is supported")  # fmt: skip
    return HistorySection(
        enabled=s.get("enabled", bool, True),
        database=database,
        max_age=s.duration("max_age", "90d"),
        autoreplay=autoreplay,
        search=s.get("search", bool, True),
    )


def unregistered_per_ip(max_clients_per_ip: int) -> int:
    """The default cap on unregistered connections from one address.

    A fifth of the per-address limit, but at least 10, and never more than
    the limit itself: 10 with the defaults. An operator who raises
    ``max_clients_per_ip`` (a NAT gateway, a benchmark, a test suite, all on
    one address) expects more of those clients to connect at once too; a
    connection flood still holds at most this many sockets per address
    until the registration timeout.
    """
    return min(max_clients_per_ip, max(10, max_clients_per_ip // 5))


def _limits(s: _Section) -> LimitsSection:
    per_ip = s.positive("max_clients_per_ip", int, 50)
    return LimitsSection(
        flood_control=s.get("flood_control", bool, True),
        max_clients=s.positive("max_clients", int, 10000),
        max_clients_per_ip=per_ip,
        max_unregistered_per_ip=s.positive(
            "max_unregistered_per_ip", int, unregistered_per_ip(per_ip)
        ),
        sendq_bytes=s.positive("sendq_bytes", int, 1048576),
        ping_interval=s.positive("ping_interval", float, 90.0),
        registration_timeout=s.positive("registration_timeout", float, 30.0),
    )


#: Redis URL schemes redis-py understands.
_REDIS_SCHEMES = ("redis", "rediss", "unix")


def _cluster(s: _Section) -> ClusterSection:
    redis = s.get("redis", str, None)
    if redis is not None:
        parts = urlsplit(redis)
        if parts.scheme not in _REDIS_SCHEMES or not (parts.hostname or parts.path):
            raise s.error("redis", f"{masked(redis)!r} is not like redis://HOST:PORT/DB")
    section = ClusterSection(
        redis=redis,
        node=s.get("node", str, ""),
        network=s.get("network", str, ""),
        lease_ms=s.positive("lease_ms", int, 30000),
        renew_ms=s.positive("renew_ms", int, 3000),
        stall_timeout_ms=s.positive("stall_timeout_ms", int, 25000),
        snapshot_interval_s=s.positive("snapshot_interval_s", float, 60.0),
    )
    if redis is not None and not section.node:
        raise s.error("node", "is required in cluster mode (a name for this process, as n1)")
    if section.node and not (
        len(section.node) <= 32 and "." not in section.node
        and is_valid_hostname(f"{section.node}.x")
    ):
        raise s.error("node", f"{section.node!r} must be one host name label, as n1")
    if section.renew_ms * 3 > section.lease_ms:
        raise s.error("renew_ms", "must be at most a third of lease_ms (a few renewals may fail)")
    if not section.renew_ms < section.stall_timeout_ms < section.lease_ms:
        raise s.error("stall_timeout_ms", "must be between renew_ms and lease_ms")
    if section.network and not section.network.replace("-", "").replace("_", "").isalnum():
        raise s.error("network", "letters, digits, '-' and '_' only")
    return section


def _cluster_storage(config: Config, file: str | None) -> None:
    """Cluster mode keeps nothing in a SQLite file: every node must read
    the same accounts, channels and history, so they must be in a database
    all of them reach (PostgreSQL)."""
    if not config.cluster.enabled:
        return
    history = config.history
    if not (history.enabled or config.accounts.enabled) or history.postgres:
        return
    raise ConfigError(
        file, "history.database",
        f"cluster mode ([cluster] redis) needs a database every node shares, and "
        f"{history.database!r} is a SQLite file of this process alone: set "
        'history.database = "postgresql://USER@HOST/DB", or run the cluster without '
        "history and accounts ([history] enabled = false and [accounts] enabled = false)",
    )  # fmt: skip


def _metrics(s: _Section) -> MetricsSection:
    text = s.get("listen", str, None)
    if text is None:
        return MetricsSection()
    try:
        return MetricsSection(listen=parse_address(text))
    except ValueError as exc:
        raise s.error("listen", str(exc)) from None


def _operators(file: str | None, value: Any) -> tuple[Operator, ...]:
    if not isinstance(value, list):
        raise ConfigError(file, "operators", "expected [[operators]] tables")
    ops = []
    for i, table in enumerate(value):
        if not isinstance(table, dict):
            raise ConfigError(file, f"operators[{i}]", "expected a table")
        s = _Section(file, f"operators[{i}]", table)
        name, password = s.get("name", str, ""), s.get("password", str, "")
        if not name or not password:
            raise s.error("name" if not name else "password", "is required")
        s.done()
        ops.append(Operator(name, password))
    return tuple(ops)


_SECTIONS: dict[str, Callable[[_Section], Any]] = {
    "server": _server,
    "accounts": _accounts,
    "history": _history,
    "limits": _limits,
    "cluster": _cluster,
    "metrics": _metrics,
}


def from_mapping(data: Mapping[str, Any], *, file: str | None = None) -> Config:
    """Validate parsed TOML into a Config (``file`` names the source in errors)."""
    parts: dict[str, Any] = {}
    for key, value in data.items():
        if key == "operators":
            parts["operators"] = _operators(file, value)
        elif key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(file, key, "expected a [table]")
            section = _Section(file, key, value)
            parts[key] = _SECTIONS[key](section)
            section.done()
        else:
            raise ConfigError(file, key, "unknown section")
    config = Config(**parts, path=Path(file) if file else None)
    _cluster_storage(config, file)
    return config


def load(path: str | Path) -> Config:
    """Read and validate a TOML file."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(name, "(file)", exc.strerror or str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(name, "(syntax)", str(exc)) from None
    return from_mapping(data, file=name)


def _flag_addresses(flag: str, key: str, texts: list[str]) -> tuple[Address, ...]:
    try:
        return tuple(parse_address(a) for a in texts)
    except ValueError as exc:
        raise ConfigError(flag, f"server.{key}", str(exc)) from None


def with_overrides(
    config: Config,
    *,
    listen: list[str] | None = None,
    web: list[str] | None = None,
    tls_listen: list[str] | None = None,
    name: str | None = None,
    data_dir: str | None = None,
) -> Config:
    """Apply command-line flags on top of the file (flags win): ``listen``
    replaces ``server.listen``, ``web`` replaces ``server.websocket_listen``."""
    server = config.server
    if listen:
        server = replace(server, listen=_flag_addresses("--listen", "listen", listen))
    if web:
        server = replace(server, websocket_listen=_flag_addresses("--web", "websocket_listen", web))
    if tls_listen:
        server = replace(
            server, tls_listen=_flag_addresses("--tls-listen", "tls_listen", tls_listen)
        )
    if name is not None:
        problem = server_name_problem(name)
        if problem is not None:
            raise ConfigError("--name", "server.name", problem)
        server = replace(server, name=name)
    out = replace(config, server=server)
    if data_dir is not None:
        out = replace(out, data_dir=Path(data_dir))
    return out
