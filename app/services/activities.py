"""可授学分的继续医学教育活动 (ICME-1) and the three-step credit wizard (ICME-3), Flask-free.

    draft = start(session, user_id, "进修学习")
    choose_standard(session, draft, standard_id)               # step 1
    add_persons(session, draft, scope, ids) / remove_persons()   # step 2 (授予名单)
    save_details(draft, form) ; credits = submit(session, draft, ctx)   # step 3

``submit`` checks every person of the grant list (scope, rules engine, practice plan, duplicates) before
anything is written; one failure refuses the whole list with a Chinese message naming the person. It
then consumes the draft (open → submitted, a guarded UPDATE: a second submit finds no open draft) and
creates one credit per person in the caller's transaction, status unit_approved, source unit.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Integer,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.models import (
    Credit,
    CreditStandard,
    DictItem,
    DictType,
    Org,
    Parameter,
    Person,
    RuleSet,
)
from app.models.activities import ActivityGrant, GrantDraft, GrantDraftPerson
from app.models.attachments import Attachment
from app.models.practice import PracticePlan
from app.models.projects import PracticeActivity, PracticeCheckIn
from app.services import upsert
from app.services.credit_rules import UNIT_LABELS, RuleError, compute_standard
from app.services.errors import DomainError
from app.services.numbers import plain
from app.services.rule_sets import (
    DEGREE,
    GOV,
    OTHER,
    PRACTICE,
    PROJECT,
    SELF,
    STUDY,
    region,  # noqa: F401 (re-exported: which rule set is in force lives in rule_sets)
)
from app.services.rule_sets import current_rule_set as wizard_rule_set
from app.services.scope import Scope
from app.services.workflow import log_creation

# URL slug → activity type (seed 003: 可授学分的继续医学教育活动, seven types in this order).
TYPES: dict[str, str] = {"project": PROJECT, "study": STUDY, "degree": DEGREE, "practice": PRACTICE,
                         "gov": GOV, "selfstudy": SELF, "other": OTHER}
SLUGS = {v: k for k, v in TYPES.items()}

# The evidence notes the seed prints under 留档/认证 on each type's step 3.
EVIDENCE_NOTES: dict[str, list[str]] = {
    # Seed 003, 继续医学教育项目 / 实践活动 step 3.
    PROJECT: ["参加本单位培训授予的学分，须与年度计划或季度计划或月计划核对，如集中授予学分和手工录入学分者，还须与学员考勤核对。",
              "参加外单位培训授予的学分，也须与年度计划或季度计划或月计划核对，还应提供具体通知，包括培训活动举办的时间、地点、内容、学习时长等。",
              "须上传学分证书、会议通知、日程安排、缴费凭证、交通凭证等材料，管理员逐一审核后确认学分"],
    PRACTICE: ["参加本单位培训授予的学分，须与年度计划或季度计划或月计划核对，如集中授予学分和手工录入学分者，还须与学员考勤核对。",
               "参加外单位培训授予的学分，也须与年度计划或季度计划或月计划核对，还应提供具体通知，包括培训活动举办的时间、地点、内容、学习时长等。",
               "须上传学分证书、会议通知、日程安排、缴费凭证、交通凭证等材料，管理员逐一审核后确认学分"],
    # Seed 003, 在职学历(学位)教育 step 3.
    DEGREE: ["由学校教务部门提供成绩单(学年/学期),成绩单注明姓名、学习科目、成绩等"],
    # Seed 003, 政府指令性医疗卫生任务 step 3.
    GOV: ["凡参加政府要求的援派医疗卫生任务者，需提供上级单位任务文件或单位证明。"],
    # Seed 003, 进修学习 step 3.
    STUDY: ["提供进修结业证"],
    # Seed 002 附件二 4: "审核其进修或规培证书，未结业的应提供由相关单位出具的进修或规培证明".
    OTHER: ["提供住院医师规范化培训证书，未结业的应提供由相关单位出具的规培证明"],
    SELF: [],
}
DEFAULT_EVIDENCE_MB = 5  # ICME-3; the parameter evidence_max_mb overrides it
PAGE = 20
MAX_BULK_ADD = 5000  # 全部添加: one grant list at most this long
AMOUNT_LABELS = {"hours": "小时", "months": "月", "sessions": "次", "courses": "门", "years": "年"}


class GrantError(DomainError):
    """A refused wizard step or submission; the message is Chinese and shown as is."""


@dataclass
class Context:
    """Who submits: the user's id, name, organization (授分单位) and data scope."""

    user_id: int
    scope: Scope
    grantor: Org | None = None


