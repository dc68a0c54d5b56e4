"""One way to run long work (JOB-1).

``enqueue`` records a Job row and runs ``func(job, **kwargs)`` on RQ when REDIS_URL is set,
otherwise in a background thread of this process. Job functions are thin: they call services
and report progress through ``JobContext``. Progress and results are written on their own
connection so the work's own transaction stays all-or-nothing.
"""
from __future__ import annotations

import datetime
import importlib
import os
import threading
import traceback
import uuid
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Job
from app.services import files
from app.services.filestore import StorageError, guard


class JobContext:
    """Handed to job functions: progress reporting and a place for the result file."""

    def __init__(self, job_id: str, user_id: int):
        self.job_id = job_id
        self.user_id = user_id
        self._pending: dict[str, Any] = {}

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record progress on its own connection (it survives the job's rollback).

        On SQLite a second connection cannot write while the job's session holds its write lock
        (it would wait, then fail with "database is locked"); progress is then kept and written
        by the next call made outside that transaction, or replaced by the final status."""
        values = self._pending
        values["done"] = done
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message
        if _session_holds_sqlite_write_lock():
            return
        self._pending = {}
        _update(self.job_id, **values)

    def unsaved_counts(self) -> dict[str, Any]:
        """done/total of a progress call that could not be written yet (see ``progress``)."""
        return {k: v for k, v in self._pending.items() if k in ("done", "total")}

    def result_path(self, filename: str) -> str:
        folder = os.path.join(current_app.config["JOB_FILES_DIR"], self.job_id)
        with guard(None):  # a full or read-only disk: StorageError, the job ends with the Chinese message
            os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, filename)


class JobFailed(Exception):
    """Raised by a job to end as failed with a user-facing Chinese message (and optional file)."""

    def __init__(self, message: str, result_path: str | None = None, result_name: str | None = None):
        super().__init__(message)
        self.result_path = result_path
        self.result_name = result_name


def _session_holds_sqlite_write_lock() -> bool:
    session = db.session()
    if db.engine.dialect.name != "sqlite" or not session.in_transaction():
        return False
    # pysqlite opens a transaction (and takes the write lock) only before the first write.
    return bool(session.connection().connection.dbapi_connection.in_transaction)


def _stored(path: str | None) -> str | None:
    """A result file as the Job row keeps it: relative to JOB_FILES_DIR (services/files.py)."""
    return files.relative(current_app.config["JOB_FILES_DIR"], path) if path else None


def _update(job_id: str, **values: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def execute(job_id: str, func_path: str, kwargs: dict) -> None:
    """Run one job; called in-process or by the RQ worker (inside an app context)."""
    job = db.session.get(Job, job_id)
    if job is None:  # deleted while it waited in the queue
        current_app.logger.warning("job %s no longer exists", job_id)
        db.session.remove()
        return
    user_id = job.user_id
    db.session.rollback()
    _update(job_id, status="running")
    ctx = JobContext(job_id, user_id)
    try:
        module_name, func_name = func_path.rsplit(":", 1)
        func = getattr(importlib.import_module(module_name), func_name)
        result = func(ctx, **kwargs) or {}
    except JobFailed as exc:
        db.session.rollback()
        _update(job_id, **ctx.unsaved_counts(), status="failed", message=str(exc),
                result_path=_stored(exc.result_path), result_name=exc.result_name,
                finished_at=datetime.datetime.now())
        return
    except StorageError as exc:  # a full disk (logged by filestore): its Chinese message, no partial file
        db.session.rollback()
        _update(job_id, **ctx.unsaved_counts(), status="failed", message=str(exc),
                finished_at=datetime.datetime.now())
        return
    except Exception:  # noqa: BLE001 - a job must always end with a status
        db.session.rollback()
        current_app.logger.error("job %s failed: %s", job_id, traceback.format_exc())
        # The traceback goes to the log; the user gets a Chinese message, not the exception text.
        _update(job_id, **ctx.unsaved_counts(), status="failed", message="任务执行出错，请联系管理员",
                finished_at=datetime.datetime.now())
        return
    finally:
        db.session.remove()
    values = {**ctx.unsaved_counts(), "status": "finished", "finished_at": datetime.datetime.now(),
              "message": result.get("message", "完成")}
    if result.get("result_path"):
        values.update(result_path=_stored(result["result_path"]), result_name=result.get("result_name"))
    job_row_total = result.get("total")
    if job_row_total is not None:
        values.update(done=job_row_total, total=job_row_total)
    _update(job_id, **values)


_worker_app = None


def _rq_execute(job_id: str, func_path: str, kwargs: dict) -> None:
    """RQ entry point: reuse the worker's app context (``flask cme worker``), or build an app
    once per process (a plain ``rq worker``) from CME_CONFIG and the environment."""
    global _worker_app
    from flask import has_app_context

    if has_app_context():
        return execute(job_id, func_path, kwargs)
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app(os.environ.get("CME_CONFIG", "development"))
    with _worker_app.app_context():
        return execute(job_id, func_path, kwargs)


def get_queue(name: str | None = None):
    """The RQ queue of this app, RQ_QUEUE unless named (REDIS_URL must be set)."""
    from redis import Redis
    from rq import Queue

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    return Queue(name or current_app.config["RQ_QUEUE"], connection=Redis.from_url(url))


class AlreadyActive(Exception):
    """``enqueue(dedupe_key=…)`` found a queued or running job of that key: ``job`` is that one."""

    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


def _add_job(job: Job) -> None:
    """Commit the new row; with a dedupe key taken by an active job, AlreadyActive (one whose worker died
    is failed by the reaper first, and the key is free again)."""
    from app.jobs.reaper import ACTIVE, reap

    for attempt in range(3):
        db.session.add(job)
        try:
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()
            if job.dedupe_key is None or attempt == 2:
                raise
        active = db.session.scalar(select(Job).where(Job.dedupe_key == job.dedupe_key, Job.status.in_(ACTIVE)))
        if active is not None and not reap([active.id]):
            raise AlreadyActive(active)
        # it ended (or its dead worker's job was failed) in between: the key is free, try again


def enqueue(kind: str, func_path: str, *, user_id: int, title: str, upload_sha256: str | None = None,
            dedupe_key: str | None = None, **kwargs: Any) -> Job:
    """Create the Job row and start the work; returns the Job.

    ``kwargs`` must be JSON-like (they travel through Redis); the function is named by
    ``"module:function"`` so the worker imports it, never pickles it. ``dedupe_key`` names work that
    must not run twice at once: while a job of that key is queued or running, AlreadyActive (with it)
    is raised and nothing is started — decided by a unique index, so also for two requests at once."""
    job_id = uuid.uuid4().hex
    job = Job(id=job_id, kind=kind, title=title, user_id=user_id, status="queued", upload_sha256=upload_sha256,
              dedupe_key=dedupe_key)
    _add_job(job)
    if current_app.config.get("REDIS_URL"):
        try:
            get_queue().enqueue(_rq_execute, args=(job_id, func_path, kwargs), job_id=job_id,
                                job_timeout=3600, result_ttl=86400, failure_ttl=7 * 86400)
        except Exception:  # noqa: BLE001 - Redis down: the job must not wait forever as "queued"
            from app.jobs.reaper import QUEUE_DOWN, remove_upload

            current_app.logger.error("job %s not queued: %s", job_id, traceback.format_exc())
            _update(job_id, status="failed", message=QUEUE_DOWN, finished_at=datetime.datetime.now())
            remove_upload(kwargs)  # nothing will read it: the user uploads it again
    else:
        app = current_app._get_current_object()

        def run() -> None:
            with app.app_context():
                execute(job_id, func_path, kwargs)

        thread = threading.Thread(target=run, name=f"job-{job_id}", daemon=True)
        thread.start()
        if app.config.get("JOBS_SYNC"):  # tests may ask to wait
            thread.join()
    db.session.refresh(job)  # the status as the worker or thread left it, not a stale copy
    return job
