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
from collections.abc import Callable
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import OperationLog

SECRET_FIELDS = {"password", "id_number"}
# Bookkeeping columns that change on every login or save (FAB's user audit fields): a change to
# only these is not an operation worth logging, and they are left out of ``changes``.
IGNORED_FIELDS = {"last_login", "login_count", "fail_login_count", "changed_on", "changed_by_fk",
                  "created_on", "created_by_fk", "session_nonce"}
ACTION_ADD, ACTION_EDIT, ACTION_DELETE = "新增", "修改", "删除"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def client_ip() -> str | None:
    """The client's address. Behind nginx, app/serving.py (ProxyFix) has already taken it from
    X-Forwarded-For, as many hops deep as TRUST_X_FORWARDED_FOR trusts, so a client cannot write
    another address into the logs."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


def _request_info() -> dict:
    if not has_request_context():
        return {"operator": getattr(g, "job_operator", None) if _has_g() else None}
    user = request_user()
    started = getattr(g, "_op_started", None)
    return {
        "operator": user.username if user else None,
        "user_id": user.id if user else None,
        "ip": client_ip(),
        "method": request.method,
        "url": request.path[:512],
        "duration_ms": int((time.perf_counter() - started) * 1000) if started else None,
    }


def request_user() -> Any:
    """Who acts in this request: the browser session's user, else the REST client's signed in with a
    JWT (flask_login sees an anonymous user there; flask_jwt_extended keeps the loaded user in ``g``
    once the token was verified). None when nobody is signed in."""
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        return current_user
    loaded = (g.get("_jwt_extended_jwt_user") or {}).get("loaded_user")
    return loaded if getattr(loaded, "is_authenticated", False) else None


def _has_g() -> bool:
    from flask import has_app_context

    return has_app_context()


def _mask(key: str, value: Any) -> Any:
    return ("***" if value else None) if key in SECRET_FIELDS else value


def _changes(session: Session, obj: Any, action: str) -> dict:
    """{field: [old, new]} of the columns and links that changed (all set ones for a new row,
    all of a deleted one); secrets masked, FAB's bookkeeping columns left out."""
    state = inspect(obj)
    mapper = state.mapper
    out: dict[str, list] = {}
    covered: set[str] = set()  # FK columns shown through their relationship
    if action == ACTION_EDIT:
        with session.no_autoflush:
            for rel in mapper.relationships:
                if rel.viewonly or rel.direction.name == "ONETOMANY":
                    continue
                hist = state.attrs[rel.key].history
                if not hist.has_changes():
                    continue
                if rel.direction.name == "MANYTOMANY":  # e.g. a user's roles
                    kept = [str(o) for o in hist.unchanged]
                    old_list = sorted(kept + [str(o) for o in hist.deleted])
                    new_list = sorted(kept + [str(o) for o in hist.added])
                    if old_list != new_list:
                        out[rel.key] = [old_list, new_list]
                    continue
                new = hist.added[0] if hist.added else None
                locals_ = [c for c in rel.local_columns]
                old = hist.deleted[0] if hist.deleted else None
                if old is None and len(locals_) == 1:
                    # The old object was not loaded: find it from the FK column, not yet synced.
                    col = mapper.get_property_by_column(locals_[0])
                    col_hist = state.attrs[col.key].history
                    old_fk = col_hist.deleted[0] if col_hist.deleted else getattr(obj, col.key)
                    old = session.get(rel.mapper.class_, old_fk) if old_fk is not None else None
                if old is new:
                    continue
                covered.update(mapper.get_property_by_column(c).key for c in locals_)
                out[rel.key] = [_jsonable(old), _jsonable(new)]
    if action == ACTION_ADD:
        for rel in mapper.relationships:
            if rel.direction.name == "MANYTOMANY" and not rel.viewonly and state.dict.get(rel.key):
                out[rel.key] = [None, sorted(str(o) for o in state.dict[rel.key])]
    for attr in mapper.column_attrs:
        key = attr.key
        if key in IGNORED_FIELDS or key in covered:
            continue
        hist = state.attrs[key].history
        if action == ACTION_EDIT and not hist.has_changes():
            continue
        if action == ACTION_ADD:
            # Called after the flush: ids and defaults are set; read without loading anything.
            old, new = None, state.dict.get(key)
        elif action == ACTION_DELETE:
            old, new = getattr(obj, key), None
        else:
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
        if old is None and new is None:
            continue
        out[key] = [_jsonable(_mask(key, old)), _jsonable(_mask(key, new))]
    return out


def _loggable(obj: Any) -> bool:
    cls = type(obj)
    return bool(getattr(cls, "__module_label__", None)) and not getattr(cls, "__no_oplog__", False)


def _before_flush(session: Session, flush_context, instances) -> None:
    # One list per flush: a failed flush must not leak its entries into the next one.
    pending = session.info["oplog_pending"] = []
    for action, objs in ((ACTION_ADD, session.new), (ACTION_EDIT, session.dirty),
                         (ACTION_DELETE, session.deleted)):
        for obj in objs:
            if not _loggable(obj):
                continue
            if action == ACTION_EDIT and not session.is_modified(obj):
                continue
            if action == ACTION_ADD:
                pending.append((action, obj, None))  # values are complete only after the flush
                continue
            with session.no_autoflush:
                changes = _changes(session, obj, action)
            if action == ACTION_EDIT and not changes:
                continue  # only bookkeeping columns (e.g. last_login) changed
            pending.append((action, obj, changes))


def _after_flush(session: Session, flush_context) -> None:
    pending = session.info.pop("oplog_pending", [])
    if not pending:
        return
    info = _request_info()
    rows = []
    for action, obj, changes in pending:
        if changes is None:
            changes = _changes(session, obj, action)
        state = inspect(obj)
        # New objects get their identity key only after the flush: read the pk from the row.
        pk = ",".join(str(state.dict.get(state.mapper.get_property_by_column(c).key, ""))
                      for c in state.mapper.primary_key)
        rows.append(dict(
            module=type(obj).__module_label__, action=action, status=True,
            target=f"{type(obj).__tablename__}:{pk}"[:128],
            changes=json.dumps(changes, ensure_ascii=False), message=str(obj)[:512],
            created_at=datetime.datetime.now(), **info,
        ))
    session.execute(OperationLog.__table__.insert(), rows)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    session.info.pop("oplog_pending", None)


def install(session_class: Any = Session) -> None:
    """Register the listeners once per process on the Session class."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_soft_rollback", _after_soft_rollback)


def record(module: str, action: str, message: str = "", status: bool = True,
           duration_ms: int | None = None, operator: str | None = None) -> None:
    """Write one log row for a custom action, in its own transaction (so a failure's row
    survives the rollback). Call it after the session committed or rolled back: on SQLite a
    second connection waits for the session's write lock."""
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