# ------------------------------------------------------------------------------ rule set and standards
def standards_for(session: Session, activity_type: str, rule_set: RuleSet | None = None) -> list[CreditStandard]:
    """Step 1: the active standards of the rule set that apply to ``activity_type``, by 序号."""
    rule_set = rule_set or wizard_rule_set(session)
    if rule_set is None:
        return []
    return list(session.scalars(select(CreditStandard).where(
        CreditStandard.rule_set_id == rule_set.id, CreditStandard.activity_type == activity_type,
        CreditStandard.active.is_(True)).order_by(CreditStandard.seq)))


def rule_detail(standard: CreditStandard) -> str:
    """具体规定: the standard's rule in a sentence, from its kind and params (never typed twice)."""
    p = standard.params or {}
    unit = UNIT_LABELS.get(p.get("unit", "hours"), "")
    text = standard.rule_text
    if standard.kind == "per_unit":
        text = f"按每{_n(p['per'])}{unit}授予{_n(p['rate'])}学分计算"
        if p.get("cap") is not None:
            text += f"，上限{_n(p['cap'])}学分"
        if p.get("below"):
            text += f"（不足{_n(p['below'])}{unit}）"
    elif standard.kind == "fixed":
        if p.get("min_amount"):
            text = f"满{_n(p['min_amount'])}{unit}，视为完成当年继续医学教育{_n(p['credits'])}学分"
        else:
            text = f"获得继续医学教育{_n(p['credits'])}学分"
    elif standard.kind == "per_session":
        who = "主讲人" if p.get("lecturer") else "参加者"
        text = f"单次(不少于{_n(p.get('min_hours', 0))}小时){who}授予{_n(p['credits'])}学分"
    if p.get("lecturer"):
        text += "；主讲人分数不能超过项目分数"
    return text


def amount_unit(standard: CreditStandard) -> str | None:
    """The unit of 实际完成 for the standard (None when the kind asks for no amount)."""
    p = standard.params or {}
    if standard.kind == "per_unit":
        return p.get("unit", "hours")
    if standard.kind == "fixed":
        return p.get("unit") or "years"  # 住院医师规范化培训: 实际完成 … 年 (seed 003)
    return None


_n = plain


# ------------------------------------------------------------------------------ drafts
def start(session: Session, user_id: int, activity_type: str) -> GrantDraft:
    if activity_type not in SLUGS:
        raise GrantError("未知的继续医学教育活动类型")
    draft = GrantDraft(user_id=user_id, activity_type=activity_type, status="open")
    session.add(draft)
    session.flush()
    return draft


def open_drafts(session: Session, user_id: int, activity_type: str | None = None) -> list[GrantDraft]:
    query = select(GrantDraft).where(GrantDraft.user_id == user_id, GrantDraft.status == "open")
    if activity_type:
        query = query.where(GrantDraft.activity_type == activity_type)
    return list(session.scalars(query.order_by(GrantDraft.id.desc()).limit(50)))


def draft_sizes(session: Session, draft_ids: list[int]) -> dict[int, int]:
    if not draft_ids:
        return {}
    rows = session.execute(select(GrantDraftPerson.draft_id, func.count()).where(
        GrantDraftPerson.draft_id.in_(draft_ids)).group_by(GrantDraftPerson.draft_id))
    return dict(rows.tuples().all())


def choose_standard(session: Session, draft: GrantDraft, standard_id: Any) -> CreditStandard:
    try:
        standard_id = int(standard_id)
    except (TypeError, ValueError):
        raise GrantError("请选择一条适用的标准") from None
    allowed = {s.id: s for s in standards_for(session, draft.activity_type)}
    if standard_id not in allowed:
        raise GrantError("所选标准不适用于该活动类型或已停用，请重新选择")
    draft.standard_id = standard_id
    return allowed[standard_id]


def delete_draft(session: Session, draft: GrantDraft) -> None:
    session.execute(delete(GrantDraftPerson).where(GrantDraftPerson.draft_id == draft.id))
    for att in session.scalars(select(Attachment).where(Attachment.owner_type == "grant_draft",
                                                        Attachment.owner_id == draft.id)):
        session.delete(att)
    session.delete(draft)


