"""继教项目申报 and its approval (seed 002 二 1–3, seed 003 添加继教项目), Flask-free.

Seed 002 二 1: "各项目申报单位需在规定时间内完成项目申报，经市级审核、批准、取得项目编号后方可举办，未经审批举办的
项目不予授分。" — a unit declares (申报) a project; the district reviews it first (初审: 通过 / 退回 with a
reason / 不予批准); the city approves a 市级 project (审批), the district approves a 区级 project itself.
Approval gives the project its number (年度-级别-序号 (京), unique: the year/level counter row is
incremented under its row lock) and puts it in the catalogue (申报项目目录), where the unit 添加此项目
(seed 003) and holds it. Unapproved declarations never reach the catalogue, so they cannot be granted.
Seed 002 二 3: "…并及时在申报系统提交项目执行反馈" — after the project's last day the unit files its
执行反馈 (actual dates, attendance, what happened).

Every state change is a transition of the DECLARATION table below, applied by services/workflow.apply
(guarded compare-and-swap UPDATE and a review-log row); the caller commits.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Org, Parameter
from app.models.projects import (
    DECLARATION_LEVELS,
    DECLARATION_STATUSES,
    Declaration,
    DeclarationNumber,
    ProjectCatalog,
)
from app.services import upsert, workflow
from app.services.errors import N_, DomainError
from app.services.workflow import _T, CITY, DISTRICT, UNIT, Machine

REGION_SHORT = {"北京市": "京", "徐州市": "徐"}


class DeclarationError(DomainError):
    """A refused declaration action: a Chinese message id with named parameters."""


def _level_is(level: str):
    def test(session: Session, obj: Any) -> bool:
        return DECLARATION_LEVELS.get(obj.category) == level
    return test


def _ended(session: Session, obj: Any) -> bool:
    return obj.ends_on is not None and obj.ends_on < datetime.date.today()


# Who decides what (seed 002 二 1 "经市级审核、批准"): the district reviews every declaration of its units
# first; a 市级 project then goes to the city, which approves or refuses it; a 区级 project is approved by
# its district. 退回 sends it back to the unit to correct and submit again; 不予批准 ends it.
DECLARATION = Machine("cme_declaration", DECLARATION_STATUSES, [
    _T("save", [None], "draft", [UNIT], N_("保存")),
    _T("submit", [None, "draft", "returned"], "submitted", [UNIT], N_("提交申报")),
    _T("district_pass", ["submitted"], "district_passed", [DISTRICT], N_("区级审核通过，报市级审批"), guard="city_level"),
    _T("district_approve", ["submitted"], "approved", [DISTRICT], N_("区级批准"), guard="district_level"),
    _T("district_return", ["submitted"], "returned", [DISTRICT], N_("区级退回"), reason=True),
    _T("district_reject", ["submitted"], "rejected", [DISTRICT], N_("区级不予批准"), reason=True),
    _T("city_approve", ["district_passed"], "approved", [CITY], N_("市级批准"), guard="city_level"),
    _T("city_return", ["district_passed"], "returned", [CITY], N_("市级退回"), reason=True),
    _T("city_reject", ["district_passed"], "rejected", [CITY], N_("市级不予批准"), reason=True),
    _T("feedback", ["approved"], "fed_back", [UNIT], N_("提交执行反馈"), guard="ended"),
], editable=("draft", "returned"))
workflow.MACHINES[DECLARATION.owner_type] = DECLARATION
workflow.GUARDS.setdefault("city_level", (_level_is("SJ"), N_("只有市级项目报市级审批")))
workflow.GUARDS.setdefault("district_level", (_level_is("QJ"), N_("市级项目须报市级审批，区级不能直接批准")))
workflow.GUARDS.setdefault("ended", (_ended, N_("项目结束后才能提交执行反馈")))

APPROVE = ("district_approve", "city_approve")
# What waits for whom: the district reviews the submitted, the city approves what the district passed.
WAITING = {DISTRICT: ("submitted",), CITY: ("district_passed",)}
REVIEW_ACTIONS = {"pass": ("district_pass", "district_approve", "city_approve"),
                  "return": ("district_return", "city_return"), "reject": ("district_reject", "city_reject")}
FIELDS = ("year", "name", "category", "subject", "credits", "hours", "planned_count", "starts_on", "ends_on",
          "place", "leader", "phone", "assessment", "activity_form", "description")
REQUIRED = {"year": "年度", "name": "项目名称", "category": "项目级别", "credits": "拟授学分", "hours": "总学时",
            "planned_count": "计划人数", "starts_on": "举办开始日期", "ends_on": "举办结束日期", "leader": "项目负责人"}
LIMITS = {"name": 200, "subject": 64, "place": 200, "leader": 64, "phone": 32, "assessment": 64, "activity_form": 64}


def declaration_window(session: Session) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """二 1 "需在规定时间内完成项目申报": the parameter declaration_window, 月-日~月-日 (e.g. 09-01~11-30);
    None when unset (全年), also when it cannot be read."""
    value = (session.scalar(select(Parameter.value).where(Parameter.key == "declaration_window")) or "").strip()
    parts = value.replace("～", "~").replace("至", "~").split("~")
    try:
        start, end = (tuple(int(x) for x in p.strip().split("-")) for p in parts)
        datetime.date(2000, *start), datetime.date(2000, *end)  # a real month and day
    except (ValueError, TypeError):
        return None
    return start, end


def check_window(session: Session, today: datetime.date) -> None:
    window = declaration_window(session)
    if window is None:
        return
    (m1, d1), (m2, d2) = window
    inside = (m1, d1) <= (today.month, today.day) <= (m2, d2) if (m1, d1) <= (m2, d2) else \
        not ((m2, d2) < (today.month, today.day) < (m1, d1))  # a window across the new year
    if not inside:
        raise DeclarationError("不在规定的项目申报时间内（%(start)s至%(end)s），不能提交申报",
                               start=f"{m1:02d}-{d1:02d}", end=f"{m2:02d}-{d2:02d}")


def institution_of(user: Any, session: Session) -> Org | None:
    org = getattr(user, "org", None)
    if org is None or not org.institution_id:
        return None
    return session.get(Org, org.institution_id)


def _date(text: str, label: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise DeclarationError("%(label)s格式不正确，应如 2026-05-20", label=label) from None


def _positive(text: str, label: str, integer: bool = False) -> Any:
    try:
        value = int(text) if integer else Decimal(text)
    except (ValueError, InvalidOperation):
        value = None
    if isinstance(value, Decimal) and not value.is_finite():
        value = None
    if integer:
        if value is None or value <= 0:
            raise DeclarationError("%(label)s必须是正整数", label=label)
        return value
    if value is None or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise DeclarationError("%(label)s必须是大于0且最多两位小数的数字", label=label)
    return value


def fill(declaration: Declaration, form: Mapping[str, str]) -> None:
    """The declaration's fields from a form, each checked (the first problem refuses, named)."""
    values = {k: (form.get(k) or "").strip() for k in FIELDS}
    for key, label in REQUIRED.items():
        if not values[key]:
            raise DeclarationError("请填写%(label)s", label=label)
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            raise DeclarationError("%(label)s不能超过%(n)s个字符", label=REQUIRED.get(key, key), n=limit)
    if values["category"] not in DECLARATION_LEVELS:
        raise DeclarationError("项目级别应为%(levels)s", levels="、".join(DECLARATION_LEVELS))
    if not values["year"].isdigit() or len(values["year"]) != 4:
        raise DeclarationError("年度必须是四位年份，如2026")
    starts, ends = _date(values["starts_on"], "举办开始日期"), _date(values["ends_on"], "举办结束日期")
    if starts > ends:
        raise DeclarationError("举办开始日期不能晚于结束日期")
    if starts.year != int(values["year"]):
        raise DeclarationError("举办开始日期须在申报年度%(year)s年内", year=values["year"])
    declaration.year = int(values["year"])
    declaration.name, declaration.category = values["name"], values["category"]
    declaration.credits = _positive(values["credits"], "拟授学分")
    declaration.hours = _positive(values["hours"], "总学时")
    declaration.planned_count = _positive(values["planned_count"], "计划人数", integer=True)
    declaration.starts_on, declaration.ends_on = starts, ends
    for key in ("subject", "place", "leader", "phone", "assessment", "activity_form", "description"):
        setattr(declaration, key, values[key] or None)


