"""Config validation and address parsing, without a server."""

from __future__ import annotations

import re

import pytest

from hubbub.config import Address, ConfigError, from_mapping, parse_address, with_overrides
from hubbub.store.postgres.url import masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0.0.0:6667", Address("0.0.0.0", 6667)),
        (":7000", Address("0.0.0.0", 7000)),
        ("[::1]:6697", Address("::1", 6697)),
    ],
)
def test_listen_addresses(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["irc.example.org", "host:port", "[::1]x", "h:70000"])
def test_bad_listen_addresses_say_why(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_address(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Address("127.0.0.1", 6667)),
        ("irc.example.org", Address("irc.example.org", 6667)),
        ("irc.example.org:7000", Address("irc.example.org", 7000)),
        ("::1", Address("::1", 6667)),
        ("[::1]", Address("::1", 6667)),
    ],
)
def test_chat_addresses_default_the_port(text: str, expected: Address) -> None:
    assert parse_address(text, default_port=6667, default_host="127.0.0.1") == expected


def test_errors_name_file_and_key() -> None:
    with pytest.raises(ConfigError) as exc:
        from_mapping({"limits": {"sendq_bytes": True}}, file="x.toml")
    assert (exc.value.file, exc.value.key) == ("x.toml", "limits.sendq_bytes")
    with pytest.raises(ConfigError, match=re.escape("server.auto_join")):
        from_mapping({"server": {"auto_join": ["lobby"]}})
    with pytest.raises(ConfigError, match=re.escape("operators[0].password")):
        from_mapping({"operators": [{"name": "root"}]})


def test_flags_override_the_file() -> None:
    base = from_mapping({"server": {"listen": ["0.0.0.0:1"], "name": "a.example"}})
    out = with_overrides(base, listen=["127.0.0.1:2"], name="b.example", data_dir="/tmp/d")
    assert out.server.listen == (Address("127.0.0.1", 2),)
    assert out.server.name == "b.example"
    assert str(out.data_dir) == "/tmp/d"


def test_origins_and_proxies_are_validated_and_normalised() -> None:
    config = from_mapping(
        {
            "server": {
                "allowed_origins": ["HTTPS://Chat.Example.org:443/", "http://x.example:8080", "*"],
                "trusted_proxies": ["127.0.0.1", "10.0.0.0/8", "::1"],
            }
        }
    )
    assert config.server.allowed_origins == (
        "https://chat.example.org", "http://x.example:8080", "*",
    )  # fmt: skip
    assert [str(n) for n in config.server.trusted_proxies] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    ]
    for key, bad, why in [
        ("allowed_origins", "chat.example.org", "is not an origin"),
        ("allowed_origins", "https://chat.example.org/path", "more than scheme://host"),
        ("allowed_origins", "ftp://chat.example.org", "is not an origin"),
        ("trusted_proxies", "proxy.example.org", "is not an IP address"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(f"x.toml: server.{key}: ")) as exc:
            from_mapping({"server": {key: [bad]}}, file="x.toml")
        assert why in exc.value.why


def test_tls_cert_and_key_go_together() -> None:
    with pytest.raises(ConfigError, match=re.escape("server.tls_key")):
        from_mapping({"server": {"tls_cert": "c.pem", "websocket_listen": ["0.0.0.0:8097"]}})


def test_web_flag_replaces_websocket_listen() -> None:
    base = from_mapping({"server": {"websocket_listen": ["0.0.0.0:1"]}})
    out = with_overrides(base, web=["127.0.0.1:2"])
    assert out.server.websocket_listen == (Address("127.0.0.1", 2),)
    with pytest.raises(ConfigError, match=re.escape("--web: server.websocket_listen")):
        with_overrides(base, web=["nowhere"])


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("irc example.org", "contains a space"),
        ("irc.example.org ", "contains a space"),
        ("", "is empty"),
        ("localhost", "needs a dot"),
        ("irc_1.example.org", "contains '_'"),
        ("irc..example.org", "is not a host name"),
        ("-irc.example.org", "is not a host name"),
    ],
)
def test_a_bad_server_name_is_told_what_is_wrong(name: str, says: str) -> None:
    with pytest.raises(ConfigError) as exc:
        from_mapping({"server": {"name": name}}, file="x.toml")
    assert (exc.value.file, exc.value.key) == ("x.toml", "server.name")
    assert says in exc.value.why
    if says != "needs a dot":
        assert "needs a dot" not in exc.value.why  # the old message blamed a dot for all
    with pytest.raises(ConfigError, match=re.escape(says)):
        with_overrides(from_mapping({}), name=name)