# ------------------------------------------------------------------------------ step 2: people
def person_search(session: Session, scope: Scope, *, card: str = "", name: str = "", department: str = ""):
    """Persons of the user's scope matching 卡号 / 姓名 (or pinyin initials) / 所属部门 prefixes (a Select)."""
    query = scope.filter(select(Person).where(Person.active.is_(True)), Person)
    card, name, department = card.strip(), name.strip(), department.strip()
    if card:
        query = query.where(Person.card_no.like(f"{_like(card)}%", escape="\\"))
    if name:
        query = query.where(or_(Person.name.like(f"{_like(name)}%", escape="\\"),
                                Person.name_initials.like(f"{_like(name.lower())}%", escape="\\")))
    if department:
        depts = select(Org.id).where(Org.kind == "department", Org.name.like(f"%{_like(department)}%", escape="\\"))
        query = query.where(Person.department_id.in_(scope.filter(depts, Org)))
    return query


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_page(session: Session, scope: Scope, draft: GrantDraft, page: int, **filters) -> tuple[list[Person], bool]:
    """One page of search results, persons already in the grant list left out; (rows, more)."""
    query = person_search(session, scope, **filters).where(~exists().where(
        GrantDraftPerson.draft_id == draft.id, GrantDraftPerson.person_id == Person.id))
    rows = list(session.scalars(query.order_by(Person.id).offset((page - 1) * PAGE).limit(PAGE + 1)))
    return rows[:PAGE], len(rows) > PAGE


def add_persons(session: Session, draft: GrantDraft, scope: Scope, person_ids: list[Any]) -> int:
    """Move persons into the grant list. Every id must be an active person of the scope, or nothing is added."""
    ids = set()
    for value in person_ids:
        try:
            ids.add(int(value))
        except (TypeError, ValueError):
            raise GrantError("人员编号有误") from None
    if not ids:
        raise GrantError("请先勾选要添加的人员")
    found = set(session.scalars(scope.filter(select(Person.id).where(Person.id.in_(ids), Person.active.is_(True)),
                                             Person)))
    if found != ids:
        raise GrantError("有%(count)s名人员不存在、已停用或不在您的管辖范围内，未添加任何人员", count=len(ids - found))
    present = set(session.scalars(select(GrantDraftPerson.person_id).where(
        GrantDraftPerson.draft_id == draft.id, GrantDraftPerson.person_id.in_(ids))))
    new = sorted(ids - present)
    _check_size(session, draft, len(new))
    if new:  # ON CONFLICT DO NOTHING: a double-clicked 添加 adds each person once (no unique-key 500)
        session.execute(upsert.insert_ignore_many(session, GrantDraftPerson, ["draft_id", "person_id"]),
                        [{"draft_id": draft.id, "person_id": p} for p in new])
    return len(new)


def add_matching(session: Session, draft: GrantDraft, scope: Scope, **filters) -> int:
    """全部添加: every person matching the search (the whole scope for an empty one, as step 2 lists it
    before any search, issue 15.3), in one INSERT … SELECT."""
    ids = person_search(session, scope, **filters).where(~exists().where(
        GrantDraftPerson.draft_id == draft.id, GrantDraftPerson.person_id == Person.id)).with_only_columns(Person.id)
    count = session.scalar(select(func.count()).select_from(ids.subquery()))
    _check_size(session, draft, count)
    if count:
        session.execute(upsert.insert_from_select_ignore(
            session, GrantDraftPerson, ["draft_id", "person_id"],
            ids.with_only_columns(literal(draft.id, Integer), Person.id), ["draft_id", "person_id"]))
    return count


def signed_in_activities(session: Session, scope: Scope, limit: int = 100) -> list[tuple[PracticeActivity, int]]:
    """The scope's 继教实践活动 that have sign-ins (newest first) with their count of signed-in persons: the
    attendance a practice grant is checked against (seed 003: "如集中授予学分…还须与学员考勤核对")."""
    signed = func.count(PracticeCheckIn.id)
    query = (select(PracticeActivity, signed).join(PracticeCheckIn, PracticeCheckIn.activity_id == PracticeActivity.id)
             .group_by(PracticeActivity.id).order_by(PracticeActivity.starts_at.desc(), PracticeActivity.id.desc())
             .limit(limit))
    return [(activity, count) for activity, count in session.execute(scope.filter(query, PracticeActivity))]


