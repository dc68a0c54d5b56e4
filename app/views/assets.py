"""Static file URLs built once per process (issue 18.4): every page links ~25 style sheets and scripts
through ``url_for('static' | 'appbuilder.static', filename=…)``, each a URL-map build on every request.
The templates' ``url_for`` answers those from a memo (keyed by the script root the app is mounted under)
and passes everything else to Flask's."""
from __future__ import annotations

from typing import Any

from flask import request, url_for

STATIC_ENDPOINTS = frozenset({"static", "appbuilder.static"})
_built: dict[tuple[str, str, str], str] = {}


def template_url_for(endpoint: str, **values: Any) -> str:
    if endpoint in STATIC_ENDPOINTS and len(values) == 1 and "filename" in values:
        key = (request.script_root, endpoint, values["filename"])
        url = _built.get(key)
        if url is None:
            url = _built[key] = url_for(endpoint, **values)
        return url
    return url_for(endpoint, **values)


def install(app) -> None:
    app.jinja_env.globals["url_for"] = template_url_for
