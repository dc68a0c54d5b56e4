"""The city's review of granted credits that a rule set's counting policy holds back (issue 16.6).

Seed 002 三 3: "刷卡记录需在项目结束一周内上传 ICME 系统，经市级审核通过后授予学分" — under Xuzhou's policy a
card-swipe or QR grant is written at 单位审核通过 (the organizer uploaded it) and counts only once the
city passes it (counting.needs_city_review); the transcript says "待市级审核，暂不计入" meanwhile. The
city passes or fails a selection here, all or nothing, through workflow (city_pass / city_fail: guarded
UPDATE and review log); a failed credit carries its reason in the review log.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import CompliancePolicy, Credit, Person
from app.services import counting, workflow
from app.services.errors import DomainError
from app.services.scope import Scope


class GrantReviewError(DomainError):
    """A refused review of held-back grants."""


def policies(session: Session) -> dict[int, dict]:
    """rule set id → policy params of every rule set (a handful of rows)."""
    return {rs_id: params or {} for rs_id, params in session.execute(
        select(CompliancePolicy.rule_set_id, CompliancePolicy.params)).tuples()}


def pending_select(session: Session, scope: Scope, q: str = "", source: str = ""):
    query = (select(Credit).join(Person, Person.id == Credit.person_id)
             .where(counting.pending_city_sql(policies(session))))
    query = scope.filter(query, Credit)
    if q:
        like = q.strip() + "%"
        query = query.where(or_(Person.name.like(like), Person.card_no.like(like), Credit.project_no.like(like)))
    if source in counting.GRANT_SOURCES:
        query = query.where(Credit.source == source)
    return query


def pending_page(session: Session, scope: Scope, q: str, source: str, page: int, size: int = 20):
    query = pending_select(session, scope, q, source)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(session.scalars(query.options(selectinload(Credit.person))
                                .order_by(Credit.uploaded_at, Credit.id).offset(max(page, 0) * size).limit(size)))
    return rows, total


def review(session: Session, user: Any, scope: Scope, credit_ids: list[int], passed: bool,
           reason: str | None = None) -> int:
    """Pass or fail the selected held-back grants (city only): all or nothing."""
    ids = sorted({int(i) for i in credit_ids})
    if not ids:
        raise GrantReviewError("请选择要审核的学分")
    if not scope.is_all or workflow.actor_of(user) != workflow.CITY:
        raise GrantReviewError("只有市继教办可以审核刷卡、扫码学分")
    if not passed and not (reason or "").strip():
        raise GrantReviewError("请填写不通过原因")
    found = list(session.scalars(pending_select(session, scope).where(Credit.id.in_(ids))))
    if len(found) != len(ids):
        raise GrantReviewError("所选学分中有不在待审核范围内的记录（可能已由他人审核），未做任何修改，请刷新页面查看")
    try:
        workflow.apply_many(found, "city_pass" if passed else "city_fail", user, None if passed else reason,
                            session=session)
    except workflow.WorkflowError as exc:
        raise GrantReviewError(str(exc)) from None
    return len(found)


def pending_query(session: Session, scope: Scope):
    """The count of grants waiting for the city's review (the home page's to-do), or None when no rule
    set's policy holds grants back (Beijing): then nothing needs counting."""
    held = policies(session)
    if not any(counting.needs_city_review(p, s) for p in held.values() for s in counting.by_source(p)
               if s in counting.GRANT_SOURCES):
        return None
    return scope.filter(select(func.count(Credit.id)).where(counting.pending_city_sql(held)), Credit)
