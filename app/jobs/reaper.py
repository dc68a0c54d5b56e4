"""Jobs whose worker died end as failed, with a Chinese reason, instead of "running" forever.

RQ runs each job in a forked work horse. When the horse dies (kill -9, out of memory) its worker marks
the RQ job failed ("Work-horse terminated unexpectedly") and calls ``work_horse_killed``, which fails the
Job row at once. When the worker itself dies, nothing is told: RQ's StartedJobRegistry only moves the job
to the failed registry after its heartbeat expires (job_monitoring_interval + 60 s), and a worker's key
outlives it by worker_ttl. ``reap`` therefore decides from the worker's own traces:

- the RQ job is gone (Redis restarted without its data), failed, stopped or canceled → failed;
- the RQ job is started and its worker is dead: its Redis key expired, or it ran on this host and its
  process no longer exists, or its last heartbeat is older than HEARTBEAT_GRACE (a busy worker beats
  every job_monitoring_interval: 10 s under ``flask cme worker``, 30 s by default) → failed;
- without Redis (jobs in threads of the web process), a job older than JOB_TIMEOUT + a minute → failed.

``reap`` runs when a worker starts (it fails what its crashed predecessor left) and every minute in its
maintenance, at every progress poll of a job still queued/running, on the 我的任务 and home pages and in
``flask cme check``; it is cheap when nothing is
active. A failed import is never retried by itself: it wrote nothing (all or nothing), its uploaded file is
removed, and the user uploads the file again (the message says so).
"""
from __future__ import annotations

import datetime
import os
import socket

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db
from app.models import Job
from app.services.uploads import upload_folder

ACTIVE = ("queued", "running")
HEARTBEAT_GRACE = 50  # seconds without a heartbeat before a busy worker counts as dead
ENQUEUE_GRACE = 30  # a row committed just before its enqueue is not "lost" yet
JOB_TIMEOUT = 3600  # RQ job_timeout of enqueue(); in-process jobs get the same limit

WORKER_DIED = "后台任务进程意外终止（可能被强制结束、内存不足或服务器重启），任务未完成，未写入任何数据；请重新提交（导入请重新上传文件）"
LOST_IN_QUEUE = "任务在队列中丢失（队列服务重启后未能恢复），任务未执行；请重新提交（导入请重新上传文件）"
TIMED_OUT = "任务超过最长执行时间仍未结束，已按失败处理；请重新提交或联系管理员"
QUEUE_DOWN = "任务队列不可用（无法连接 Redis），任务未执行，上传的文件已删除；请稍后重新提交（导入请重新上传文件），或联系管理员"


def fail(job_id: str, message: str, *, now: datetime.datetime | None = None) -> bool:
    """Mark a queued/running job failed (only if it still is: a job that finished meanwhile keeps its
    result); returns whether it was changed."""
    with db.engine.begin() as conn:
        changed = conn.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE))
                               .values(status="failed", message=message,
                                       finished_at=now or datetime.datetime.now())).rowcount
    return bool(changed)


def remove_upload(kwargs: dict | None) -> None:
    """Delete the uploaded file a job was handed (``path`` under the uploads folder), if still there."""
    path = (kwargs or {}).get("path")
    if not isinstance(path, str):
        return
    folder = os.path.realpath(upload_folder())
    real = os.path.realpath(path)
    if os.path.commonpath([folder, real]) == folder and os.path.isfile(real):
        try:
            os.unlink(real)
        except OSError:
            pass


