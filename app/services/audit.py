"""Audit helpers shared by the audit areas (Flask-free; pass a SQLAlchemy session).

* ``credit_window(cycle)`` — the dates compliance counts in a cycle (AUD-1: "Compliance in a cycle
  counts only credits inside its window"; seed 001 三、"2021 年 11 月 1 日至 2022 年 10 月 31 日期间卫生技术
  人员获取的继续医学教育学分").
* ``allocated_person_ids`` / ``allocated_persons_criterion`` / ``expert_may_see_person`` — an expert's data
  scope: the persons allocated to them (专家分配), nothing else.
"""
from __future__ import annotations

import datetime
from typing import Any, Optional

from sqlalchemy import select

from app.models.audit import AuditAllocation, AuditCycle, AuditExpert


def credit_window(cycle: AuditCycle) -> tuple[datetime.date, datetime.date]:
    """(first day, last day) — both inclusive — of the credits a cycle audits."""
    return cycle.window_start, cycle.window_end


def credit_in_window_criterion(cycle: AuditCycle, date_column: Any):
    """SQL criterion: ``date_column`` (a Date/DateTime credit date) inside the cycle's window.

    The end is compared as "< the day after" so DateTime columns include the whole last day.
    """
    start, end = credit_window(cycle)
    return (date_column >= start) & (date_column < end + datetime.timedelta(days=1))


def _expert_ids_select(user_id: int, cycle_id: Optional[int] = None):
    q = select(AuditExpert.id).where(AuditExpert.user_id == user_id, AuditExpert.status == "active")
    if cycle_id is not None:
        q = q.where(AuditExpert.year == select(AuditCycle.year).where(AuditCycle.id == cycle_id)
                    .scalar_subquery())
    return q


def allocated_persons_select(user_id: int, cycle_id: Optional[int] = None):
    """SELECT person_id of the persons allocated to the expert account ``user_id``.

    ``cycle_id`` narrows to one cycle; without it every cycle counts (an expert only sees rows of
    their own active expert records). A disabled (注销) expert sees nobody.
    """
    q = select(AuditAllocation.person_id).where(AuditAllocation.expert_id.in_(_expert_ids_select(user_id, cycle_id)))
    if cycle_id is not None:
        q = q.where(AuditAllocation.cycle_id == cycle_id)
    return q


def allocated_person_ids(session, expert_user: Any, cycle_id: Optional[int] = None) -> set[int]:
    """Ids of the persons allocated to ``expert_user`` (a CmeUser or its id)."""
    user_id = getattr(expert_user, "id", expert_user)
    if user_id is None:
        return set()
    return set(session.execute(allocated_persons_select(user_id, cycle_id)).scalars())


def allocated_persons_criterion(expert_user: Any, person_id_column: Any, cycle_id: Optional[int] = None):
    """SQL criterion for a query: ``person_id_column`` is a person allocated to this expert."""
    user_id = getattr(expert_user, "id", expert_user)
    return person_id_column.in_(allocated_persons_select(user_id, cycle_id))


def expert_may_see_person(session, expert_user: Any, person_id: int, cycle_id: Optional[int] = None) -> bool:
    user_id = getattr(expert_user, "id", expert_user)
    q = allocated_persons_select(user_id, cycle_id).where(AuditAllocation.person_id == person_id).limit(1)
    return session.execute(q).first() is not None