def add_signed_in(session: Session, draft: GrantDraft, scope: Scope, activity_id: Any) -> tuple[PracticeActivity, int]:
    """Move the persons signed in to one practice activity of the scope into the grant list (active persons
    of the scope; those already listed stay once), in one INSERT … SELECT; the details step is filled from
    the activity where still empty (content, date, form, 学时 and the amount in hours). Returns the activity
    and the number added."""
    if draft.activity_type != PRACTICE:
        raise GrantError("只有有组织的继续医学教育实践活动可以从签到名单添加人员")
    try:
        wanted = int(activity_id)
    except (TypeError, ValueError):
        raise GrantError("请选择实践活动") from None
    activity = session.scalar(scope.filter(select(PracticeActivity).where(PracticeActivity.id == wanted),
                                           PracticeActivity))
    if activity is None:
        raise GrantError("所选实践活动不存在或不在您的管辖范围内")
    ids = scope.filter(
        select(literal(draft.id, Integer), Person.id).join(PracticeCheckIn, PracticeCheckIn.person_id == Person.id)
        .where(PracticeCheckIn.activity_id == activity.id, Person.active.is_(True), ~exists().where(
            GrantDraftPerson.draft_id == draft.id, GrantDraftPerson.person_id == Person.id)), Person)
    count = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    _check_size(session, draft, count)
    if count:
        session.execute(upsert.insert_from_select_ignore(
            session, GrantDraftPerson, ["draft_id", "person_id"], ids, ["draft_id", "person_id"]))
    _fill_from_activity(session, draft, activity)
    return activity, count


def _fill_from_activity(session: Session, draft: GrantDraft, activity: PracticeActivity) -> None:
    if not draft.content:
        draft.content = activity.name[:256]
    if draft.activity_date is None:
        draft.activity_date = activity.starts_at.date()
    if draft.hours is None:
        draft.hours = activity.hours
    if not draft.activity_form and activity.form in activity_forms(session, PRACTICE):
        draft.activity_form = activity.form
    standard = draft.standard
    if standard is not None and standard.kind == "per_session" and draft.session_hours is None:
        draft.session_hours = activity.hours
    elif standard is not None and amount_unit(standard) == "hours" and draft.amount is None:
        draft.amount = activity.hours


def _check_size(session: Session, draft: GrantDraft, adding: int) -> None:
    size = session.scalar(select(func.count()).where(GrantDraftPerson.draft_id == draft.id)) or 0
    if size + adding > MAX_BULK_ADD:
        raise GrantError("授予名单最多%(most)s人，请分批录入", most=MAX_BULK_ADD)


def remove_persons(session: Session, draft: GrantDraft, person_ids: list[Any]) -> int:
    ids = []
    for value in person_ids:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise GrantError("人员编号有误") from None
    if not ids:
        raise GrantError("请先勾选要移出的人员")
    result = session.execute(delete(GrantDraftPerson).where(GrantDraftPerson.draft_id == draft.id,
                                                            GrantDraftPerson.person_id.in_(ids)))
    return result.rowcount or 0


def grant_list(session: Session, draft: GrantDraft, page: int | None = None) -> tuple[list[Person], int]:
    """The grant list's persons (a page of it when ``page`` is given) and its size."""
    query = (select(Person).join(GrantDraftPerson, GrantDraftPerson.person_id == Person.id)
             .where(GrantDraftPerson.draft_id == draft.id).order_by(GrantDraftPerson.id))
    total = session.scalar(select(func.count()).where(GrantDraftPerson.draft_id == draft.id)) or 0
    if page is not None:
        query = query.offset((page - 1) * PAGE).limit(PAGE)
    return list(session.scalars(query)), total


# ------------------------------------------------------------------------------ step 3: details
DETAIL_FIELDS = ("amount", "session_hours", "sessions", "project_credits", "table_row", "table_col",
                 "entered_credits", "allowed_value", "hours", "activity_form", "subject", "activity_date",
                 "content", "practice_plan_id")


def save_details(draft: GrantDraft, form: Mapping[str, Any]) -> None:
    """Store step 3 as typed (saving a draft checks only that numbers are numbers and dates dates)."""
    for key in ("amount", "session_hours", "project_credits", "entered_credits", "hours"):
        setattr(draft, key, _decimal_or_none(form.get(key), key))
    for key in ("sessions", "table_col", "practice_plan_id"):
        setattr(draft, key, _int_or_none(form.get(key), key))
    for key, size in (("table_row", 64), ("allowed_value", 128), ("activity_form", 64), ("subject", 64),
                      ("content", 256)):
        value = (form.get(key) or "").strip()
        if len(value) > size:
            raise GrantError("%(field)s不能超过%(size)s个字", field=FIELD_LABELS[key], size=size)
        setattr(draft, key, value or None)
    raw = (form.get("activity_date") or "").strip()
    try:
        draft.activity_date = datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        raise GrantError("活动日期格式应为 年-月-日，如 2025-04-24") from None


