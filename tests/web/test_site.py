"""The web client's files as the listener serves them (no sockets): the
budget, caching, compression and the answers to odd requests."""

from __future__ import annotations

import gzip

from hubbub.web.site import Site

BUDGET = 150 * 1024  # the limit on the client's shipped files


def header(reply_headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in reply_headers if k.lower() == name.lower()), None)


def no_headers(name: str) -> str | None:
    return None


def test_the_shipped_client_fits_the_budget_and_has_an_index() -> None:
    site = Site.load()
    assert "/" in site.assets and "/index.html" in site.assets
    assert 0 < site.size <= BUDGET, f"the web client is {site.size} bytes"


def test_files_are_served_with_type_etag_and_a_strict_policy() -> None:
    site = Site({"/index.html": b"<!doctype html>" * 100, "/app.js": b"export {}"})
    reply = site.respond("GET", "/?nick=x", no_headers)
    assert reply.status == 200
    assert reply.body == b"<!doctype html>" * 100
    assert header(reply.headers, "Content-Type") == "text/html; charset=utf-8"
    assert "frame-ancestors 'none'" in (header(reply.headers, "Content-Security-Policy") or "")
    assert header(reply.headers, "X-Content-Type-Options") == "nosniff"
    etag = header(reply.headers, "ETag")
    assert etag
    js = site.respond("GET", "/app.js", no_headers)
    assert header(js.headers, "Content-Type") == "text/javascript; charset=utf-8"
    # Revalidation: the same version costs no body.
    again = site.respond("GET", "/", lambda n: etag if n == "If-None-Match" else None)
    assert (again.status, again.body) == (304, b"")
    stale = site.respond("GET", "/", lambda n: '"old"' if n == "If-None-Match" else None)
    assert stale.status == 200


def test_gzip_when_accepted_and_worth_it() -> None:
    body = b"const x = 1;\n" * 500
    site = Site({"/app.js": body, "/tiny.js": b"1"})
    packed = site.respond(
        "GET", "/app.js", lambda n: "gzip, br" if n == "Accept-Encoding" else None
    )
    assert header(packed.headers, "Content-Encoding") == "gzip"
    assert gzip.decompress(packed.body) == body
    assert header(packed.headers, "Content-Length") == str(len(packed.body))
    refused = site.respond(
        "GET", "/app.js", lambda n: "gzip;q=0" if n == "Accept-Encoding" else None
    )
    assert refused.body == body
    tiny = site.respond("GET", "/tiny.js", lambda n: "gzip" if n == "Accept-Encoding" else None)
    assert header(tiny.headers, "Content-Encoding") is None


def test_odd_requests_get_clear_answers() -> None:
    site = Site({"/index.html": b"hi", "/notes.xyz": b"unknown types are not served"})
    head = site.respond("HEAD", "/", no_headers)
    assert (head.status, head.body, header(head.headers, "Content-Length")) == (200, b"", "2")
    assert site.respond("GET", "/missing.js", no_headers).status == 404
    assert site.respond("GET", "/notes.xyz", no_headers).status == 404
    assert site.respond("GET", "/../../etc/passwd", no_headers).status == 404
    post = site.respond("POST", "/", no_headers)
    assert post.status == 405 and header(post.headers, "Allow") == "GET, HEAD"
