"""Files that belong to database rows are kept only if their transaction commits; a full disk is a message.

    path = filestore.write(os.path.join(folder, name), data, session=db.session)  # tracked
    ... add the row ...; session.commit()   # the file stays
    session.rollback() / an exception       # the file is deleted (after_transaction_end)

``write`` removes a partial file when the disk refuses and raises ``StorageError`` (an UploadError, so
every form that shows upload refusals shows it too) with "服务器存储空间不足，请联系管理员"; the error goes
to the error log and to the operation log (module 文件存储), where ``last_storage_error()`` reads it for
/healthz. ``guard(path)`` does the same for a writer that is not ours (xlsxwriter, reportlab).
"""
from __future__ import annotations

import contextlib
import datetime
import errno
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.logs import OperationLog
from app.oplog import record
from app.services.errors import N_, DomainError

logger = logging.getLogger("app.storage")

STORAGE_MODULE = "文件存储"
FULL_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EFBIG}
FULL_MESSAGE = N_("服务器存储空间不足，请联系管理员")
OTHER_MESSAGE = N_("服务器存储出错，请联系管理员")

_KEY = "filestore_pending"  # session.info: paths written in the current transaction
_DOOMED_KEY = "filestore_doomed"  # session.info: files of rows deleted in the current transaction
_ERRORS_KEY = "filestore_errors"  # session.info: storage errors to log once the transaction ended
_last: dict[str, Any] = {}
_lock = threading.Lock()


class UploadError(DomainError):
    """Refused upload; message in Chinese (services/uploads re-exports it)."""


class StorageError(UploadError):
    """The server could not write a file (disk full, read-only, no permission); message in Chinese."""


def message_for(exc: OSError) -> str:
    return FULL_MESSAGE if exc.errno in FULL_ERRNOS else OTHER_MESSAGE


def remove(path: str | None) -> None:
    """Delete ``path`` if it exists; never raises."""
    if path:
        with contextlib.suppress(OSError):
            os.unlink(path)


def track(session: Any, path: str) -> None:
    """Delete ``path`` unless the session's current transaction commits."""
    real = _real(session)
    if not real.in_transaction():
        real.begin()
    real.info.setdefault(_KEY, []).append(path)


def remove_after_commit(session: Any, path: str) -> None:
    """Delete ``path`` once the session's transaction commits (its row was deleted); kept on rollback."""
    _real(session).info.setdefault(_DOOMED_KEY, []).append(path)


def _real(session: Any) -> Session:
    return session() if callable(session) and not isinstance(session, Session) else session


def write(path: str, data: bytes, *, session: Any = None) -> str:
    """Write ``data`` to ``path`` (its folder created); with ``session`` the file lives and dies with the
    session's transaction. StorageError (partial file removed, error logged) when the disk refuses."""
    with guard(path, session=session):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())  # ENOSPC of a delayed write shows here, not after the row committed
    if session is not None:
        track(session, path)
    return path


@contextlib.contextmanager
def guard(path: str | None, *, session: Any = None) -> Iterator[None]:
    """Turn an OSError inside the block (or one a library wrapped) into StorageError, removing ``path``
    (the partial file); the error is logged (see note_error)."""
    try:
        yield
    except StorageError:
        remove(path)
        raise
    except Exception as exc:
        os_error = _os_error(exc)
        if os_error is None:
            raise
        remove(path)
        note_error(os_error, path, session=session)
        raise StorageError(message_for(os_error)) from exc


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError itself, or one a library wrapped (XlsxWriter's FileCreateError(OSError))."""
    if isinstance(exc, OSError):
        return exc
    for candidate in (*getattr(exc, "args", ()), exc.__cause__):
        if isinstance(candidate, OSError):
            return candidate
    return None


def note_error(exc: OSError, path: str | None, *, session: Any = None) -> None:
    """Log a storage error (error log now; operation log now or, inside a transaction, when it ends)."""
    logger.exception("file storage failed: %s (%s)", path, exc)
    text = f"写入文件失败：{os.strerror(exc.errno) if exc.errno else exc}（{os.path.basename(path or '')}）"
    now = datetime.datetime.now()
    with _lock:
        _last.update(at=now, message=text, errno=exc.errno)
    real = _real(session) if session is not None else None
    if real is not None and real.in_transaction():
        real.info.setdefault(_ERRORS_KEY, []).append(text)  # SQLite: a second connection would wait
        return
    _record(text)


def _record(text: str) -> None:
    try:

        record(STORAGE_MODULE, "写入", text, False)
    except Exception:
        logger.exception("storage error not written to the operation log")


def last_storage_error() -> dict[str, Any] | None:
    """The latest storage error of any process: {"at": datetime, "message": str}, or None (for /healthz)."""
    try:
        from sqlalchemy import select


        with db.engine.connect() as conn:
            row = conn.execute(select(OperationLog.created_at, OperationLog.message)
                               .where(OperationLog.module == STORAGE_MODULE, OperationLog.status.is_(False))
                               .order_by(OperationLog.id.desc()).limit(1)).first()
        if row is not None:
            return {"at": row.created_at, "message": row.message}
    except Exception:
        logger.exception("last storage error not readable from the operation log")
    with _lock:
        return {"at": _last["at"], "message": _last["message"]} if _last else None


def _after_commit(session: Session) -> None:
    session.info.pop(_KEY, None)
    for path in session.info.pop(_DOOMED_KEY, None) or ():
        remove(path)  # the row is gone for good: so is its file


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    for path in session.info.pop(_KEY, None) or ():
        remove(path)  # rolled back (or closed without commit): the file has no row
    session.info.pop(_DOOMED_KEY, None)  # rolled back: the rows and their files stay
    for text in session.info.pop(_ERRORS_KEY, None) or ():
        _record(text)


def install(session_class: Any = Session) -> None:
    """Register the listeners once per process on the Session class."""
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_transaction_end", _after_transaction_end)
