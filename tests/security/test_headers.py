"""Security headers in one place (issue 17.7): framing only by the site itself, no MIME sniffing, a
referrer policy, HSTS in production only; a file is previewed inline only when it is an image or a PDF."""
from __future__ import annotations

import pytest
from flask import Response


def _assert_common(r):
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize("path", ["/login/", "/m/login", "/api/v1/security/login", "/nowhere"])
def test_every_response_carries_the_headers(app, path):
    r = app.test_client().get(path)
    _assert_common(r)
    assert "Strict-Transport-Security" not in r.headers  # not over plain HTTP in development / tests


def test_signed_in_pages_and_downloads(app, world, login):
    c = login("inst_a")
    _assert_common(c.get("/persons/list/"))
    r = c.get("/persons/import/template/")
    _assert_common(r)
    assert r.headers["Content-Disposition"].startswith("attachment")


def test_hsts_only_with_secure_cookies(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        r = app.test_client().get("/login/")
        assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


@pytest.mark.parametrize("mimetype,inline", [("application/pdf", True), ("image/jpeg", True), ("image/png", True),
                                             ("text/html", False), ("image/svg+xml", False),
                                             ("application/octet-stream", False), ("text/plain", False)])
def test_only_images_and_pdfs_are_previewed_inline(app, mimetype, inline):
    from app.security import security_headers

    with app.test_request_context("/"):
        response = security_headers(Response(b"%PDF-1.4 <html><script>alert(1)</script>", mimetype=mimetype,
                                             headers={"Content-Disposition": "inline; filename=x"}))
    assert response.headers["Content-Disposition"] == ("inline; filename=x" if inline else "attachment; filename=x")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
