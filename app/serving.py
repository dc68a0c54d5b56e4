"""Serving behind a reverse proxy: the client's address, scheme and host from nginx's X-Forwarded-*
headers, trusted exactly as many hops deep as TRUST_X_FORWARDED_FOR says (nginx alone = 1), never more —
a client can write anything into X-Forwarded-For, only the entries the proxies appended are believed."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware: werkzeug's ProxyFix with the hop count read from the app's config at each
    request (so a test, or a config reload, can change it)."""

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = int(self.app.config.get("TRUST_X_FORWARDED_FOR") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(hops)
        if fix is None:
            fix = self._fixes[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops,
                                               x_prefix=hops)
        return fix(environ, start_response)


def install(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app, app.wsgi_app)
