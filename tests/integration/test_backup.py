"""``hubbub backup``: the copy of a running server's database, made while
people talk, restores into a server that serves the same history."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from hubbub.ops.pgbackup import pg_program
from hubbub.store.sqlite.database import APPLICATION_ID, SCHEMA_VERSION

from hubtest import RunningServer, ServerFactory
from ircclient import LineClient
from pgtest import PgServer

HISTORY_CAPS = ("batch", "server-time", "message-tags", "draft/chathistory")
CONFIG = "[limits]\nflood_control = false\n"


def backup(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub", "backup", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def history(client: LineClient, channel: str) -> list[tuple[str, str]]:
    """(msgid, text) of every PRIVMSG of the channel, oldest first, read a
    page of 100 at a time as a client does."""
    found: list[tuple[str, str]] = []
    ref = "timestamp=1970-01-01T00:00:00.000Z"
    while True:
        client.send(f"CHATHISTORY AFTER {channel} {ref} 100")
        _, inside = client.wait_for(
            lambda m: m.command == "BATCH" and m.params[0].startswith("-")
        )
        page = [m for m in inside if "msgid" in m.tags]
        found += [(m.tags["msgid"], m.params[1]) for m in page if m.command == "PRIVMSG"]
        if len(page) < 100:
            return found
        ref = f"msgid={page[-1].tags['msgid']}"


def reader(server: RunningServer, nick: str) -> LineClient:
    client = server.client(nick, HISTORY_CAPS)
    client.send("JOIN #tea")
    client.expect("JOIN", "#tea")
    return client


def test_a_backup_of_a_running_server_restores_into_one_that_serves_the_same_history(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    live = server_factory(CONFIG)
    alice = reader(live, "alice")
    for i in range(40):
        alice.send(f"PRIVMSG #tea :before {i}")
    alice.send("PING :sync")
    alice.expect("PONG")

    # Someone keeps talking while the backup runs.
    talking = threading.Event()
    talking.set()

    def talk() -> None:
        i = 0
        while talking.is_set():
            alice.send(f"PRIVMSG #tea :during {i}")
            i += 1
            time.sleep(0.001)

    talker = threading.Thread(target=talk)
    talker.start()
    try:
        time.sleep(0.2)
        dest = tmp_path / "backup.sqlite3"
        done = backup("--data-dir", str(live.data_dir), str(dest))
        time.sleep(0.2)
    finally:
        talking.clear()
        talker.join()
    assert done.returncode == 0, done.stderr
    assert str(dest) in done.stdout

    # A plain, single, sound hubbub database file.
    with sqlite3.connect(dest) as copy:
        assert copy.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert copy.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    bob = reader(live, "bob")
    original = history(bob, "#tea")
    # Restore as docs/operating.md says: the copy where the database goes,
    # no -wal or -shm beside it, then start.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copyfile(dest, restored_dir / "hubbub.sqlite3")
    restored = server_factory(CONFIG, "--data-dir", str(restored_dir))
    carol = reader(restored, "carol")
    copied = history(carol, "#tea")
    # The copy is the history as it was at one instant: the start of the
    # original's, same messages, same ids, in the same order, nothing missing
    # in between, and everything said before the backup began.
    assert copied == original[: len(copied)]
    texts = [text for _, text in copied]
    assert [t for t in texts if t.startswith("before")][-1] == "before 39"
    assert any(t.startswith("during") for t in texts)
    assert len(copied) < len(original)  # the talk went on after the copy
    assert live.alive()


def test_a_backup_of_a_killed_server_holds_what_was_in_its_write_ahead_log(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    live = server_factory(CONFIG)
    alice = reader(live, "alice")
    alice.send("PRIVMSG #tea :last words before the crash")
    alice.send("PING :sync")
    alice.expect("PONG")
    live.stop(signal.SIGKILL)
    assert (live.data_dir / "hubbub.sqlite3-wal").stat().st_size > 0
    dest = tmp_path / "after-crash.sqlite3"
    done = backup("--data-dir", str(live.data_dir), str(dest))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(dest) as copy:
        texts = [row[0] for row in copy.execute("SELECT text FROM history WHERE text IS NOT NULL")]
    assert "last words before the crash" in texts


def test_backup_names_what_is_wrong(tmp_path: Path) -> None:
    missing = backup("--data-dir", str(tmp_path / "nothing"), str(tmp_path / "x.sqlite3"))
    assert missing.returncode == 1
    assert "no database there" in missing.stderr
    data = tmp_path / "data"
    data.mkdir()
    sqlite3.connect(data / "hubbub.sqlite3").execute("CREATE TABLE t (x)").connection.close()
    foreign = backup("--data-dir", str(data), str(tmp_path / "x.sqlite3"))
    assert foreign.returncode == 1 and "not a hubbub database" in foreign.stderr
    itself = backup("--data-dir", str(data), str(data / "hubbub.sqlite3"))
    assert itself.returncode == 1 and "the database itself" in itself.stderr
    assert not list(tmp_path.glob("*.partial-*")) and not (tmp_path / "x.sqlite3").exists()


def test_backup_into_a_folder_names_the_copy_after_the_time(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    live = server_factory(CONFIG)
    reader(live, "alice")
    folder = tmp_path / "backups"
    folder.mkdir()
    done = backup("--data-dir", str(live.data_dir), str(folder))
    assert done.returncode == 0, done.stderr
    (copy,) = folder.iterdir()
    assert copy.name.startswith("hubbub-") and copy.suffix == ".sqlite3"


def test_a_postgresql_backup_of_a_running_server_restores_into_one_that_serves_the_same_history(
    server_factory: ServerFactory, pg_server: PgServer, tmp_path: Path
) -> None:
    # A password in the URL (trust authentication ignores it): pg_dump gets
    # it through its environment, never on its command line or in the output.
    secret = "dump-s3cret"
    url = pg_server.new_database().replace("hubbub@", f"hubbub:{secret}@")
    live = server_factory(f'{CONFIG}[history]\ndatabase = "{url}"\n')
    alice = reader(live, "alice")
    for i in range(30):
        alice.send(f"PRIVMSG #tea :cup {i}")
    alice.send("PING :sync")
    alice.expect("PONG")
    config = tmp_path / "hubbub.toml"
    config.write_text(f'[history]\ndatabase = "{url}"\n')
    dest = tmp_path / "tea.dump"
    # Wait until the writer thread has written what was said (PostgreSQL's
    # history is written after delivery, a few milliseconds later).
    deadline = time.monotonic() + 10
    while len(history(alice, "#tea")) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    expected = history(alice, "#tea")
    # The backup runs while the server keeps writing.
    done = backup("--config", str(config), "--data-dir", str(tmp_path / "data"), str(dest))
    alice.send("PRIVMSG #tea :after the backup")
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr
    assert "pg_restore" in done.stdout and "***" in done.stdout

    restored_url = pg_server.new_database()
    restore = subprocess.run(
        [pg_program("pg_restore"), "--no-owner", f"--dbname={restored_url}", str(dest)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert restore.returncode == 0, restore.stderr
    restored = server_factory(f'{CONFIG}[history]\ndatabase = "{restored_url}"\n')
    bob = reader(restored, "bob")
    assert history(bob, "#tea") == expected
    assert [text for _, text in expected] == [f"cup {i}" for i in range(30)]


def test_a_postgresql_backup_names_what_is_wrong(pg_server: PgServer, tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(f'[history]\ndatabase = "{pg_server.new_database()}"\n')
    empty = backup("--config", str(config), str(tmp_path / "x.dump"))
    assert empty.returncode == 1 and "not a hubbub database" in empty.stderr
    config.write_text(f'[history]\ndatabase = "{pg_server.url("nosuchdb")}"\n')
    missing = backup("--config", str(config), str(tmp_path / "x.dump"))
    assert missing.returncode == 1 and "nosuchdb" in missing.stderr
    assert not (tmp_path / "x.dump").exists() and not list(tmp_path.glob(".*partial*"))
