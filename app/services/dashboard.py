"""Counts for the home page, always inside the user's scope.

The summaries over everybody in a scope (persons, organizations, the year's compliance shares) read
hundreds of thousands of rows for a city (~0.3 s) and everybody opens the home page every morning: each is
kept per scope and year for ``SUMMARY_TTL`` seconds (services/ttl_cache.py). A committed change of a person,
an organization or a result, or a recompute (also one run by the RQ worker), recounts them at once in this
process and, with Redis, within about a second in the others (without it, within ``SUMMARY_TTL``). To-dos are
always counted fresh."""
from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import ComplianceResult, Job, Org, Person
from app.models.audit import AuditFinalPerson
from app.models.audit_review import AuditResult
from app.services.audit_review import persons_criterion
from app.services.scope import Scope
from app.services.ttl_cache import TtlCache

SUMMARY_TTL = 300.0  # seconds a home page's summary may lag a change made in another worker process


def _touches_summaries(classes: set[type]) -> bool:
    return any(issubclass(cls, (Person, Org, ComplianceResult)) for cls in classes)


_summaries = TtlCache("summaries", SUMMARY_TTL, 4096, _touches_summaries)


def _kept(session: Session, name: str, scope: Scope, year: int | None, compute: Callable[[], object]):
    return _summaries.kept(session, (name, scope.level, scope.org_id, scope.person_id, year), compute)


def home_counts(session: Session, scope: Scope) -> list[tuple[str, int, str]]:
    """(label, number, endpoint) tuples for the cards on the home page."""
    return list(_kept(session, "counts", scope, None, lambda: _home_counts(session, scope)))


def _home_counts(session: Session, scope: Scope) -> list[tuple[str, int, str]]:
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


# ------------------------------------------------------------------ the role's own picture (issue 15)
@dataclass
class Progress:
    """A student's 达标 picture of a credit year, from the stored compliance result."""

    year: int
    total: Decimal
    required: Decimal
    met: bool
    class1: Decimal | None
    class2: Decimal | None
    computed_at: datetime.datetime | None

    @property
    def missing(self) -> Decimal:
        return max(self.required - self.total, Decimal(0))

    @property
    def percent(self) -> int:
        return 100 if self.met or not self.required else min(100, int(self.total * 100 / self.required))


def student_progress(session: Session, person_id: int, year: int) -> Progress | None:
    """The person's stored result of ``year`` (the newest computed when several rule sets judged it)."""
    r = session.execute(select(ComplianceResult.total, ComplianceResult.required, ComplianceResult.met,
                               ComplianceResult.class1, ComplianceResult.class2, ComplianceResult.computed_at)
                        .where(ComplianceResult.person_id == person_id, ComplianceResult.year == year)
                        .order_by(ComplianceResult.computed_at.desc(), ComplianceResult.id.desc()).limit(1)).first()
    if r is None:
        return None
    return Progress(year, Decimal(r.total or 0), Decimal(r.required or 0), bool(r.met), r.class1, r.class2,
                    r.computed_at)


@dataclass
class Share:
    label: str
    met: int
    total: int
    org_id: int | None = None

    @property
    def percent(self) -> int:
        return int(self.met * 100 / self.total) if self.total else 0


def compliance_share(session: Session, scope: Scope, year: int) -> Share:
    """达标 n / total of the people in ``scope`` for ``year`` (stored results; one query, kept a while)."""
    return _kept(session, "share", scope, year, lambda: _compliance_share(session, scope, year))


def _compliance_share(session: Session, scope: Scope, year: int) -> Share:
    total, met = session.execute(scope.filter(
        select(func.count(ComplianceResult.id),
               func.coalesce(func.sum(case((ComplianceResult.met.is_(True), 1), else_=0)), 0))
        .where(ComplianceResult.year == year), ComplianceResult)).one()
    return Share("", int(met or 0), int(total or 0))


TOP_INSTITUTIONS = 10


def compliance_by_institution(session: Session, scope: Scope, year: int,
                              limit: int = TOP_INSTITUTIONS) -> list[Share]:
    """达标 by institution in ``scope`` for ``year``: the ``limit`` institutions with the lowest share
    first (those who need a push), one grouped query (kept a while)."""
    return list(_kept(session, f"by_institution:{limit}", scope, year,
                      lambda: _compliance_by_institution(session, scope, year, limit)))


def _compliance_by_institution(session: Session, scope: Scope, year: int, limit: int) -> list[Share]:
    met = func.sum(case((ComplianceResult.met.is_(True), 1), else_=0))
    total = func.count(ComplianceResult.id)
    rows = session.execute(scope.filter(
        select(Org.id, Org.name, met.label("met"), total.label("total"))
        .join(Org, Org.id == ComplianceResult.institution_id)
        .where(ComplianceResult.year == year)
        .group_by(Org.id, Org.name)
        .order_by((met * 1.0 / total).asc(), Org.name, Org.id).limit(limit), ComplianceResult)).all()
    return [Share(r.name, int(r.met or 0), int(r.total or 0), r.id) for r in rows]


def audit_dashboard(session: Session, auditor, cycle) -> dict[str, int]:
    """分配 / 已审验 / 已计算 of the auditor's persons in ``cycle`` (one query)."""
    from sqlalchemy import and_


    fp, r = AuditFinalPerson, AuditResult
    total, reviewed, computed = session.execute(
        select(func.count(fp.id), func.count(case((r.reviewed.is_(True), r.id))),
               func.count(case((r.met.is_not(None), r.id))))
        .select_from(fp).outerjoin(r, and_(r.cycle_id == fp.cycle_id, r.person_id == fp.person_id))
        .where(fp.cycle_id == cycle.id, persons_criterion(auditor, cycle.id))).one()
    return {"total": total or 0, "reviewed": reviewed or 0, "computed": computed or 0,
            "pending": (total or 0) - (reviewed or 0)}