FIELD_LABELS = {"amount": "实际完成", "session_hours": "单次学时", "sessions": "次数", "project_credits": "项目学分",
                "table_row": "类别", "table_col": "排序", "entered_credits": "学分", "allowed_value": "来源",
                "hours": "学时", "activity_form": "活动形式", "subject": "所属学科", "activity_date": "活动日期",
                "content": "活动内容", "practice_plan_id": "教学活动计划"}


def _decimal_or_none(value: Any, key: str) -> Decimal | None:
    value = (str(value).strip() if value is not None else "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise GrantError("%(field)s必须是数字", field=FIELD_LABELS[key]) from None
    if not number.is_finite() or number < 0 or number >= Decimal(10000000):
        raise GrantError("%(field)s必须是不小于0的数字", field=FIELD_LABELS[key])
    return number.quantize(Decimal("0.01"))


def _int_or_none(value: Any, key: str) -> int | None:
    value = (str(value).strip() if value is not None else "")
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise GrantError("%(field)s必须是整数", field=FIELD_LABELS[key]) from None


def engine_inputs(draft: GrantDraft) -> dict[str, Any]:
    """The rules engine's inputs from a draft (the same keys the compute API takes)."""
    inputs: dict[str, Any] = {}
    pairs = (("amount", draft.amount), ("hours", draft.session_hours), ("sessions", draft.sessions),
             ("project_credits", draft.project_credits), ("row", draft.table_row), ("col", draft.table_col),
             ("credits", draft.entered_credits), ("allowed_value", draft.allowed_value))
    for key, value in pairs:
        if value is not None:
            inputs[key] = value
    return inputs


def dictionary(session: Session, code: str) -> list[DictItem]:
    return list(session.scalars(select(DictItem).join(DictType).where(
        DictType.code == code, DictItem.active.is_(True)).order_by(DictItem.sort, DictItem.id)))


def activity_forms(session: Session, activity_type: str) -> list[str]:
    """活动形式 choices: the nine 实践活动 forms for practice activities (seed 003), the others otherwise."""
    items = dictionary(session, "activity_form")
    if activity_type == PRACTICE:
        return [i.label for i in items if i.extra == "实践活动"]
    return [i.label for i in items if i.extra != "实践活动"]


def plans_for(session: Session, draft: GrantDraft, scope: Scope, institution_id: int | None) -> list[PracticePlan]:
    """Approved practice plans the draft may point to: those of the grant list's institutions (or of the
    user's own institution), inside the user's scope."""
    inst_ids = set(session.scalars(select(Person.institution_id).join(
        GrantDraftPerson, GrantDraftPerson.person_id == Person.id).where(
        GrantDraftPerson.draft_id == draft.id).distinct()))
    if institution_id:
        inst_ids.add(institution_id)
    if not inst_ids:
        return []
    query = select(PracticePlan).where(PracticePlan.status == "approved", PracticePlan.institution_id.in_(inst_ids))
    if scope.level in ("all", "district"):
        query = scope.filter(query, PracticePlan)
    return list(session.scalars(query.order_by(PracticePlan.id.desc()).limit(200)))


def evidence_max_bytes(session: Session) -> int:
    value = session.scalar(select(Parameter.value).where(Parameter.key == "evidence_max_mb"))
    try:
        mb = float(value) if value else DEFAULT_EVIDENCE_MB
    except ValueError:
        mb = DEFAULT_EVIDENCE_MB
    return int(mb * 1024 * 1024) if mb > 0 else DEFAULT_EVIDENCE_MB * 1024 * 1024


def evidence(session: Session, draft: GrantDraft) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.owner_type == "grant_draft",
                                                         Attachment.owner_id == draft.id).order_by(Attachment.id)))


