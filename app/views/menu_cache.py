"""The navbar's menu rendered once per role set and language, not on every page (issue 18.4).

Flask-AppBuilder renders the menu on every request: each of the ~80 entries asks ``has_access`` and
is translated, about a quarter of a list page's Python time. What a user sees in the menu depends only
on their roles and the language, so ``cached_menu()`` (a template global used by
templates/appbuilder/navbar.html) keeps the rendered HTML per (roles, language). A change of any role's
permissions in this process (the role editor, ``flask fab`` commands, sync at start) empties the cache
at its commit; other worker processes see it within about a second with Redis, within ``TTL`` seconds
without (services/ttl_cache.py).
"""
from __future__ import annotations

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

from app.services.ttl_cache import TtlCache
from app.views.base import role_names

TTL = 30.0  # seconds another process may show a menu from before a permission change


def _touches_permissions(classes: set[type]) -> bool:
    from flask_appbuilder.security.sqla.models import Permission, PermissionView, Role, ViewMenu

    kinds = (Role, PermissionView, Permission, ViewMenu)
    return any(issubclass(cls, kinds) for cls in classes)


_cache = TtlCache("menu", TTL, 256, _touches_permissions)


def clear() -> None:
    _cache.clear()


def cached_menu() -> Markup:
    """The ``<li>`` items of the navbar's menu for the request's user (FAB's navbar_menu.html)."""
    key = (tuple(sorted(role_names())), str(get_locale() or ""))
    html = _cache.get(key)
    if html is not None:
        return html
    html = Markup(render_template("appbuilder/navbar_menu.html", menu=current_app.appbuilder.menu,
                                  appbuilder=current_app.appbuilder))
    if role_names():  # an anonymous page (login) is cheap and may differ by public permissions: not kept
        _cache.put(key, html)
    return html


def install(app) -> None:
    from app.services import ttl_cache

    app.jinja_env.globals["cached_menu"] = cached_menu
    ttl_cache.install()
