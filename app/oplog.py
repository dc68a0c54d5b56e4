"""Operation log (SYS-5): one mechanism for every create / update / delete and custom action.

CRUD through any view, API or service is caught by SQLAlchemy session events (before_flush
collects the changed objects with their attribute history, after_flush writes the log rows in
the same transaction). Custom actions (review, import, export, clear …) use ``@operation`` or
``record``. Models opt in by declaring ``__module_label__``; log tables opt out with
``__no_oplog__``.
"""
from __future__ import annotations

import datetime
import functools
import json
import time
from typing import Any, Callable

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import OperationLog

SECRET_FIELDS = {"password", "id_number"}
ACTION_ADD, ACTION_EDIT, ACTION_DELETE = "新增", "修改", "删除"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _request_info() -> dict:
    if not has_request_context():
        return {"operator": getattr(g, "job_operator", None) if _has_g() else None}
    from flask_login import current_user

    user = current_user if getattr(current_user, "is_authenticated", False) else None
    started = getattr(g, "_op_started", None)
    return {
        "operator": user.username if user else None,
        "user_id": user.id if user else None,
        "ip": request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip(),
        "method": request.method,
        "url": request.path[:512],
        "duration_ms": int((time.perf_counter() - started) * 1000) if started else None,
    }


def _has_g() -> bool:
    from flask import has_app_context

    return has_app_context()


def _changes(obj: Any, action: str) -> dict:
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        hist = state.attrs[key].history
        if action == ACTION_EDIT and not hist.has_changes():
            continue
        if action == ACTION_ADD:
            old, new = None, getattr(obj, key)
        elif action == ACTION_DELETE:
            old, new = getattr(obj, key), None
        else:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
        if old is None and new is None:
            continue
        if key in SECRET_FIELDS:
            old, new = ("***" if old else None), ("***" if new else None)
        out[key] = [_jsonable(old), _jsonable(new)]
    return out


def _loggable(obj: Any) -> bool:
    cls = type(obj)
    return bool(getattr(cls, "__module_label__", None)) and not getattr(cls, "__no_oplog__", False)


def _before_flush(session: Session, flush_context, instances) -> None:
    pending = session.info.setdefault("oplog_pending", [])
    for action, objs in ((ACTION_ADD, session.new), (ACTION_EDIT, session.dirty),
                         (ACTION_DELETE, session.deleted)):
        for obj in objs:
            if not _loggable(obj):
                continue
            if action == ACTION_EDIT and not session.is_modified(obj, include_collections=False):
                continue
            pending.append((action, obj, _changes(obj, action)))


def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop("oplog_pending", [])
    if not pending:
        return
    info = _request_info()
    rows = []
    for action, obj, changes in pending:
        pk = inspect(obj).identity
        rows.append(dict(
            module=type(obj).__module_label__, action=action, status=True,
            target=f"{type(obj).__tablename__}:{pk[0] if pk else ''}",
            changes=json.dumps(changes, ensure_ascii=False), message=str(obj)[:512],
            created_at=datetime.datetime.now(), **info,
        ))
    session.execute(OperationLog.__table__.insert(), rows)


def install(session_class: Any = Session) -> None:
    """Register the listeners once per process on the Session class."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)


def record(module: str, action: str, message: str = "", status: bool = True,
           duration_ms: int | None = None, operator: str | None = None) -> None:
    """Write one log row for a custom action, in its own transaction."""
    from app.extensions import db

    info = _request_info()
    if duration_ms is not None:
        info["duration_ms"] = duration_ms
    if operator:
        info["operator"] = operator
    with db.engine.begin() as conn:
        conn.execute(OperationLog.__table__.insert(), [dict(
            module=module, action=action, status=status, message=(message or "")[:512],
            created_at=datetime.datetime.now(), **info)])


def operation(module: str, action: str) -> Callable:
    """Decorator for custom view actions: logs module, action, status and duration."""
    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def inner(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = func(*args, **kwargs)
            except Exception as exc:
                record(module, action, f"失败：{exc}", False, int((time.perf_counter() - started) * 1000))
                raise
            record(module, action, "", True, int((time.perf_counter() - started) * 1000))
            return result
        return inner
    return wrap
