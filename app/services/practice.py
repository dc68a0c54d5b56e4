"""Practice-activity plans (教学活动计划, ICME-6), Flask-free: validate, save (submit / resubmit), review.

Seed 003 计划上传: "机构按页面要求填写计划名称、计划类型、活动形式、备注信息、并上传计划文件。点击“提交”到主管部门审核。"
Seed 003 计划审核: "主管部门 … 进行“通过/不通过”的审核操作" — status 待审核 / 已通过 / 不通过 with a 审核日志.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import _mark
from app.models import Org
from app.models.practice import PLAN_TYPES, PracticePlan, PracticePlanLog
from app.services import attachments, workflow
from app.services.errors import ConflictError, DomainError

FILE_MISSING = _mark("请上传计划文件（PDF、PNG、JPG）")
NOT_INSTITUTION = _mark("只有医疗机构可以上传教学活动计划")


class PlanError(DomainError):
    """A refused plan action; the message is Chinese."""


class PlanProblems(PlanError):
    """Every problem of a submitted plan form at once, shown as one message ("…；…")."""

    def __init__(self, problems: list[PlanError]):
        super().__init__("；".join(p.message for p in problems))
        self.problems = problems

    def __str__(self) -> str:
        return "；".join(str(p) for p in self.problems)


class PlanChanged(ConflictError, PlanError):
    """The plan was edited (or decided) after the reviewer opened it: the review is not applied."""


def practice_forms(session: Session) -> list[str]:
    """The nine 活动形式 of seed 003's plan form (dictionary activity_form, extra 实践活动)."""
    from app.services.activities import activity_forms
    from app.services.rule_sets import PRACTICE

    return activity_forms(session, PRACTICE)


def validate(session: Session, name: str, plan_type: str, forms: Iterable[str], remark: str) -> dict[str, Any]:
    """Check the form's values; returns the cleaned values or raises PlanError listing every problem."""
    errors = []
    name, remark = (name or "").strip(), (remark or "").strip()
    forms = [f.strip() for f in forms if f and f.strip()]
    if not name:
        errors.append(PlanError("请填写计划名称"))
    elif len(name) > 128:
        errors.append(PlanError("计划名称不能超过%(n)s个字", n=128))
    if plan_type not in PLAN_TYPES:
        errors.append(PlanError("请选择计划类型（%(types)s）", types="、".join(PLAN_TYPES)))
    allowed = practice_forms(session)
    if not forms:
        errors.append(PlanError("请至少选择一种活动形式"))
    unknown = [f for f in forms if f not in allowed]
    if unknown:
        errors.append(PlanError("活动形式“%(forms)s”不在可选范围内", forms="、".join(unknown)))
    if len(remark) > 512:
        errors.append(PlanError("备注不能超过%(n)s个字", n=512))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise PlanProblems(errors)
    ordered = [f for f in allowed if f in forms]
    return {"name": name, "plan_type": plan_type, "activity_forms": "、".join(ordered), "remark": remark or None}


def save_plan(session: Session, user: Any, values: Mapping[str, Any], storage: Any = None,
              plan: PracticePlan | None = None, *, institution: Org | None = None) -> PracticePlan:
    """计划上传: a new plan of ``institution`` (``plan`` None, a file required) or an edit of ``plan``
    (back to 待审核; the file optional). ``values`` holds name, plan_type, forms and remark as posted;
    ``storage`` the uploaded plan file. Raises PlanError or UploadError before anything is added; stores
    the file and flushes, the caller commits."""
    from app.services.activities import evidence_max_bytes

    clean = validate(session, values.get("name", ""), values.get("plan_type", ""), values.get("forms", ()),
                     values.get("remark", ""))
    upload = None
    if storage is not None and storage.filename:
        upload = attachments.check(storage, max_bytes=evidence_max_bytes(session))
    elif plan is None:
        raise PlanError(FILE_MISSING)
    if plan is None:
        if institution is None:
            raise PlanError(NOT_INSTITUTION)
        plan = PracticePlan(institution_id=institution.id, district_id=institution.district_id, status="pending",
                            created_by_fk=user.id, **clean)
        session.add(plan)
        log(plan, "提交", user)
    else:
        for key, value in clean.items():
            setattr(plan, key, value)
        resubmit(plan, user)
        # A new version: a reviewer who opened the plan before this edit cannot pass it unseen.
        plan.version = PracticePlan.version + 1
    session.flush()
    if upload is not None:
        data, kind = upload
        attachments.store_bytes(data, kind, storage.filename, "practice_plan", plan.id, user_id=user.id)
    return plan