def test_good_server_names_pass() -> None:
    for name in ("irc.example.org", "a-b.c1.example", "irc.example.org."):
        assert from_mapping({"server": {"name": name}}).server.name == name


def test_tls_files_are_set_together_or_default_to_the_data_dir() -> None:
    with pytest.raises(ConfigError, match=re.escape("server.tls_key: set server.tls_cert")):
        from_mapping({"server": {"tls_cert": "c.pem"}}, file="x.toml")
    defaults = with_overrides(from_mapping({}), data_dir="/srv/hub")
    assert [str(p) for p in defaults.tls_files()] == [
        "/srv/hub/tls/cert.pem", "/srv/hub/tls/key.pem"]  # fmt: skip
    configured = from_mapping(
        {"server": {"tls_cert": "c.pem", "tls_key": "/k.pem"}}, file="/etc/hubbub/hubbub.toml"
    )
    assert [str(p) for p in configured.tls_files()] == ["/etc/hubbub/c.pem", "/k.pem"]


def test_history_defaults_suit_a_small_community() -> None:
    history = from_mapping({}).history
    assert history.enabled and history.search
    assert history.database == "hubbub.sqlite3"
    assert history.max_age == 90 * 86400
    assert history.autoreplay == 20


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90d", 90 * 86400), ("12h", 43200), ("30m", 1800), ("45s", 45), ("2w", 14 * 86400),
     ("0", 0), (0, 0), (3600, 3600)],
)  # fmt: skip
def test_max_age_is_a_duration(text: str | int, seconds: float) -> None:
    assert from_mapping({"history": {"max_age": text}}).history.max_age == seconds


@pytest.mark.parametrize(
    ("table", "key", "why"),
    [
        ({"max_age": "ninety days"}, "history.max_age", "not a duration"),
        ({"max_age": "-1d"}, "history.max_age", "not a duration"),
        ({"max_age": True}, "history.max_age", "expected a duration"),
        ({"autoreplay": -1}, "history.autoreplay", "0 (off) or more"),
        ({"autoreplay": "20"}, "history.autoreplay", "expected int"),
        ({"search": "yes"}, "history.search", "expected bool"),
        ({"database": ""}, "history.database", "must name a file"),
        ({"database": "mysql://u:pw@h/db"}, "history.database",
         "mysql://u:***@h/db: only an SQLite file or a postgresql:// URL"),
        ({"database": "postgresql://u:pw@h"}, "history.database",
         "postgresql://u:***@h names no database"),
        ({"database": "postgresql://u:pw@h:99999/db"}, "history.database", "not a valid URL"),
        ({"retention": "90d"}, "history.retention", "unknown key"),
    ],
)
def test_history_errors_name_the_key_and_file(table: dict[str, object], key: str, why: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(why)) as exc:
        from_mapping({"history": table}, file="hub.toml")
    assert (exc.value.file, exc.value.key) == ("hub.toml", key)


def test_a_postgresql_url_is_taken_and_its_password_never_shown() -> None:
    url = "postgresql://hubbub:s3cr%40t@db.example.org:5432/hubbub?sslmode=require"
    history = from_mapping({"history": {"database": url}}).history
    assert history.database == url and history.postgres
    assert history.database_shown == (
        "postgresql://hubbub:***@db.example.org:5432/hubbub?sslmode=require")
    assert "s3cr" not in repr(history) and "s3cr" not in repr(from_mapping(
        {"history": {"database": url}}))  # fmt: skip
    # A password in the query string is masked too.
    assert masked("postgresql:///hubbub?host=/run/pg&password=s3cret") == (
        "postgresql:///hubbub?host=/run/pg&password=***")
    assert not from_mapping({}).history.postgres


def test_accounts_defaults_suit_a_small_community() -> None:
    accounts = from_mapping({}).accounts
    assert (accounts.enabled, accounts.registration, accounts.registration_before_connect,
            accounts.registration_requires_email) == (True, True, True, False)  # fmt: skip
    assert accounts.smtp is None and accounts.password_min_length == 8
    assert accounts.registrations_per_ip == 5


