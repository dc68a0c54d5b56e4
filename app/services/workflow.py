"""Workflow states and transitions (ICME-7/8): ONE transition table per kind of record, one function
that applies a transition and writes the review log (models/review.py ReviewLog). No view sets a
status by hand.

Credits (seed 002 附件一 手工录入学分注意事项): the technician saves (草稿), checks and edits, then
"授分" submits; the unit passes or fails with a reason; the city passes or fails manual entries after
the unit. A failed credit goes back to the technician, who sees the reason in the 审核日志, edits and
submits again. Credits entered by a unit for its staff start at ``unit_approved``.

    from app.services import workflow
    credit = Credit(...); db.session.add(credit)
    workflow.created(credit, user, "enter")      # unit entry / wizard 保存并提交 → unit_approved
    workflow.created(credit, user, "save")       # 保存 → draft
    workflow.apply(credit, "submit", user)       # draft / rejected → submitted
    workflow.apply(credit, "unit_fail", user, reason="证书编号与电子证书不一致")
    db.session.commit()                           # the caller commits

The actor of a transition comes from the user's widest role (roles.ROLE_SCOPE): the technician is the
``owner`` (only of their own rows), institution and department users are the ``unit``, the district
commission ``district``, the city office ``city``. Each actor may act only inside its own
institution / department / district: a guessed id of another unit is refused here too, whatever the
view checked. Errors are WorkflowError with a Chinese message; nothing is changed then.

Concurrency: ``apply`` changes the status by ONE guarded statement, ``UPDATE … SET status = :target
WHERE id = :id AND status = :expected`` (``guarded_set``, compare-and-swap). Two reviewers deciding
the same record at once: on PostgreSQL the second UPDATE waits for the first one's commit, then
matches no row; the second is refused with TransitionConflict, whose message names what the first
decided, who and when (from the log). The caller rolls back: no second log row, no second credit.
Other status changes of the product (filings, rule sets, the audit allocation lock) use
``guarded_set`` too; tests/concurrency races every one of them on PostgreSQL.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models.audit_review import APPEAL_STATUSES
from app.models.credits import CREDIT_STATUSES
from app.models.practice import PLAN_STATUSES, PracticePlanLog
from app.models.review import ManualCredit, ReviewLog
from app.models.users import CmeUser
from app.services.errors import N_, DomainError
from app.services.roles import ROLE_SCOPE

OWNER, UNIT, DISTRICT, CITY = "owner", "unit", "district", "city"
ACTOR_LABELS = {OWNER: "学员", UNIT: "单位", DISTRICT: "区级", CITY: "市级"}
_SCOPE_ACTOR = {"all": CITY, "district": DISTRICT, "institution": UNIT, "department": UNIT, "person": OWNER}
_ORDER = [CITY, DISTRICT, UNIT, OWNER]


class WorkflowError(DomainError):
    """A transition that is not allowed (state, role or scope); message in Chinese."""


class TransitionConflict(WorkflowError):
    """Someone else moved the record first: the guarded UPDATE found another status. The message
    says what they decided (status, who, when); the caller rolls back."""

    status = 409


def guarded_set(session: Session, obj: Any, expected: Any, target: Any, *, column: str = "status",
                describe: Callable[[], str] | None = None, **also: Any) -> None:
    """The one guarded status change: ``UPDATE … SET column = target WHERE id = :id AND column =
    :expected`` (compare-and-swap). On PostgreSQL a concurrent writer of the same row waits for the
    first one's commit, then finds the new value and changes nothing. A rowcount other than 1 raises
    TransitionConflict with ``describe()`` (what the other side decided). The ORM attribute is set
    too, so session hooks (the credit compliance hook) see the change; ``also`` are further
    columns written by the same statement."""
    table = obj.__table__
    col = table.c[column]
    condition = col.is_(None) if expected is None else col == expected
    done = session.execute(table.update().where(table.c.id == obj.id, condition)
                           .values({column: target, **also}))
    if done.rowcount != 1:
        if describe is None:
            raise TransitionConflict("该记录已被他人处理，请刷新页面后查看")
        raise TransitionConflict("%(decided)s", decided=describe())
    setattr(obj, column, target)
    for name, value in also.items():
        setattr(obj, name, value)


def current_value(session: Session, obj: Any, column: str = "status") -> Any:
    """The committed value of ``column`` now (a fresh statement: under READ COMMITTED it sees the
    other side's commit even inside this transaction)."""
    table = obj.__table__
    return session.execute(select(table.c[column]).where(table.c.id == obj.id)).scalar()


def decided_by(who: str | None, when: datetime.datetime | None, what: str | None) -> str:
    """"（张三 于 2026-03-01 10:00 单位审核通过）" — empty when nothing is known."""
    parts = [p for p in ((who or "").strip(), f"于 {when:%Y-%m-%d %H:%M:%S}" if when else "", what or "") if p]
    return f"（{' '.join(parts)}）" if parts else ""


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple  # states it leaves; None = the record is being created
    target: str
    actors: frozenset
    label: str  # the 结果 written to the review log
    reason_required: bool = False
    guard: str | None = None  # name of an extra condition in GUARDS


@dataclass
class Machine:
    owner_type: str
    states: dict[str, str]
    transitions: list[Transition]
    editable: tuple[str, ...] = ()  # states in which the owner side may still edit the record
    # A machine whose records keep their own log (practice plans): writer(session, obj, t, before,
    # user, reason, when) instead of a ReviewLog row, last(session, obj) → (who, when, what).
    writer: Callable[..., Any] | None = None
    last: Callable[[Session, Any], tuple] | None = None
    by_action: dict[str, Transition] = field(init=False)

    def __post_init__(self) -> None:
        self.by_action = {t.action: t for t in self.transitions}


def _T(action, sources, target, actors, label, reason=False, guard=None) -> Transition:
    return Transition(action, tuple(sources), target, frozenset(actors), label, reason, guard)


# ------------------------------------------------------------------------ the transition tables
CREDIT = Machine("credit", CREDIT_STATUSES, [
    _T("save", [None], "draft", [OWNER, UNIT, DISTRICT, CITY], "保存"),
    # A unit's own entry (wizard 保存并提交, unit entry for its staff, self-study grant) is approved
    # by the unit at once; a unit may also submit a draft it saved itself.
    _T("enter", [None, "draft"], "unit_approved", [UNIT, DISTRICT, CITY], "单位录入"),
    # 补录往年学分: only the unit, after the year closed, with the unit's certificate (seed 002 附件一 4).
    _T("late_enter", [None], "unit_approved", [UNIT], "单位补录"),
    _T("submit", ["draft", "rejected"], "submitted", [OWNER], "提交审核（授分）"),
    _T("unit_pass", ["submitted"], "unit_approved", [UNIT], "单位审核通过"),
    _T("unit_fail", ["submitted"], "rejected", [UNIT], "单位审核不通过", reason=True),
    _T("city_pass", ["unit_approved"], "city_approved", [CITY], "市级审核通过", guard="needs_city"),
    _T("city_fail", ["unit_approved"], "rejected", [CITY], "市级审核不通过", reason=True, guard="needs_city"),
], editable=("draft", "rejected"))

SELF_STUDY_STATUSES = {"draft": "未提交", "submitted": "待授分", "granted": "已授分", "returned": "已退回"}
SELF_STUDY = Machine("self_study", SELF_STUDY_STATUSES, [
    _T("save", [None], "draft", [OWNER, UNIT], "保存"),
    _T("submit", [None, "draft", "returned"], "submitted", [OWNER, UNIT], "提交"),
    _T("grant", ["submitted"], "granted", [UNIT, DISTRICT, CITY], "授分"),
    _T("return", ["submitted"], "returned", [UNIT, DISTRICT, CITY], "退回", reason=True),
], editable=("draft", "returned"))


def _plan_log(session: Session, plan: Any, t: Transition, before: str | None, user: Any, reason: str | None,
              when: datetime.datetime | None) -> Any:
    """Practice plans keep their own 审核日志 (practice_plan_log, shown on the plan's page)."""
    return plan_log(plan, t.label, user, (reason or "").strip() or None, when)


def plan_log(plan: Any, action: str, operator: Any, reason: str | None = None,
             now: datetime.datetime | None = None) -> Any:
    """One line of a practice plan's 审核日志: what was done, by whom (name and unit), when."""
    org = getattr(operator, "org", None)
    entry = PracticePlanLog(action=action, reason=reason, at=now or datetime.datetime.now(),
                            operator=operator_name(operator), operator_org=org.name if org is not None else None)
    plan.logs.append(entry)
    return entry


def operator_name(user: Any) -> str | None:
    """"张三（zhangsan）" of a user (the user name alone when it has no other name)."""
    if user is None:
        return None
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return f"{full}（{user.username}）" if full and full != user.username else user.username


def _plan_last(session: Session, plan: Any) -> tuple:
    row = session.scalars(select(PracticePlanLog).where(PracticePlanLog.plan_id == plan.id)
                          .order_by(PracticePlanLog.id.desc()).limit(1)).first()
    return (row.operator, row.at, row.action) if row is not None else (None, None, None)


# Seed 003 计划上传 / 计划审核: the institution submits (提交), edits send it back to 待审核 (重新提交);
# the supervising district or city passes (通过) or fails (不通过, with a reason) a pending plan.
PRACTICE_PLAN = Machine("practice_plan", PLAN_STATUSES, [
    _T("submit", [None], "pending", [UNIT], "提交"),
    _T("resubmit", ["pending", "rejected"], "pending", [UNIT], "重新提交"),
    _T("pass", ["pending"], "approved", [DISTRICT, CITY], "通过"),
    _T("fail", ["pending"], "rejected", [DISTRICT, CITY], "不通过", reason=True),
], editable=("pending", "rejected"), writer=_plan_log, last=_plan_last)

# 复审 (seed 001): the city office (市继教办) accepts or rejects a pending appeal.
APPEAL = Machine("audit_appeal", APPEAL_STATUSES, [
    _T("accept", ["pending"], "accepted", [CITY], "复审通过"),
    _T("reject", ["pending"], "rejected", [CITY], "复审不通过", reason=True),
])

MACHINES = {m.owner_type: m for m in (CREDIT, SELF_STUDY, PRACTICE_PLAN, APPEAL)}


def _needs_city(session: Session, obj: Any) -> bool:
    from app.services.counting import waits_for_city  # swipe / QR grants under Xuzhou's policy (issue 16.6)

    return bool(obj.id) and (bool(session.scalar(select(ManualCredit.needs_city).where(
        ManualCredit.credit_id == obj.id))) or waits_for_city(session, obj))


GUARDS: dict[str, tuple[Callable[[Session, Any], bool], str]] = {
    "needs_city": (_needs_city, N_("该学分不是需要市级审核的手工录入学分")),
}


# ------------------------------------------------------------------------------------ helpers
def machine_for(obj: Any) -> Machine:
    name = getattr(obj, "__tablename__", None)
    if name not in MACHINES:
        raise WorkflowError("没有“%(name)s”的审核流程", name=name)
    return MACHINES[name]


def status_label(obj_or_type: Any, status: str | None) -> str:
    machine = MACHINES[obj_or_type] if isinstance(obj_or_type, str) else machine_for(obj_or_type)
    return machine.states.get(status, status or "")


def actor_of(user: Any) -> str | None:
    """The widest actor the user's roles give (city > district > unit > owner); None for none."""
    actors = {_SCOPE_ACTOR.get(ROLE_SCOPE.get(r.name)) for r in getattr(user, "roles", []) or []}
    return next((a for a in _ORDER if a in actors), None)


def _user_anchor(user: Any, level: str) -> int | None:
    org = getattr(user, "org", None)
    return getattr(org, f"{level}_id", None) if org is not None else None


def within(user: Any, obj: Any, actor: str | None = None) -> bool:
    """Is ``obj`` inside the part of the city the user acts for?"""
    actor = actor or actor_of(user)
    if actor == CITY:
        return True
    if actor == OWNER:
        pid = getattr(user, "person_id", None)
        return pid is not None and getattr(obj, "person_id", None) == pid
    if actor == DISTRICT:
        anchor = _user_anchor(user, "district")
        return anchor is not None and getattr(obj, "district_id", None) == anchor
    if actor == UNIT:
        roles = {ROLE_SCOPE.get(r.name) for r in getattr(user, "roles", []) or []}
        level = "institution" if "institution" in roles else "department"
        anchor = _user_anchor(user, level)
        return anchor is not None and getattr(obj, f"{level}_id", None) == anchor
    return False


def _session(session: Session | None) -> Session:
    if session is not None:
        return session
    return db.session


def check(obj: Any, action: str, user: Any, reason: str | None = None, *, creating: bool = False,
          session: Session | None = None) -> Transition:
    """The transition ``action`` would take, or WorkflowError saying in Chinese why not."""
    session = _session(session)
    machine = machine_for(obj)
    t = machine.by_action.get(action)
    if t is None:
        raise WorkflowError("未知的操作：%(action)s", action=action)
    current = None if creating else obj.status
    if current not in t.sources:
        if current is None:
            raise WorkflowError("不能以“%(action)s”方式新建", action=t.label)
        who = last_entry(session, obj)[0]
        if who and who != _user_name(user):
            raise TransitionConflict("操作未执行：该记录已由他人先处理，%(state)s，不能执行“%(action)s”",
                                     state=state_text(session, obj), action=t.label)
        raise TransitionConflict("%(state)s，不能执行“%(action)s”", state=state_text(session, obj), action=t.label)
    actor = actor_of(user)
    if actor not in t.actors:
        raise WorkflowError("无权执行“%(action)s”", action=t.label)
    if not within(user, obj, actor):
        raise WorkflowError("无权对其他单位或人员的数据执行“%(action)s”", action=t.label)
    if t.reason_required and not (reason or "").strip():
        if "不通过" in t.label:
            raise WorkflowError("请填写不通过原因")
        raise WorkflowError("请填写%(action)s原因", action=t.label)
    if t.guard:
        test, message = GUARDS[t.guard]
        if not test(session, obj):
            raise WorkflowError(message)
    return t


def allowed(obj: Any, user: Any, session: Session | None = None) -> list[str]:
    """The actions ``user`` may take on ``obj`` now (buttons to show)."""
    out = []
    for t in machine_for(obj).transitions:
        if None in t.sources and obj.status not in t.sources:
            continue
        try:
            check(obj, t.action, user, reason="-", session=session)
        except WorkflowError:
            continue
        out.append(t.action)
    return out


def editable(obj: Any, user: Any) -> bool:
    """May ``user`` still edit ``obj`` (the owner side, in the machine's editable states)?"""
    machine = machine_for(obj)
    return obj.status in machine.editable and within(user, obj)


def _user_name(user: Any) -> str | None:
    """The name a log row shows for ``user`` (full name, else the login name)."""
    if user is None:
        return None
    return (getattr(user, "get_full_name", lambda: "")() or "").strip() or getattr(user, "username", None)


def last_entry(session: Session, obj: Any) -> tuple:
    """(who, when, what) of the record's latest log row, or (None, None, None)."""
    machine = machine_for(obj)
    if machine.last is not None:
        return machine.last(session, obj)
    row = session.scalars(select(ReviewLog).where(
        ReviewLog.owner_type == machine.owner_type, ReviewLog.owner_id == obj.id)
        .order_by(ReviewLog.created_at.desc(), ReviewLog.id.desc()).limit(1)).first()
    return (row.user_name, row.created_at, row.result) if row is not None else (None, None, None)


def state_text(session: Session, obj: Any, status: str | None = None) -> str:
    """"当前状态为“单位审核通过”（张三 于 … 单位审核通过）" from the committed row and its log."""
    machine = machine_for(obj)
    status = status if status is not None else obj.status
    return f"当前状态为“{machine.states.get(status, status)}”{decided_by(*last_entry(session, obj))}"


def _log(session: Session, obj: Any, t: Transition, before: str | None, user: Any, reason: str | None,
         when: datetime.datetime | None) -> Any:
    machine = machine_for(obj)
    if machine.writer is not None:
        return machine.writer(session, obj, t, before, user, reason, when)
    name = _user_name(user)
    entry = ReviewLog(owner_type=machine_for(obj).owner_type, owner_id=obj.id, action=t.action,
                      from_status=before, to_status=t.target, result=t.label,
                      reason=(reason or "").strip() or None, user_id=getattr(user, "id", None),
                      user_name=name, actor=actor_of(user), person_id=getattr(obj, "person_id", None),
                      district_id=getattr(obj, "district_id", None),
                      institution_id=getattr(obj, "institution_id", None),
                      department_id=getattr(obj, "department_id", None),
                      created_at=when or datetime.datetime.now())
    session.add(entry)
    return entry


def created(obj: Any, user: Any, action: str = "enter", *, reason: str | None = None,
            session: Session | None = None, when: datetime.datetime | None = None) -> ReviewLog:
    """A new record enters its workflow through ``action`` (save / enter / late_enter / submit…):
    sets its first status, flushes it for an id and writes the log row. The caller commits."""
    session = _session(session)
    t = check(obj, action, user, reason, creating=True, session=session)
    obj.status = t.target
    if obj not in session:
        session.add(obj)
    session.flush()
    return _log(session, obj, t, None, user, reason, when)


def apply(obj: Any, action: str, user: Any, reason: str | None = None, *, session: Session | None = None,
          when: datetime.datetime | None = None) -> ReviewLog:
    """Apply ``action`` to ``obj``: checks the table, the actor, its scope and the reason, sets the
    status and writes the review log. The caller commits (the compliance hook of
    services/credit_records.py then recomputes the person's results for a credit)."""
    session = _session(session)
    t = check(obj, action, user, reason, session=session)
    before = obj.status
    guarded_set(session, obj, before, t.target, describe=lambda: _lost(session, obj, t))
    return _log(session, obj, t, before, user, reason, when)


def _lost(session: Session, obj: Any, t: Transition) -> str:
    """The loser's message: someone else decided first, and what they decided."""
    return (f"操作未执行：该记录已由他人先处理，{state_text(session, obj, current_value(session, obj))}。"
            f"您的“{t.label}”未生效，请刷新页面查看")


def log_creation(session: Session | None, credits: Iterable[Any], user_id: int | None = None,
                 action: str = "enter") -> list[ReviewLog]:
    """Creation entries for credits a bulk service made itself (the wizard's 保存并提交 builds many
    credits at ``unit_approved`` in one transaction): one log row each, no per-row query."""
    session = _session(session)
    credits = [c for c in credits]
    if any(c.id is None for c in credits):
        session.flush()
    user = None
    if user_id is not None:

        user = session.get(CmeUser, user_id)
    t = CREDIT.by_action[action]
    now = datetime.datetime.now()
    return [_log(session, c, t, None, user, None, now) for c in credits]


def apply_many(objs: Iterable[Any], action: str, user: Any, reason: str | None = None, *,
               session: Session | None = None) -> list[ReviewLog]:
    """All or nothing: every record is checked before any is changed."""
    session = _session(session)
    objs = list(objs)
    for obj in objs:
        check(obj, action, user, reason, session=session)
    return [apply(obj, action, user, reason, session=session) for obj in objs]


def logs(owner_type: str, owner_id: int, session: Session | None = None) -> list[ReviewLog]:
    """The review log of one record, oldest first."""
    return list(_session(session).scalars(select(ReviewLog).where(
        ReviewLog.owner_type == owner_type, ReviewLog.owner_id == owner_id).order_by(ReviewLog.created_at,
                                                                                      ReviewLog.id)))


def last_reasons(owner_type: str, owner_ids: list[int], session: Session | None = None) -> dict[int, ReviewLog]:
    """The latest log row with a reason of each record, in one query (lists show why it failed)."""
    out: dict[int, ReviewLog] = {}
    if not owner_ids:
        return out
    for row in _session(session).scalars(select(ReviewLog).where(
            ReviewLog.owner_type == owner_type, ReviewLog.owner_id.in_(owner_ids),
            ReviewLog.reason.is_not(None)).order_by(ReviewLog.created_at, ReviewLog.id)):
        out[row.owner_id] = row
    return out


__all__ = [
    "APPEAL",
    "CREDIT",
    "MACHINES",
    "PRACTICE_PLAN",
    "SELF_STUDY",
    "SELF_STUDY_STATUSES",
    "Machine",
    "Transition",
    "TransitionConflict",
    "WorkflowError",
    "actor_of",
    "allowed",
    "apply",
    "apply_many",
    "check",
    "created",
    "current_value",
    "decided_by",
    "editable",
    "guarded_set",
    "last_entry",
    "last_reasons",
    "log_creation",
    "logs",
    "machine_for",
    "state_text",
    "status_label",
    "within",
]