def log(plan: PracticePlan, action: str, operator: Any, reason: str | None = None,
        now: datetime.datetime | None = None) -> PracticePlanLog:
    return workflow.plan_log(plan, action, operator, reason, now)


_name = workflow.operator_name


def resubmit(plan: PracticePlan, operator: Any) -> None:
    """An edit sends the plan back to 待审核; an approved plan stays as approved and cannot be edited."""
    if plan.status == "approved":
        raise PlanError("计划“%(name)s”已通过审核，不能修改", name=plan.name)
    # guarded (workflow.guarded_set): a plan the supervisor passed meanwhile is not sent back; its
    # TransitionConflict says who decided first.
    workflow.apply(plan, "resubmit", operator)
    plan.reviewed_at = None


def review(plan: PracticePlan, passed: bool, reason: str, operator: Any,
           now: datetime.datetime | None = None, *, seen_version: int | None = None) -> None:
    """通过 / 不通过 a pending plan; 不通过 needs a reason. ``seen_version`` is the plan's version the
    reviewer was shown (the review form posts it): if the institution edited the plan since, the review
    is refused (PlanChanged) by a guarded UPDATE, so nobody passes a plan they have not seen."""
    reason = (reason or "").strip()
    if plan.status != "pending":  # already decided: say by whom (workflow.check's message)
        try:
            workflow.check(plan, "pass" if passed else "fail", operator, reason or "-")
        except workflow.WorkflowError as exc:
            raise PlanError("计划“%(name)s”：%(reason)s", name=plan.name, reason=exc) from None
    if not passed and not reason:
        raise PlanError("审核不通过时请填写原因")
    if len(reason) > 512:
        raise PlanError("原因不能超过%(n)s个字", n=512)
    now = now or datetime.datetime.now()
    # the transition table of services/workflow.py, by a guarded UPDATE (one reviewer wins)
    workflow.apply(plan, "pass" if passed else "fail", operator, reason or None, when=now)
    if seen_version is not None:
        _check_version(plan, seen_version)
    plan.reason = reason or None
    plan.reviewed_at = now


def _check_version(plan: PracticePlan, seen: int) -> None:
    """After the guarded status UPDATE of the review (which holds the plan's row lock until the commit):
    the committed version must still be the one the reviewer saw. An edit committed before the lock
    was taken shows here (a fresh statement sees it); an edit arriving after it waits for the review
    and then finds the plan decided (TransitionConflict of workflow.apply)."""
    session = Session.object_session(plan)
    if workflow.current_value(session, plan, "version") == seen:
        return
    with session.no_autoflush:  # the edit's log row, not the review's own (not flushed yet)
        edit = session.scalars(select(PracticePlanLog).where(
            PracticePlanLog.plan_id == plan.id, PracticePlanLog.action.in_(("提交", "重新提交")),
            PracticePlanLog.id.is_not(None)).order_by(PracticePlanLog.id.desc()).limit(1)).first()
    who, when = (edit.operator, edit.at) if edit is not None else (None, None)
    raise PlanChanged("计划“%(name)s”在您打开后已被%(who)s修改（%(when)s），您的审核未生效，"
                      "请查看修改后的内容再审核", name=plan.name, who=who or "-",
                      when=f"{when:%Y-%m-%d %H:%M:%S}" if when else "-")
