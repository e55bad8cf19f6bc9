"""The Containerfile builds with podman, and its image serves: people chat,
/readyz and /metrics answer, a backup is made with ``podman exec``, ``podman
stop`` stops it cleanly, and a new container on the same volume keeps the
history.

Two things are about this kind of machine, not about the image:

* the base image ``debian:bookworm-slim`` cannot be pulled here (no route to
  docker.io), so an equivalent one is made from the Debian archive with
  ``mmdebstrap --variant=minbase bookworm`` and tagged with that name;
* podman runs with ``--runtime runc`` (crun refuses this host's cgroup v1
  "hybrid" layout) and with explicit ``--ulimit`` values (podman's default
  raises nofile and nproc, which needs CAP_SYS_RESOURCE, which this machine
  withholds). The host's CA bundle is lent to the build, for a machine whose
  HTTPS goes through a proxy with its own CA.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from hubtest import free_port, need
from ircclient import LineClient
from opstest import scrape, wait_for_scrape, wait_for_status

ROOT = Path(__file__).resolve().parents[2]
BASE = "docker.io/library/debian:bookworm-slim"
IMAGE = "localhost/hubbub:test"
PODMAN = ["podman", "--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=1000:1000"]
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

pytestmark = pytest.mark.timeout(1200)


def podman(
    *args: str, timeout: float = 600, cwd: Path | None = None, stdin: IO[bytes] | None = None
) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [*PODMAN, *args], capture_output=True, timeout=timeout, cwd=cwd, stdin=stdin
    )
    assert done.returncode == 0, f"podman {' '.join(args)}:\n{done.stdout!r}\n{done.stderr!r}"
    return done


@pytest.fixture(scope="module")
def image() -> str:
    for program in ("podman", "runc", "mmdebstrap"):
        need(shutil.which(program) is not None, f"{program} is not installed (apt-get install it)")
    if subprocess.run([*PODMAN, "image", "exists", BASE]).returncode != 0:
        debootstrap = subprocess.Popen(
            ["mmdebstrap", "--variant=minbase", "--quiet", "bookworm", "-",
             "http://deb.debian.org/debian"], stdout=subprocess.PIPE,
        )  # fmt: skip
        podman("import", "-", BASE, stdin=debootstrap.stdout)
        assert debootstrap.wait() == 0
    mounts = (
        ["-v", f"{CA_BUNDLE}:/run/ca.crt:ro", "--build-arg", "PIP_CERT=/run/ca.crt"]
        if CA_BUNDLE.exists() else []
    )  # fmt: skip
    podman("build", "--pull=never", *LIMITS, *mounts, "-t", IMAGE, "-f", "Containerfile", ".",
           cwd=ROOT, timeout=1200)  # fmt: skip
    return IMAGE


class Container:
    """One ``podman run`` of the image, its ports published on the loopback."""

    def __init__(self, image: str, volume: str) -> None:
        self.irc, self.metrics = free_port(), free_port()
        self.name = f"hubbub-test-{uuid.uuid4().hex[:8]}"
        podman("run", "-d", "--name", self.name, *LIMITS,
               "-p", f"127.0.0.1:{self.irc}:6667", "-p", f"127.0.0.1:{self.metrics}:9477",
               "-v", f"{volume}:/var/lib/hubbub", image)  # fmt: skip
        wait_for_status_retrying(self.metrics, "/readyz", 200)

    def logs(self) -> str:
        done = podman("logs", self.name)
        return (done.stdout + done.stderr).decode()

    def stop(self) -> int:
        podman("stop", "-t", "20", self.name)
        return int(podman("inspect", self.name, "--format", "{{.State.ExitCode}}").stdout)

    def remove(self) -> None:
        subprocess.run([*PODMAN, "rm", "-f", self.name], capture_output=True)


def wait_for_status_retrying(port: int, path: str, status: int, timeout: float = 60) -> None:
    """Like wait_for_status, while the container starts and the port refuses."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            wait_for_status(port, path, status, timeout=1)
            return
        except (OSError, AssertionError, IndexError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture
def volume() -> Iterator[str]:
    name = f"hubbub-test-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run([*PODMAN, "volume", "rm", "-f", name], capture_output=True)


def test_the_image_serves_backs_up_stops_cleanly_and_keeps_history(
    image: str, volume: str, tmp_path: Path
) -> None:
    first = Container(image, volume)
    try:
        alice = LineClient("127.0.0.1", first.irc)
        bob = LineClient("127.0.0.1", first.irc)
        alice.register("alice")
        bob.register("bob")
        bob.expect("JOIN", "#lobby")
        alice.send("PRIVMSG #lobby :hello from inside a container")
        bob.expect("PRIVMSG", "#lobby", "hello from inside a container")
        samples = wait_for_scrape(
            first.metrics, lambda s: s.get_value("hubbub_messages_relayed_total") == 1
        )
        assert samples.get_value("hubbub_connected_clients", transport="tcp") == 2
        # A backup while it runs, as docs/operating.md says, copied out.
        podman("exec", first.name, "hubbub", "backup", "--config", "/etc/hubbub/hubbub.toml",
               "--data-dir", "/var/lib/hubbub", "/var/lib/hubbub/backup.sqlite3")  # fmt: skip
        podman("cp", f"{first.name}:/var/lib/hubbub/backup.sqlite3", str(tmp_path / "b.sqlite3"))
        with sqlite3.connect(tmp_path / "b.sqlite3") as copy:
            texts = {row[0] for row in copy.execute("SELECT text FROM history")}
        assert "hello from inside a container" in texts
        for client in (alice, bob):
            client.close()
        # podman stop sends SIGTERM: clients told, history flushed, exit 0.
        assert first.stop() == 0
        assert "stopped" in first.logs()
    finally:
        first.remove()

    second = Container(image, volume)
    try:
        carol = LineClient("127.0.0.1", second.irc)
        carol.register("carol")
        # Joining #lobby replays its last lines to a client without chathistory.
        carol.expect("PRIVMSG", "#lobby", timeout=10)
        assert scrape(second.metrics).get_value("hubbub_users") == 1
        carol.close()
        assert second.stop() == 0
    finally:
        second.remove()