def reap(job_ids: list[str] | None = None, *, user_id: int | None = None,
         now: datetime.datetime | None = None) -> list[str]:
    """Fail the queued/running jobs (all, those of ``job_ids`` or of ``user_id``) whose worker is gone;
    returns their ids."""
    now = now or datetime.datetime.now()
    query = select(Job.id, Job.status, Job.created_at).where(Job.status.in_(ACTIVE))
    if user_id is not None:
        query = query.where(Job.user_id == user_id)
    if job_ids is not None:
        if not job_ids:
            return []
        query = query.where(Job.id.in_(job_ids))
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return []
    if not current_app.config.get("REDIS_URL"):
        limit = now - datetime.timedelta(seconds=JOB_TIMEOUT + 60)
        return [job_id for job_id, _status, created in rows if created < limit and fail(job_id, TIMED_OUT, now=now)]
    try:
        from app.jobs import get_queue

        connection = get_queue().connection
        connection.ping()
    except Exception:  # noqa: BLE001 - Redis down: nothing can be decided now, the next call will
        current_app.logger.warning("job reaper: Redis unreachable")
        return []
    reaped = []
    for job_id, status, created in rows:
        reason, kwargs = _verdict(connection, job_id, status, created, now)
        if reason and fail(job_id, reason, now=now):
            current_app.logger.warning("job %s marked failed: %s", job_id, reason)
            remove_upload(kwargs)
            reaped.append(job_id)
    return reaped


def _verdict(connection, job_id: str, status: str, created: datetime.datetime,
             now: datetime.datetime) -> tuple[str | None, dict | None]:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob
    from rq.job import JobStatus

    try:
        rq_job = RQJob.fetch(job_id, connection=connection)
    except NoSuchJobError:
        young = (now - created).total_seconds() < ENQUEUE_GRACE
        return (None if young else LOST_IN_QUEUE), None
    try:
        kwargs = rq_job.args[2] if len(rq_job.args) > 2 else None
    except Exception:  # noqa: BLE001 - an unreadable payload still gets its verdict
        kwargs = None
    state = rq_job.get_status(refresh=False)
    if state in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
        return WORKER_DIED, kwargs
    if state == JobStatus.STARTED and not worker_alive(connection, rq_job.worker_name):
        return WORKER_DIED, kwargs
    return None, kwargs


def worker_alive(connection, name: str | None) -> bool:
    """Whether the RQ worker ``name`` still lives (see the module docstring)."""
    from rq import Worker

    if not name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
    if worker is None:
        return False
    if worker.hostname == socket.gethostname() and worker.pid and not _pid_alive(worker.pid):
        return False
    if worker.last_heartbeat is not None:
        age = datetime.datetime.now(datetime.UTC) - worker.last_heartbeat
        if age.total_seconds() > HEARTBEAT_GRACE:
            return False
    return True


def workers_running() -> bool | None:
    """Whether any live worker serves this app's queue (None without Redis or when it is unreachable)."""
    if not current_app.config.get("REDIS_URL"):
        return None
    try:
        from rq import Worker

        from app.jobs import get_queue

        queue = get_queue()
        return any(worker_alive(queue.connection, w.name) for w in Worker.all(queue=queue))
    except Exception:  # noqa: BLE001 - Redis down
        return None


def work_horse_killed(job, retpid, ret_val, rusage) -> None:
    """RQ's work_horse_killed_handler (``flask cme worker``): the horse died, fail its row now."""
    if fail(job.id, WORKER_DIED):
        current_app.logger.warning("job %s: work horse %s killed (%s)", job.id, retpid, ret_val)
        remove_upload(job.args[2] if len(job.args) > 2 else None)
    db.session.remove()
    db.engine.dispose()  # the next work horse is forked from this process: no pooled connection to share


def reap_from_worker(log) -> None:
    """The worker's periodic maintenance (app/worker.py, every minute): reap, never fail the worker."""
    try:
        for job_id in reap():
            log.warning("job %s of a dead worker marked failed", job_id)
    except Exception:  # a database hiccup must not stop the worker
        log.exception("job reaper failed")
    finally:
        # Work horses are forked from this process: leave them no pooled connection to share.
        db.session.remove()
        db.engine.dispose()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (dead, not yet reaped by its parent) is dead too.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


__all__ = ["fail", "reap", "reap_from_worker", "remove_upload", "work_horse_killed", "worker_alive",
           "workers_running"]
