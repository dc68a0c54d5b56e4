"""Job functions used by the job tests (imported by "module:function" like real jobs)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.models import DictType, Job

# (status, done, total, message) of the job row as another connection saw it, per call.
OBSERVED: list[tuple] = []


def observe(ctx: JobContext) -> None:
    with db.engine.connect() as conn:
        row = conn.execute(select(Job.status, Job.done, Job.total, Job.message)
                           .where(Job.id == ctx.job_id)).one()
    OBSERVED.append(tuple(row))


def counting(ctx: JobContext, n: int) -> dict:
    for i in range(n):
        ctx.progress(i + 1, n, f"第{i + 1}步")
        observe(ctx)
    return {"message": "数完了"}


def failing(ctx: JobContext) -> dict:
    ctx.progress(1, 4, "第一步")
    raise JobFailed("第二步出错了")


def crashing(ctx: JobContext) -> dict:
    ctx.progress(2, 5)
    raise RuntimeError("internal details the user must not see")


def write_then_progress(ctx: JobContext, code: str, fail: bool = False) -> dict:
    """Progress reported while the job's own transaction has written (and not committed)."""
    db.session.add(DictType(code=code, name="任务写入"))
    db.session.flush()
    ctx.progress(1, 2, "写入中")
    observe(ctx)
    if fail:
        raise JobFailed("写入后失败")
    db.session.commit()
    ctx.progress(2, 2, "已提交")
    observe(ctx)
    return {"message": "写好了"}


def waiting(ctx: JobContext, event_name: str) -> dict:
    """Blocks until the test sets the named event: proves enqueue() returned before the work ended."""
    ctx.progress(0, 1, "等待中")
    if not EVENTS[event_name].wait(timeout=20):
        raise JobFailed("等待超时")
    return {"message": "等到了", "total": 1}


EVENTS: dict = {}


def blocking(ctx: JobContext, pid_file: str, path: str | None = None, seconds: float = 120) -> dict:
    """Runs long (a test kills its worker meanwhile); writes the work horse's pid to ``pid_file`` first.
    ``path`` plays the uploaded file an import job would read."""
    import os
    import time

    ctx.progress(0, 1, "运行中")
    with open(pid_file + ".tmp", "w") as fh:
        fh.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    time.sleep(seconds)
    return {"message": "睡醒了"}
