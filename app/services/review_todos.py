"""待办事项 of the review chain on the home page (SYS-7 "to-do items (pending reviews)").

Each reviewer sees how many items wait for them, inside their data scope — one COUNT each, all sent to the
database as one statement of scalar subqueries (issue 18: a city admin's home page asked ~10 in a row):
- the unit (institution / department): manual credits its staff submitted (授分) and self-study forms
  submitted to it; self-study forms it filled itself (机构上传) that were returned;
- the district: self-study forms submitted in its district (it may grant or return them);
- the city: manual entries the unit passed, waiting for the city's review (seed 002 附件一 4);
- the technician: own manual credits that failed review and own self-study forms returned, to fix;
- the district and the city (issue 15): practice plans and filings waiting for review, flagged projects;
  the institution: its plans that failed review, its filings failed or returned, to fix and file again;
- the audit (``audit_todos``): the expert's allocated persons not yet reviewed, the city's pending appeals;
- the site manager (``site_todos``): the period going on now without a submitted 现场反馈.

The view shows an item only when the user's role may open its page (``permission``); the labels are
msgids with ``%(n)s``, translated where shown.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.i18n import _mark
from app.models import Credit, ManualCredit, PracticePlan, Project, SelfStudy
from app.models.audit_review import AuditAppeal
from app.models.distance import DistanceProject, DistanceUpload
from app.models.projects import Declaration
from app.models.supervision import Feedback, Filing, Period, SiteManager
from app.services import audit_review, declarations, grant_review, workflow
from app.services.scope import Scope


@dataclass
class Todo:
    label: str  # msgid with %(n)s
    count: int
    endpoint: str
    args: dict = field(default_factory=dict)
    permission: tuple[str, str] = ("can_list", "")  # (permission, view) the user needs to open it


MANUAL_UNIT = _mark("%(n)s 条手工录入学分待单位审核")
MANUAL_CITY = _mark("%(n)s 条手工录入学分待市级审核")
MANUAL_REJECTED = _mark("%(n)s 条手工录入学分审核不通过，请查看原因并修改后重新提交")
SELF_SUBMITTED = _mark("%(n)s 份自学计划待授分")
SELF_RETURNED_UNIT = _mark("%(n)s 份机构上传的自学计划被退回，请修改后重新提交")
SELF_RETURNED_OWN = _mark("您的自学计划被退回，请查看原因并修改后重新提交")
PLANS_PENDING = _mark("%(n)s 份教学活动计划待审核")
FILINGS_PENDING = _mark("%(n)s 个项目报备待审核")
PROJECTS_FLAGGED = _mark("%(n)s 个项目有异常提示")
APPEALS_PENDING = _mark("%(n)s 条审验复审申请待复审")
AUDIT_PENDING = _mark("%(n)s 名学员待审验")
PLANS_REJECTED = _mark("%(n)s 份教学活动计划未通过审核，请查看原因并修改")
FILINGS_REJECTED = _mark("%(n)s 个项目报备审核不通过，请修改后重新报备")
FILINGS_RETURNED = _mark("%(n)s 个项目报备被退回，请修改后重新报备")
SITE_OPEN = _mark("%(n)s 个进行中的督查时段待提交现场反馈")
DECLARATIONS_DISTRICT = _mark("%(n)s 个继教项目申报待区级审核")
DECLARATIONS_CITY = _mark("%(n)s 个继教项目申报待市级审批")
DECLARATIONS_RETURNED = _mark("%(n)s 个继教项目申报被退回，请修改后重新申报")
DISTANCE_PROJECTS = _mark("%(n)s 个远程教育项目待审核")
DISTANCE_UPLOADS = _mark("%(n)s 批远程教育学习记录待审核授分")
GRANTS_CITY = _mark("%(n)s 条刷卡/扫码学分待市级审核")


# A manual entry's credit has one of these sources: named in the count so that PostgreSQL reads the
# small partial index of entries under review (ix_credit_review_pending) instead of every credit of
# the status and then every manual entry ever made (a hash join over both: 60–300 ms, bench/README.md).
MANUAL_SOURCES = ("manual", "unit")


def _manual_count(scope: Scope, *conditions: Any) -> Select:
    query = (select(func.count(Credit.id)).join(ManualCredit, ManualCredit.credit_id == Credit.id)
             .where(Credit.source.in_(MANUAL_SOURCES), *conditions))
    return scope.filter(query, Credit)


def _self_study_count(scope: Scope, *conditions: Any) -> Select:
    return scope.filter(select(func.count(SelfStudy.id)).where(*conditions), SelfStudy)


def review_todos(session: Session, user: Any, scope: Scope,
                 may: Callable[[str, str], bool] = lambda permission, view: True) -> list[Todo]:
    """The review to-dos of ``user`` with a count above 0. ``may(permission, view)``: whether the user's
    role opens the page an item links to; an item it cannot open is not even counted."""
    actor = workflow.actor_of(user)
    wanted: list[tuple[str, str, dict, tuple[str, str], Select | None]] = []
    if actor == workflow.UNIT:
        wanted.append((MANUAL_UNIT, "CreditReviewView.list", {}, ("can_list", "CreditReviewView"),
                       _manual_count(scope, Credit.status == "submitted")))
    elif actor == workflow.CITY:
        wanted.append((MANUAL_CITY, "CreditReviewView.list", {}, ("can_list", "CreditReviewView"),
                       _manual_count(scope, Credit.status == "unit_approved",
                                     ManualCredit.needs_city.is_(True))))
    if actor in (workflow.UNIT, workflow.DISTRICT):
        wanted.append((SELF_SUBMITTED, "SelfStudyView.list", {"status": "submitted"}, ("can_grant", "SelfStudyView"),
                       _self_study_count(scope, SelfStudy.status == "submitted")))
    if actor == workflow.UNIT:
        wanted.append((SELF_RETURNED_UNIT, "SelfStudyView.list", {"status": "returned"}, ("can_form", "SelfStudyView"),
                       _self_study_count(scope, SelfStudy.status == "returned",
                                         SelfStudy.submitted_by == workflow.UNIT)))
    if actor in (workflow.CITY, workflow.DISTRICT):
        # The supervising bodies decide practice plans and filings, and follow the flagged projects.
        wanted.append((PLANS_PENDING, "PracticePlanReviewView.list", {"_flt_0_status": "pending"},
                       ("can_review", "PracticePlanReviewView"),
                       _scoped_count(scope, PracticePlan, PracticePlan.status == "pending")))
        wanted.append((FILINGS_PENDING, "FilingReviewView.list", {"_flt_0_status": "pending"},
                       ("can_review", "FilingReviewView"),
                       _scoped_count(scope, Filing, Filing.status == "pending")))
        wanted.append((PROJECTS_FLAGGED, "ProjectFlagView.list", {}, ("can_list", "ProjectFlagView"),
                       _scoped_count(scope, Project, Project.flagged.is_(True))))
    if actor == workflow.UNIT:
        # What the supervising body sent back to the institution: its to fix and file again.
        wanted.append((PLANS_REJECTED, "PracticePlanView.list", {"_flt_0_status": "rejected"},
                       ("can_edit", "PracticePlanView"),
                       _scoped_count(scope, PracticePlan, PracticePlan.status == "rejected")))
        for label, status in ((FILINGS_REJECTED, "rejected"), (FILINGS_RETURNED, "returned")):
            wanted.append((label, "FilingView.list", {"_flt_0_status": status}, ("can_submit", "FilingView"),
                           _scoped_count(scope, Filing, Filing.status == status)))
    wanted += _declaration_and_distance_todos(session, scope, actor)
    person_id = getattr(user, "person_id", None)
    if actor == workflow.OWNER and person_id:
        wanted.append((MANUAL_REJECTED, "ManualCreditView.list", {"status": "rejected"},
                       ("can_list", "ManualCreditView"),
                       _manual_count(scope, Credit.status == "rejected",
                                     Credit.person_id == person_id)))
        wanted.append((SELF_RETURNED_OWN, "SelfStudyView.mine", {}, ("can_mine", "SelfStudyView"),
                       _self_study_count(scope, SelfStudy.status == "returned",
                                         SelfStudy.person_id == person_id)))
    chosen = [item for item in wanted if may(*item[3])]
    counts = _counted(session, [item[4] for item in chosen])
    return [Todo(label, n, endpoint, args, permission)
            for (label, endpoint, args, permission, _query), n in zip(chosen, counts) if n]


def _declaration_and_distance_todos(session: Session, scope: Scope, actor: str) -> list:
    """Project declarations (seed 002 二1–二3): the district reviews the submitted ones, the city approves
    what the district passed, the unit corrects what came back; the city also decides distance-education
    filings and study-record uploads and the swipe / QR grants its counting policy holds for review."""
    wanted: list = []
    if actor == workflow.DISTRICT:
        wanted.append((DECLARATIONS_DISTRICT, "DeclarationReviewView.list", {}, ("can_list", "DeclarationReviewView"),
                       _scoped_count(scope, Declaration,
                                     Declaration.status.in_(declarations.WAITING[workflow.DISTRICT]))))
    if actor == workflow.CITY:
        wanted.append((DECLARATIONS_CITY, "DeclarationReviewView.list", {}, ("can_list", "DeclarationReviewView"),
                       _scoped_count(scope, Declaration,
                                     Declaration.status.in_(declarations.WAITING[workflow.CITY]))))
        wanted.append((DISTANCE_PROJECTS, "DistanceProjectView.list", {"status": "pending"},
                       ("can_review", "DistanceProjectView"),
                       _scoped_count(scope, DistanceProject, DistanceProject.status == "pending")))
        wanted.append((DISTANCE_UPLOADS, "DistanceUploadView.list", {"status": "pending"},
                       ("can_review", "DistanceUploadView"),
                       _scoped_count(scope, DistanceUpload, DistanceUpload.status == "pending")))
        wanted.append((GRANTS_CITY, "GrantReviewView.list", {}, ("can_review", "GrantReviewView"),
                       grant_review.pending_query(session, scope)))
    if actor == workflow.UNIT:
        wanted.append((DECLARATIONS_RETURNED, "DeclarationView.list", {"status": "returned"},
                       ("can_add", "DeclarationView"),
                       _scoped_count(scope, Declaration, Declaration.status == "returned")))
    return wanted


def _scoped_count(scope: Scope, model: Any, *conditions: Any) -> Select:
    return scope.filter(select(func.count(model.id)).where(*conditions), model)


def _counted(session: Session, queries: list[Select | None]) -> list[int]:
    """The counts of ``queries`` (None counts 0) from one statement: SELECT (count…), (count…), …"""
    asked = [q for q in queries if q is not None]
    row = iter(session.execute(select(*[q.scalar_subquery() for q in asked])).one()) if asked else iter(())
    return [(next(row) or 0) if q is not None else 0 for q in queries]


def audit_todos(session: Session, auditor: Any, cycle: Any,
                may: Callable[[str, str], bool] = lambda permission, view: True) -> list[Todo]:
    """The audit's to-dos in ``cycle`` (the one the audit pages open by default): the persons allocated
    to an expert not yet marked 已审, and — for the city, who
    decides them — the appeals waiting for 复审. One COUNT each."""
    if cycle is None or auditor is None:
        return []

    out = []
    if auditor.kind == "expert" and may("can_judge", "AuditReviewView"):
        n = audit_review.counts(session, auditor, cycle)["pending"]
        if n:
            out.append(Todo(AUDIT_PENDING, n, "AuditReviewView.persons", {"cycle": cycle.id, "reviewed": "0"},
                            ("can_judge", "AuditReviewView")))
    if auditor.is_city and may("can_decide", "AuditAppealView"):
        n = session.scalar(select(func.count(AuditAppeal.id)).where(
            AuditAppeal.cycle_id == cycle.id, AuditAppeal.status == "pending")) or 0
        if n:
            out.append(Todo(APPEALS_PENDING, n, "AuditAppealView.list", {"cycle": cycle.id, "status": "pending"},
                            ("can_decide", "AuditAppealView")))
    return out


def site_todos(session: Session, user_id: int, now: Any) -> list[Todo]:
    """现场会务负责人: the periods of their venues going on now (``now``) whose 现场反馈 is not submitted
    (only the current period can be filled: after it, it cannot be made up). One COUNT."""
    from sqlalchemy import and_, exists


    submitted = exists().where(Feedback.period_id == Period.id, Feedback.manager_id == SiteManager.id,
                               Feedback.submitted_at.is_not(None))
    n = session.scalar(select(func.count(Period.id)).join(SiteManager, and_(
        SiteManager.filing_id == Period.filing_id, SiteManager.user_id == user_id))
        .where(Period.starts_at <= now, Period.ends_at >= now, ~submitted)) or 0
    return [Todo(SITE_OPEN, n, "SiteMobileView.home", {})] if n else []


__all__ = ["Todo", "audit_todos", "review_todos", "site_todos"]
