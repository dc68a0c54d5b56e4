"""The one way a view runs a service action (issue 14).

    return act(lambda: manual_credits.submit_own(db.session, current_user, credit),
               log=(MODULE, "授分"), done=_("学分已提交审核"),
               then=url_for("ManualCreditView.show", credit_id=credit.id))

``act`` calls the action, commits, writes the operation-log line, flashes ``done`` and redirects to
``then``. A :class:`~app.services.errors.DomainError` rolls the transaction back, logs the refusal
(status False) and, by default, flashes its (translated) message and redirects to ``then`` — or
hands it to ``failed`` (e.g. to render the form again with what was typed and a 422). ``done`` and
``then`` may be callables taking the action's result (the created row, a count…).

Flask-AppBuilder's own add / edit / delete call our ``pre_*`` hooks and flash ``str(exc)`` of what
they raise: :func:`refusing` wraps such a hook so the refused change is rolled back first.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request

from app.extensions import db
from app.oplog import record
from app.services.errors import DomainError

Result = Any


def _resolve(value: Any, result: Any) -> Any:
    return value(result) if callable(value) else value


def rollback_pending() -> None:
    """Roll back whatever the session holds (a refused change must never be flushed later)."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.rollback()


def act(action: Callable[[], Result], *, log: tuple | None = None,
        done: str | Callable[[Result], str | None] | None = None,
        then: str | Callable[[Result], str] | None = None,
        failed: Callable[[DomainError], Any] | None = None,
        category: str = "success", log_done: bool = True) -> Any:
    """Run ``action`` in the request's transaction (see the module docstring).

    ``log`` is ``(module, action)`` or ``(module, action, what)``: ``what`` (text, or a callable of
    the result) is the success line's detail, and a refusal's line reads "what：reason" ("失败：reason"
    without it). ``log_done=False`` logs refusals only (the job logs its own outcome)."""
    started = time.perf_counter()
    module_action, what = (tuple(log[:2]), log[2] if len(log) > 2 else None) if log else ((), None)
    try:
        result = action()
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if log:
            prefix = what if isinstance(what, str) and what else "失败"
            record(*module_action, message=f"{prefix}：{exc}", status=False,
                   duration_ms=int((time.perf_counter() - started) * 1000))
        if failed is not None:
            return failed(exc)
        flash(str(exc), "danger")
        return redirect(_resolve(then, None) if then is not None else (request.referrer or "/"))
    if log and log_done:
        detail = _resolve(what, result)
        record(*module_action, **({"message": detail} if detail else {}),
               duration_ms=int((time.perf_counter() - started) * 1000))
    message = _resolve(done, result)
    if message:
        flash(message, category)
    return redirect(_resolve(then, result)) if then is not None else result


def refusing(hook: Callable) -> Callable:
    """Decorate a ModelView ``pre_add`` / ``pre_update`` / ``pre_delete``: a refusal rolls back the
    refused change before Flask-AppBuilder flashes the message."""
    @functools.wraps(hook)
    def inner(self, item):
        try:
            return hook(self, item)
        except DomainError:
            rollback_pending()
            raise
    return inner
