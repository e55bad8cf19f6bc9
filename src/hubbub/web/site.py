"""Serving the web client's files over plain HTTP GET: no sockets here.

Theory of operation
-------------------
The files are few and small (the budget is 150 KB), so :meth:`Site.load`
reads every file under ``static/`` once at start, with its gzip form and an
ETag, and a request is a dictionary look-up: no file system access (and so no
path to escape through) while serving. ``/`` is ``index.html``.

Every answer says ``Cache-Control: no-cache`` with a strong ETag: a browser
revalidates and gets a 304 (no body) until the files change with an upgrade,
so nobody runs a stale client against a newer server. The security headers
keep the page to its own origin: scripts, styles and the WebSocket come from
the host that served it and nowhere else (the client fetches nothing from
another site), and no other site may frame it.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import NamedTuple

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
}

#: Sent with every answer. ``connect-src 'self'`` covers ws:/wss: to the same
#: host (CSP level 3), which is the only connection the client makes.
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


class Reply(NamedTuple):
    """An HTTP answer: status, reason phrase, headers, body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Asset:
    """One file, ready to send."""

    body: bytes
    gzipped: bytes | None  # None when compressing does not pay
    content_type: str
    etag: str


def _walk(folder: Traversable, prefix: str = "/") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        else:
            yield f"{prefix}{entry.name}", entry


def _asset(name: str, body: bytes) -> Asset | None:
    suffix = name[name.rfind(".") :] if "." in name else ""
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None:
        return None
    packed: bytes | None = None
    if len(body) >= 1024 and not content_type.startswith("image/png"):
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        if len(packed) > len(body) * 0.9:
            packed = None
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Asset(body, packed, content_type, etag)


class Site:
    """The web client's files by URL path."""

    __slots__ = ("assets",)

    def __init__(self, files: dict[str, bytes]) -> None:
        self.assets: dict[str, Asset] = {}
        for path, body in files.items():
            asset = _asset(path, body)
            if asset is not None:
                self.assets[path] = asset
        if "/index.html" in self.assets:
            self.assets["/"] = self.assets["/index.html"]

    @classmethod
    def load(cls) -> Site:
        """The files shipped in the package (``hubbub/web/static``)."""
        root = resources.files("hubbub.web") / "static"
        return cls({path: entry.read_bytes() for path, entry in _walk(root)})

    @property
    def size(self) -> int:
        """Bytes of the files as shipped (uncompressed)."""
        return sum(len(a.body) for p, a in self.assets.items() if p != "/")

    def respond(self, method: str, target: str, header: Callable[[str], str | None]) -> Reply:
        """The answer to ``method target``; ``header(name)`` reads a request header."""
        if method not in ("GET", "HEAD"):
            return _plain(405, "Method Not Allowed", "Only GET and HEAD are served here.\n",
                          [("Allow", "GET, HEAD")])  # fmt: skip
        path = target.split("?", 1)[0].split("#", 1)[0]
        asset = self.assets.get(path)
        if asset is None:
            return _plain(404, "Not Found", f"Nothing at {path[:200]}\n")
        headers = [
            ("Content-Type", asset.content_type),
            ("Cache-Control", "no-cache"),
            ("ETag", asset.etag),
            ("Vary", "Accept-Encoding"),
            *SECURITY_HEADERS,
        ]
        if _etag_matches(header("If-None-Match"), asset.etag):
            return Reply(304, "Not Modified", headers, b"")
        body = asset.body
        if asset.gzipped is not None and _accepts_gzip(header("Accept-Encoding")):
            body = asset.gzipped
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        return Reply(200, "OK", headers, b"" if method == "HEAD" else body)


def _plain(
    status: int, reason: str, text: str, extra: list[tuple[str, str]] | None = None
) -> Reply:
    body = text.encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *SECURITY_HEADERS,
        *(extra or []),
    ]
    return Reply(status, reason, headers, body)


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _accepts_gzip(accept_encoding: str | None) -> bool:
    if not accept_encoding:
        return False
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False
