"""How ``hubbub serve`` builds its config from the flags (no server started)."""

from __future__ import annotations

from pathlib import Path

from hubbub.cli import _build_config, _parser
from hubbub.config import Address


def build(*argv: str):  # type: ignore[no-untyped-def]
    return _build_config(_parser().parse_args(["serve", *argv]))


def test_zero_config_serves_irc_and_the_web_client() -> None:
    server = build().server
    assert server.listen == (Address("0.0.0.0", 6667),)
    assert server.websocket_listen == (Address("0.0.0.0", 8097),)


def test_with_listen_or_a_config_only_what_is_asked_is_served(tmp_path: Path) -> None:
    assert build("--listen", "127.0.0.1:7000").server.websocket_listen == ()
    config = tmp_path / "hubbub.toml"
    config.write_text('[server]\nlisten = ["127.0.0.1:7001"]\n')
    assert build("--config", str(config)).server.websocket_listen == ()
    web = build("--listen", "127.0.0.1:7000", "--web", "127.0.0.1:7002").server
    assert web.websocket_listen == (Address("127.0.0.1", 7002),)
    # --web alone is still zero-config for IRC.
    alone = build("--web", "127.0.0.1:7003").server
    assert alone.listen == (Address("0.0.0.0", 6667),)
    assert alone.websocket_listen == (Address("127.0.0.1", 7003),)