def create(session: Session, user: Any, form: Mapping[str, str], submit: bool) -> Declaration:
    """A unit's new declaration: saved as 未提交, or submitted at once (提交申报)."""
    inst = institution_of(user, session)
    if inst is None or inst.kind != "institution":
        raise DeclarationError("只有医疗机构账号可以申报继教项目")
    declaration = Declaration(institution_id=inst.id, district_id=inst.district_id,
                              created_by=getattr(user, "username", None))
    fill(declaration, form)
    if submit:
        check_window(session, datetime.date.today())
        declaration.submitted_at = datetime.datetime.now()
    workflow.created(declaration, user, "submit" if submit else "save", session=session)
    return declaration


def update_draft(session: Session, user: Any, declaration: Declaration, form: Mapping[str, str],
                 submit: bool) -> Declaration:
    """The unit corrects a draft or a returned declaration; 提交申报 sends it to the district again."""
    if not workflow.editable(declaration, user) or workflow.actor_of(user) != UNIT:
        raise DeclarationError("该申报当前不能修改（%(status)s）", status=DECLARATION_STATUSES[declaration.status])
    fill(declaration, form)
    if submit:
        check_window(session, datetime.date.today())
        session.flush()
        workflow.apply(declaration, "submit", user, session=session)
        declaration.submitted_at = datetime.datetime.now()
    return declaration