def test_smtp_is_parsed_and_never_shows_its_password() -> None:
    table = {"smtp": "smtp://irc:s3cret@mail.example.org:587", "registration_requires_email": True}
    accounts = from_mapping({"accounts": table}).accounts
    smtp = accounts.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.tls, smtp.username, smtp.password) == (
        "mail.example.org", 587, False, "irc", "s3cret")  # fmt: skip
    assert str(smtp) == "smtp://irc@mail.example.org:587"  # what a log line shows
    assert "s3cret" not in repr(accounts)
    tls = from_mapping({"accounts": {"smtp": "smtps://mail.example.org"}}).accounts.smtp
    assert tls is not None and (tls.port, tls.tls) == (465, True)


@pytest.mark.parametrize(
    ("table", "key", "why"),
    [
        ({"registration_requires_email": True}, "accounts.smtp", "needs a mail server"),
        ({"smtp": "http://mail.example.org"}, "accounts.smtp", "is not like smtp://"),
        ({"smtp": "smtp://mail.example.org:99999"}, "accounts.smtp", "no valid port"),
        ({"smtp_from": "not an address"}, "accounts.smtp_from", "not an e-mail address"),
        ({"password_min_length": 0}, "accounts.password_min_length", "must be positive"),
        ({"registrations_per_ip": -1}, "accounts.registrations_per_ip", "0 (no limit) or more"),
        ({"enabled": "yes"}, "accounts.enabled", "expected bool"),
        ({"nickserv": True}, "accounts.nickserv", "unknown key"),
    ],
)
def test_accounts_errors_name_the_key_and_file(
    table: dict[str, object], key: str, why: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(why)) as exc:
        from_mapping({"accounts": table}, file="hub.toml")
    assert (exc.value.file, exc.value.key) == ("hub.toml", key)


def test_registration_timeout_defaults_to_30_seconds() -> None:
    assert from_mapping({}).limits.registration_timeout == 30
    assert from_mapping({"limits": {}}).limits.registration_timeout == 30


@pytest.mark.parametrize(
    ("per_ip", "expected"),
    [(None, 10), (50, 10), (3, 3), (12, 10), (100, 20), (100_000, 20_000)],
)
def test_unregistered_per_ip_follows_the_per_ip_limit(per_ip: int | None, expected: int) -> None:
    limits = {} if per_ip is None else {"max_clients_per_ip": per_ip}
    assert from_mapping({"limits": limits}).limits.max_unregistered_per_ip == expected


def test_unregistered_per_ip_can_be_set_and_must_be_positive() -> None:
    limits = from_mapping({"limits": {"max_unregistered_per_ip": 2}}).limits
    assert limits.max_unregistered_per_ip == 2
    with pytest.raises(ConfigError) as exc:
        from_mapping({"limits": {"max_unregistered_per_ip": 0}}, file="x.toml")
    assert (exc.value.file, exc.value.key) == ("x.toml", "limits.max_unregistered_per_ip")


CLUSTER_OK = {"history": {"enabled": False}, "accounts": {"enabled": False}}


def test_cluster_mode_is_off_without_redis() -> None:
    config = from_mapping({})
    assert not config.cluster.enabled
    assert config.server_name == config.server.name