# ------------------------------------------------------------------------------ submission
def _check_details(session: Session, draft: GrantDraft, standard: CreditStandard) -> list[str]:
    errors = []
    if draft.hours is None or draft.hours <= 0:
        errors.append("请填写学时（大于0）")
    elif draft.hours > 2000:
        errors.append("学时不能超过2000")
    forms = activity_forms(session, draft.activity_type)
    if not draft.activity_form:
        errors.append("请选择活动形式")
    elif draft.activity_form not in forms and draft.activity_form != standard.activity_form:
        errors.append(f"活动形式“{draft.activity_form}”不在可选范围内")
    subjects = {i.label for i in dictionary(session, "subject")}
    if not draft.subject:
        errors.append("请选择所属学科")
    elif draft.subject not in subjects:
        errors.append(f"所属学科“{draft.subject}”不在学科字典中")
    if draft.activity_date is None:
        errors.append("请填写活动日期")
    elif draft.activity_date > datetime.date.today():
        errors.append("活动日期不能晚于今天")
    if not draft.content:
        errors.append("请填写活动内容")
    if not evidence(session, draft):
        errors.append("请上传留档/认证材料（PDF、PNG、JPG）")
    if draft.activity_type == PRACTICE:
        plan = session.get(PracticePlan, draft.practice_plan_id) if draft.practice_plan_id else None
        if plan is None:
            errors.append("有组织的继续医学教育实践活动须选择已通过审核的教学活动计划")
        elif plan.status != "approved":
            errors.append(f"教学活动计划“{plan.name}”{plan.status_label}，须选择已通过审核的计划")
        elif draft.activity_form and draft.activity_form not in plan.forms:
            errors.append(f"活动形式“{draft.activity_form}”不在教学活动计划“{plan.name}”的活动形式中")
    return errors


def submit(session: Session, draft: GrantDraft, ctx: Context, now: datetime.datetime | None = None) -> list[Credit]:
    """保存并提交: one credit per person of the grant list, all or nothing (the caller commits).

    Raises GrantError naming every person that fails (out of scope, not eligible, not under the practice
    plan's institution, already holding the same credit) and every missing detail; nothing is written."""
    now = now or datetime.datetime.now()
    if draft.status != "open":
        raise GrantError("该学分已提交，不能重复提交")
    standard = session.get(CreditStandard, draft.standard_id) if draft.standard_id else None
    if standard is None or standard.id not in {s.id for s in standards_for(session, draft.activity_type)}:
        raise GrantError("请在第一步选择一条适用的标准（所选标准不存在、已停用或不属于当前规则集）")
    errors = _check_details(session, draft, standard)
    persons, _size = grant_list(session, draft)
    if not persons:
        errors.append("授予名单为空，请在第二步添加人员")
    in_scope = set(session.scalars(ctx.scope.filter(
        select(Person.id).where(Person.id.in_([p.id for p in persons]), Person.active.is_(True)), Person))) \
        if persons else set()
    institutions = {o.id: o for o in session.scalars(select(Org).where(
        Org.id.in_({p.institution_id for p in persons})))} if persons else {}
    plan = session.get(PracticePlan, draft.practice_plan_id) if draft.practice_plan_id else None
    duplicates = _duplicates(session, draft, standard, [p.id for p in persons])
    inputs = engine_inputs(draft)
    results = {}
    for person in persons:
        who = f"{person.name}（{person.card_no}）"
        if person.id not in in_scope:
            errors.append(f"{who}已停用或不在您的管辖范围内")
            continue
        inst = institutions.get(person.institution_id)
        try:
            result = compute_standard(standard, {**inputs, "institution_level": inst.level if inst else None,
                                                 "institution_type": inst.inst_type if inst else None})
        except RuleError as exc:
            errors.append(f"{who}：{exc}")
            continue
        if not result.grantable:
            errors.append(f"{who}：{result.explanation}")
            continue
        if draft.activity_type == PRACTICE and plan is not None and plan.institution_id != person.institution_id:
            errors.append(f"{who}不属于教学活动计划“{plan.name}”的机构")
            continue
        if person.id in duplicates:
            errors.append(f"{who}已有相同的学分记录（同一标准、活动日期和活动内容）")
            continue
        results[person.id] = result
    if errors:
        refusal = GrantError(_summary(errors))
        refusal.problems = errors  # each problem on its own: the wizard shows them at their fields
        raise refusal

    # Consume the draft first: the guarded UPDATE takes the row lock, so a concurrent or repeated
    # submission of the same draft finds it no longer open and writes nothing.
    consumed = session.execute(update(GrantDraft).where(GrantDraft.id == draft.id, GrantDraft.status == "open")
                               .values(status="submitted", submitted_at=now, credit_count=len(persons)))
    if consumed.rowcount != 1:
        raise GrantError("该学分已提交，不能重复提交")
    grantor = ctx.grantor
    credits = []
    for person in persons:
        result = results[person.id]
        credits.append(Credit(
            person_id=person.id, district_id=person.district_id, institution_id=person.institution_id,
            department_id=person.department_id, rule_set_id=standard.rule_set_id, standard_id=standard.id,
            activity_type=draft.activity_type, content=draft.content, granted_on=draft.activity_date,
            category=standard.category, credit_class=result.credit_class, subject=draft.subject,
            credits=result.credits, hours=draft.hours, months=result.months, amount=draft.amount,
            remark=_remark(draft, plan), grantor_org_id=grantor.id if grantor else None,
            grantor_name=grantor.name if grantor else None, uploaded_at=now, source="unit", status="unit_approved"))
    session.add_all(credits)
    session.flush()
    session.execute(insert(ActivityGrant), [
        {"credit_id": c.id, "draft_id": draft.id, "activity_form": draft.activity_form,
         "practice_plan_id": plan.id if plan else None, "note": results[c.person_id].explanation}
        for c in credits])
    files = evidence(session, draft)
    if files:
        session.execute(insert(Attachment), [
            {"owner_type": "credit", "owner_id": c.id, "name": f.name, "kind": f.kind, "size": f.size,
             "sha256": f.sha256, "path": f.path, "uploaded_by_fk": f.uploaded_by_fk, "uploaded_at": f.uploaded_at}
            for c in credits for f in files])
    _log_creation(session, credits, ctx)
    draft.status = "submitted"
    return credits


