"""Counts for the home page, always inside the user's scope."""
from __future__ import annotations

import datetime
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Job, Org, Person
from app.services.scope import Scope


def home_counts(session: Session, scope: Scope) -> list[tuple[str, int, str]]:
    """(label, number, endpoint) tuples for the cards on the home page."""
    cards: list[tuple[str, int, str]] = []
    if scope.level in ("all", "district"):
        n = session.scalar(scope.filter(select(func.count(Org.id)).where(Org.kind == "institution"), Org))
        cards.append(("医疗机构", n or 0, "InstitutionView.list"))
    if scope.level in ("all", "district", "institution"):
        n = session.scalar(scope.filter(select(func.count(Org.id)).where(Org.kind == "department"), Org))
        cards.append(("科室", n or 0, "DepartmentView.list"))
    if scope.level in ("all", "district", "institution", "department"):
        n = session.scalar(scope.filter(select(func.count(Person.id)), Person))
        cards.append(("人员", n or 0, "PersonView.list"))
    return cards


FAILED_JOB_DAYS = 7  # a failed job stays a to-do for a week, then only "my jobs" shows it


def home_todos(session: Session, user_id: int, now: datetime.datetime | None = None,
               workers_running: Callable[[], bool | None] | None = None) -> list[tuple[str, str, dict]]:
    """(label, endpoint, url args) of things waiting for this user. Credit reviews join later.

    Jobs are counted as they are: running; waiting with no worker to run them (``workers_running()``,
    asked only when a job waits, is False: the queue has no live worker); failed — and an error report
    is promised only when one exists (a job that failed in the queue or with its worker has none)."""
    now = now or datetime.datetime.now()
    todos = []
    active = dict(session.execute(select(Job.status, func.count(Job.id)).where(
        Job.user_id == user_id, Job.status.in_(("queued", "running"))).group_by(Job.status)).all())
    queued, running = active.get("queued", 0), active.get("running", 0)
    if queued and workers_running is not None and workers_running() is False:
        todos.append((f"{queued} 个后台任务排队等待，但后台任务进程未运行，请联系管理员", "JobView.mine", {}))
        queued = 0
    if running + queued:
        todos.append((f"{running + queued} 个后台任务正在执行", "JobView.mine", {}))
    since = now - datetime.timedelta(days=FAILED_JOB_DAYS)
    failed, reports = session.execute(select(func.count(Job.id), func.count(Job.result_path)).where(
        Job.user_id == user_id, Job.status == "failed", Job.created_at >= since)).one()
    if failed:
        label = f"{failed} 个后台任务失败，请在“我的任务”中查看原因"
        if reports:
            label += f"（{reports} 个有错误报告可下载）"
        todos.append((label, "JobView.mine", {}))
    return todos
