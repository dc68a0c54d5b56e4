"""Counts for the home page, always inside the user's scope."""
from __future__ import annotations

import datetime

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


def home_todos(session: Session, user_id: int, now: datetime.datetime | None = None
               ) -> list[tuple[str, str, dict]]:
    """(label, endpoint, url args) of things waiting for this user. Credit reviews join later."""
    now = now or datetime.datetime.now()
    todos = []
    running = session.scalar(select(func.count(Job.id)).where(
        Job.user_id == user_id, Job.status.in_(("queued", "running"))))
    if running:
        todos.append((f"{running} 个后台任务正在执行", "JobView.mine", {}))
    failed = session.scalar(select(func.count(Job.id)).where(
        Job.user_id == user_id, Job.status == "failed",
        Job.created_at >= now - datetime.timedelta(days=FAILED_JOB_DAYS)))
    if failed:
        todos.append((f"{failed} 个后台任务失败，请查看错误报告", "JobView.mine", {}))
    return todos