def _log_creation(session: Session, credits: list[Credit], ctx: Context) -> None:
    """The review log's creation entries (单位录入 → unit_approved), one per credit, set-based."""
    log_creation(session, credits, user_id=ctx.user_id)


def _duplicates(session: Session, draft: GrantDraft, standard: CreditStandard, person_ids: list[int]) -> set[int]:
    if not person_ids or draft.activity_date is None or not draft.content:
        return set()
    return set(session.scalars(select(Credit.person_id).where(
        Credit.person_id.in_(person_ids), Credit.standard_id == standard.id,
        Credit.granted_on == draft.activity_date, Credit.content == draft.content,
        Credit.status != "rejected")))


def _remark(draft: GrantDraft, plan: PracticePlan | None) -> str:
    parts = [f"活动形式：{draft.activity_form}"] if draft.activity_form else []
    if plan is not None:
        parts.append(f"教学活动计划：{plan.name}")
    return "；".join(parts)[:256] or None


def _summary(errors: list[str], limit: int = 10) -> str:
    text = "；".join(errors[:limit])
    if len(errors) > limit:
        text += f"；等共{len(errors)}处问题"
    return "未提交，请修改后重试：" + text


def credits_page(session: Session, scope: Scope, activity_type: str, page: int, q: str = ""):
    """The credits of one activity type in the scope, newest first: (rows, total)."""
    query = scope.filter(select(Credit).where(Credit.activity_type == activity_type), Credit)
    q = q.strip()
    if q:
        query = query.where(Credit.person_id.in_(select(Person.id).where(or_(
            Person.name.like(f"{_like(q)}%", escape="\\"), Person.card_no.like(f"{_like(q)}%", escape="\\"),
            Person.name_initials.like(f"{_like(q.lower())}%", escape="\\")))))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    from sqlalchemy.orm import joinedload

    rows = list(session.scalars(query.options(joinedload(Credit.person)).order_by(Credit.id.desc())
                                .offset((page - 1) * PAGE).limit(PAGE)))
    return rows, total


__all__ = [
    "EVIDENCE_NOTES",
    "SLUGS",
    "TYPES",
    "Context",
    "GrantError",
    "activity_forms",
    "add_matching",
    "add_persons",
    "amount_unit",
    "choose_standard",
    "credits_page",
    "delete_draft",
    "engine_inputs",
    "evidence",
    "evidence_max_bytes",
    "grant_list",
    "open_drafts",
    "person_search",
    "plans_for",
    "remove_persons",
    "rule_detail",
    "save_details",
    "search_page",
    "standards_for",
    "start",
    "submit",
    "wizard_rule_set",
]