def test_cluster_keys_and_the_node_s_server_name() -> None:
    config = from_mapping({**CLUSTER_OK, "server": {"name": "irc.example.org"},
                           "cluster": {"redis": "redis://:s3cret@10.0.0.5:6379/2", "node": "n2",
                                       "lease_ms": 20000, "renew_ms": 2000,
                                       "stall_timeout_ms": 15000, "snapshot_interval_s": 30,
                                       "network": "hubnet"}})  # fmt: skip
    section = config.cluster
    assert section.enabled and section.node == "n2" and section.network == "hubnet"
    assert (section.lease_ms, section.renew_ms, section.stall_timeout_ms) == (20000, 2000, 15000)
    assert config.server_name == "n2.irc.example.org"
    # The password is never shown: not in what logs print, nor in a repr.
    assert section.redis_shown == "redis://:***@10.0.0.5:6379/2"
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("table", "key", "why"),
    [
        ({"redis": "redis://h:6379/0"}, "cluster.node", "is required"),
        ({"redis": "http://h:6379/0", "node": "n1"}, "cluster.redis", "redis://HOST:PORT/DB"),
        ({"redis": "redis://:pw@h:6379/0", "node": "n1.x"}, "cluster.node", "one host name label"),
        ({"redis": "redis://h/0", "node": "n1", "renew_ms": 20000}, "cluster.renew_ms",
         "a third of lease_ms"),
        ({"redis": "redis://h/0", "node": "n1", "stall_timeout_ms": 40000},
         "cluster.stall_timeout_ms", "between renew_ms and lease_ms"),
        ({"redis": "redis://h/0", "node": "n1", "lease": 1}, "cluster.lease", "unknown key"),
        ({"redis": "redis://h/0", "node": "n1", "network": "a b"}, "cluster.network", "letters"),
    ],
)  # fmt: skip
def test_cluster_errors_name_the_key_and_file(table: dict[str, object], key: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping({**CLUSTER_OK, "cluster": table}, file="hubbub.toml")
    assert err.value.key == key and err.value.file == "hubbub.toml"
    assert why in err.value.why
    assert "pw" not in str(err.value)


def test_cluster_mode_refuses_a_sqlite_database() -> None:
    for history, accounts in ((True, False), (False, True), (True, True)):
        with pytest.raises(ConfigError) as err:
            from_mapping({"history": {"enabled": history, "database": "chat.sqlite3"},
                          "accounts": {"enabled": accounts},
                          "cluster": {"redis": "redis://h/0", "node": "n1"}},
                         file="/etc/hubbub.toml")  # fmt: skip
        assert err.value.key == "history.database" and err.value.file == "/etc/hubbub.toml"
        assert "chat.sqlite3" in err.value.why and "postgresql://" in err.value.why
    # Nothing kept: nothing to refuse. PostgreSQL: what a cluster uses.
    from_mapping({**CLUSTER_OK, "cluster": {"redis": "redis://h/0", "node": "n1"}})
    pg = from_mapping({"history": {"database": "postgresql://hubbub:pw@db/hubbub"},
                       "cluster": {"redis": "redis://h/0", "node": "n1"}})  # fmt: skip
    assert pg.history.postgres and pg.cluster.enabled


def test_a_reload_may_not_change_the_cluster() -> None:
    from hubbub.server.rehash import refusal

    def node(name: str, redis: str = "redis://:pw@h/0") -> object:
        return from_mapping({**CLUSTER_OK, "cluster": {"redis": redis, "node": name}})

    assert refusal(node("n1"), node("n1")) is None  # type: ignore[arg-type]
    assert "cluster.node" in (refusal(node("n1"), node("n2")) or "")  # type: ignore[arg-type]
    why = refusal(node("n1"), node("n1", "redis://:other@h/0"))  # type: ignore[arg-type]
    assert why is not None and "cluster.redis" in why and "pw" not in why and "other" not in why


def test_metrics_are_off_unless_listen_is_set() -> None:
    assert from_mapping({}).metrics.listen is None
    config = from_mapping({"metrics": {"listen": "127.0.0.1:9477"}})
    assert config.metrics.listen == Address("127.0.0.1", 9477)


@pytest.mark.parametrize(
    ("section", "key", "why"),
    [
        ({"listen": "9477"}, "metrics.listen", "is not HOST:PORT"),
        ({"listen": 9477}, "metrics.listen", "expected str, got int"),
        ({"listen": "127.0.0.1:9477", "path": "/m"}, "metrics.path", "unknown key"),
    ],
)
def test_metrics_errors_name_the_key_and_the_file(
    section: dict[str, object], key: str, why: str
) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping({"metrics": section}, file="hubbub.toml")
    assert str(err.value).startswith(f"hubbub.toml: {key}: ")
    assert why in str(err.value)


def test_a_reload_may_not_move_the_metrics_listener() -> None:
    from hubbub.server.rehash import refusal

    old = from_mapping({"metrics": {"listen": "127.0.0.1:9477"}})
    assert refusal(old, from_mapping({"metrics": {"listen": "127.0.0.1:9477"}})) is None
    why = refusal(old, from_mapping({}))
    assert why == "metrics.listen cannot change while running; restart instead"
