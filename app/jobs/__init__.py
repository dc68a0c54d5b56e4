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
from sqlalchemy import update

from app.extensions import db
from app.models import Job


class JobContext:
    """Handed to job functions: progress reporting and a place for the result file."""

    def __init__(self, job_id: str, user_id: int):
        self.job_id = job_id
        self.user_id = user_id

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        values: dict[str, Any] = {"done": done}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message
        _update(self.job_id, **values)

    def result_path(self, filename: str) -> str:
        folder = os.path.join(current_app.config["JOB_FILES_DIR"], self.job_id)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, filename)


class JobFailed(Exception):
    """Raised by a job to end as failed with a user-facing Chinese message (and optional file)."""

    def __init__(self, message: str, result_path: str | None = None, result_name: str | None = None):
        super().__init__(message)
        self.result_path = result_path
        self.result_name = result_name


def _update(job_id: str, **values: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(**values))


def execute(job_id: str, func_path: str, kwargs: dict) -> None:
    """Run one job; called in-process or by the RQ worker (inside an app context)."""
    job = db.session.get(Job, job_id)
    user_id = job.user_id
    db.session.rollback()
    _update(job_id, status="running")
    module_name, func_name = func_path.rsplit(":", 1)
    func = getattr(importlib.import_module(module_name), func_name)
    ctx = JobContext(job_id, user_id)
    try:
        result = func(ctx, **kwargs) or {}
    except JobFailed as exc:
        db.session.rollback()
        _update(job_id, status="failed", message=str(exc), result_path=exc.result_path,
                result_name=exc.result_name, finished_at=datetime.datetime.now())
        return
    except Exception as exc:  # noqa: BLE001 - a job must always end with a status
        db.session.rollback()
        current_app.logger.error("job %s failed: %s", job_id, traceback.format_exc())
        _update(job_id, status="failed", message=f"任务执行出错：{exc}",
                finished_at=datetime.datetime.now())
        return
    finally:
        db.session.remove()
    values = {"status": "finished", "finished_at": datetime.datetime.now(),
              "message": result.get("message", "完成")}
    if result.get("result_path"):
        values.update(result_path=result["result_path"], result_name=result.get("result_name"))
    job_row_total = result.get("total")
    if job_row_total is not None:
        values.update(done=job_row_total, total=job_row_total)
    _update(job_id, **values)


def _rq_execute(job_id: str, func_path: str, kwargs: dict) -> None:
    """RQ entry point: reuse the worker's app context, or build one."""
    from flask import has_app_context

    if has_app_context():
        return execute(job_id, func_path, kwargs)
    from app import create_app

    app = create_app(os.environ.get("CME_CONFIG", "development"))
    with app.app_context():
        return execute(job_id, func_path, kwargs)


def get_queue():
    from redis import Redis
    from rq import Queue

    url = current_app.config.get("REDIS_URL")
    return Queue(current_app.config["RQ_QUEUE"], connection=Redis.from_url(url))


def enqueue(kind: str, func_path: str, *, user_id: int, title: str, **kwargs: Any) -> Job:
    """Create the Job row and start the work; returns the Job."""
    job = Job(id=uuid.uuid4().hex, kind=kind, title=title, user_id=user_id, status="queued")
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    if current_app.config.get("REDIS_URL"):
        get_queue().enqueue(_rq_execute, job_id, func_path, kwargs, job_id=job_id,
                            job_timeout=3600, result_ttl=86400)
    else:
        app = current_app._get_current_object()

        def run() -> None:
            with app.app_context():
                execute(job_id, func_path, kwargs)

        thread = threading.Thread(target=run, name=f"job-{job_id}", daemon=True)
        thread.start()
        if app.config.get("JOBS_SYNC"):  # tests may ask to wait
            thread.join()
    return db.session.get(Job, job_id)
