"""One decorator makes a form idempotent (issue 13): ``{{ submit_token() }}`` in the form, ``@once`` on its POST.

    @expose("/add/", methods=["GET", "POST"])
    @has_access
    @once
    def add(self): ...

The first submit of a rendered form does the work; a second submit of the same rendering (a double click,
the browser resending the POST) does nothing and is sent to the first one's result page with its message.
A POST without a token (an old page, an API client) is handled as before. Flask-AppBuilder's own add and
edit forms get the token from their form widget and ``@once`` from ``init_app``, so no view declares it.
"""
from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from flask import flash, make_response, redirect, request, session
from flask_babel import gettext as _
from markupsafe import Markup

from app.extensions import db
from app.services import submissions
from app.services.filestore import StorageError


def submit_token() -> Markup:
    """A hidden field with a fresh one-time token (a new one on every rendering, re-rendered forms too)."""
    return Markup(f'<input type="hidden" name="{submissions.FIELD}" value="{uuid.uuid4().hex}">')


def _user_id() -> int | None:
    from flask_login import current_user

    return getattr(current_user, "id", None) if current_user and current_user.is_authenticated else None


def _last_flash() -> str | None:
    flashes = session.get("_flashes") or []
    if not flashes:
        return None
    category, message = flashes[-1]
    return f"{category}:{message}"


def once(view: Callable) -> Callable:
    """Run the view once per form token (see the module docstring)."""
    @functools.wraps(view)
    def inner(*args, **kwargs):
        token = request.form.get(submissions.FIELD) if request.method == "POST" else None
        if not submissions.valid(token):
            return view(*args, **kwargs)
        user_id = _user_id()
        if submissions.claim(db.session, token, user_id, request.endpoint or "") is None:
            return _repeat(token, user_id)
        response = view(*args, **kwargs)
        if submissions.committed(db.session, token):
            response = make_response(response)
            location = response.headers.get("Location") if response.status_code in (301, 302, 303) else None
            submissions.finish(db.session, token, location or request.full_path, _last_flash())
        return response

    inner._once = True  # copied onto the outer wrappers (functools.wraps): init_app does not wrap it twice
    return inner


def _repeat(token: str, user_id: int | None):
    """A second submit of a form already done: the first one's page and message, nothing redone."""
    first = submissions.first(db.session, token)
    db.session.rollback()
    if first is None or first.user_id != user_id:
        flash(_("表单已失效，请刷新页面后重新填写"), "warning")
        return redirect(request.referrer or "/")
    if first.message and ":" in first.message:
        category, message = first.message.split(":", 1)
        flash(message, category)
    flash(_("该表单已提交，未重复处理"), "info")
    url = first.result_url if first.result_url and first.result_url.startswith("/") else None
    return redirect(url or request.referrer or "/")


def storage_error(exc: StorageError):
    """A full disk that a view did not handle itself (an export, a download): its message, not a 500."""
    db.session.rollback()
    flash(str(exc), "danger")
    return redirect(request.referrer or "/")


def init_app(app) -> None:
    """The template global, the full-disk handler, and @once on every Flask-AppBuilder add/edit form (their
    form widget carries the token: templates/appbuilder/general/widgets/form.html). Call after the views
    are registered."""
    app.jinja_env.globals["submit_token"] = submit_token
    app.register_error_handler(StorageError, storage_error)
    for endpoint, func in list(app.view_functions.items()):
        if endpoint.endswith((".add", ".edit")) and not getattr(func, "_once", False):
            app.view_functions[endpoint] = once(func)