def review(session: Session, user: Any, declaration: Declaration, decision: str, reason: str | None = None
           ) -> Declaration:
    """通过 / 退回 / 不予批准 by the district or the city: the one transition of ``decision`` the table
    allows this reviewer now; approval numbers the project and puts it in the catalogue."""
    candidates = REVIEW_ACTIONS.get(decision)
    if candidates is None:
        raise DeclarationError("未知的审核操作")
    allowed = set(workflow.allowed(declaration, user, session=session))
    action = next((a for a in candidates if a in allowed), None)
    if action is None:
        # Let the table say why (state taken by someone else, role, scope, level).
        workflow.check(declaration, candidates[0], user, reason, session=session)
        raise DeclarationError("无权对该申报执行此操作")
    workflow.apply(declaration, action, user, reason, session=session)
    if action in APPROVE:
        approve(session, declaration)
    return declaration


def next_number(session: Session, year: int, level: str, region: str) -> str:
    """The next project number of a year and level, e.g. 2026-SJ-001 (京). The counter row is created
    once (INSERT … ON CONFLICT DO NOTHING) and incremented by one UPDATE, which holds its row lock to
    the commit: two approvals at once get two numbers. A number already in the catalogue is skipped."""
    upsert.insert_ignore(session, DeclarationNumber, {"year": year, "level": level, "last": 0}, ["year", "level"])
    suffix = REGION_SHORT.get(region, region[:1])
    while True:
        session.execute(update(DeclarationNumber).where(DeclarationNumber.year == year,
                                                        DeclarationNumber.level == level)
                        .values(last=DeclarationNumber.last + 1))
        last = session.scalar(select(DeclarationNumber.last).where(DeclarationNumber.year == year,
                                                                   DeclarationNumber.level == level))
        number = f"{year}-{level}-{last:03d} ({suffix})"
        taken = session.scalar(select(ProjectCatalog.id).where(ProjectCatalog.approval_no == number)) or \
            session.scalar(select(Declaration.id).where(Declaration.approval_no == number))
        if taken is None:
            return number


def approve(session: Session, declaration: Declaration) -> ProjectCatalog:
    """The approved declaration gets its number and enters the catalogue (申报项目目录)."""
    from app.services.activities import region

    number = next_number(session, declaration.year, DECLARATION_LEVELS[declaration.category], region(session))
    inst = session.get(Org, declaration.institution_id)
    catalog = ProjectCatalog(approval_no=number, name=declaration.name, category=declaration.category,
                             subject=declaration.subject, credits=declaration.credits, hours=declaration.hours,
                             year=declaration.year, organizer=inst.name if inst else None,
                             planned_count=declaration.planned_count)
    session.add(catalog)
    session.flush()
    declaration.approval_no, declaration.catalog_id = number, catalog.id
    declaration.approved_at = datetime.datetime.now()
    return catalog


def file_feedback(session: Session, user: Any, declaration: Declaration, form: Mapping[str, str]
                  ) -> Declaration:
    """执行反馈 after the project's last day (seed 002 二 3): actual dates, attendance and the report."""
    starts = _date((form.get("actual_starts_on") or "").strip(), "实际开始日期")
    ends = _date((form.get("actual_ends_on") or "").strip(), "实际结束日期")
    if starts > ends:
        raise DeclarationError("实际开始日期不能晚于结束日期")
    count = _positive((form.get("actual_count") or "").strip(), "实际参加人数", integer=True)
    text = (form.get("feedback") or "").strip()
    if not text:
        raise DeclarationError("请填写执行情况")
    workflow.apply(declaration, "feedback", user, session=session)
    declaration.actual_starts_on, declaration.actual_ends_on = starts, ends
    declaration.actual_count, declaration.feedback = count, text[:4000]
    declaration.feedback_at = datetime.datetime.now()
    return declaration
