"""Manual entry of non-project credits and its review work list (ICME-8; seed 002 附件一/附件二).

Seed 002 附件一 2: "学分录入要确保项目名称、学分类别、项目编号、证书编号、学分学时、举办单位等录入完整正确，
并上传电子学分证书或相关佐证材料" — every one of these fields is required; the certificate is required
before the credit can be submitted (附件二 1: "未上传电子学分证书或相关佐证材料不予审核通过").
附件一 3: saved → checked / edited under "编辑" → "授分" (submit). 附件一 4: "学员须在年内完成当年非项目
学分的手工录入" — entry for a year closes on the parameter ``credit_year_closes`` (MM-DD of that year);
after it only the unit may enter (补录) and only with the unit's certificate ("单位审核无误后出具相关证明
（加盖单位公章）"). States and the review log: services/workflow.py.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    Attachment,
    Credit,
    CreditStandard,
    DictItem,
    DictType,
    ManualCredit,
    Parameter,
    Person,
)
from app.models.org import Org
from app.services import attachments, credit_rules, workflow
from app.services.errors import ConflictError, DomainError
from app.services.rule_sets import PRACTICE, current_rule_set
from app.services.scope import Scope
from app.services.uploads import UploadError

CLOSE_KEY = "credit_year_closes"
DEFAULT_CLOSE = "12-31"
MAX_KEY = "manual_credit_max"
DEFAULT_MAX = Decimal(25)  # one credit never exceeds a whole year's requirement (SPEC: 25 a year)
MAX_HOURS = credit_rules.DEFAULT_MAX_AMOUNT["hours"]
EVIDENCE = "credit"  # attachments.owner_type of the e-certificate / evidence
UNIT_CERT = "credit_unit_cert"  # the unit's certificate of a late entry (补录)
ACTIVITY_TYPE = "继续医学教育项目"
SOURCE_PERSON, SOURCE_UNIT = "manual", "unit"


class EntryError(DomainError):
    """Refused entry; message in Chinese, nothing written. A workflow refusal (workflow.WorkflowError,
    TransitionConflict) passes through as it is."""


class EntryProblems(EntryError):
    """Every problem of a submitted entry at once, shown as one message ("…；…")."""

    def __init__(self, problems: list[EntryError]):
        super().__init__("；".join(p.message for p in problems))
        self.problems = problems

    def __str__(self) -> str:
        return "；".join(str(p) for p in self.problems)


class EntryConflict(ConflictError, EntryError):
    """A selected credit was decided by another reviewer first (409); the message says what they decided."""


# ------------------------------------------------------------------------------ parameters
def _param(session: Session, key: str) -> str | None:
    value = session.scalar(select(Parameter.value).where(Parameter.key == key))
    return (value or "").strip() or None


def closes_on(session: Session, year: int) -> datetime.date:
    """Last day on which technicians may enter credits of ``year`` (parameter 学分录入年度截止日)."""
    text = _param(session, CLOSE_KEY) or DEFAULT_CLOSE
    try:
        month, day = (int(x) for x in text.split("-"))
        return datetime.date(year, month, day)
    except (ValueError, TypeError):
        return datetime.date(year, 12, 31)


def is_closed(session: Session, year: int, today: datetime.date | None = None) -> bool:
    return (today or datetime.date.today()) > closes_on(session, year)


def max_credits(session: Session) -> Decimal:
    text = _param(session, MAX_KEY)
    try:
        value = Decimal(text) if text else DEFAULT_MAX
    except InvalidOperation:
        value = DEFAULT_MAX
    return value if value > 0 else DEFAULT_MAX


def categories(session: Session) -> list[str]:
    """学分类别 of the dictionary (active items, in order)."""
    return list(session.scalars(select(DictItem.label).join(DictType, DictItem.type_id == DictType.id).where(
        DictType.code == "credit_category", DictItem.active.is_(True)).order_by(DictItem.sort, DictItem.id)))


# ------------------------------------------------------------------------------ validation
FIELDS = {  # name → (Chinese label, max length)
    "content": ("项目名称", 256), "category": ("学分类别", 64), "project_no": ("项目编号", 64),
    "certificate_no": ("证书编号", 64), "organizer": ("举办单位", 128),
}


@dataclass
class Entry:
    content: str
    category: str
    project_no: str
    certificate_no: str
    organizer: str
    credits: Decimal
    hours: Decimal
    granted_on: datetime.date
    standard_id: int | None = None
    rule_set_id: int | None = None
    activity_type: str = ACTIVITY_TYPE
    credit_class: str | None = None
    explanation: str | None = None
    amount: Decimal | None = None
    months: Decimal | None = None


# ------------------------------------------------------------------------------ standards
# A manual entry may name a standard of the active rule set; the rules engine then computes the
# credits from the entered amount. Standards that need something a hand entry cannot prove are left
# out: a project's own credits (imported, lecturers: "主讲人分数不能超过项目分数"), and practice
# activities, whose credits must point to an approved practice plan (the wizard checks that).
MANUAL_KINDS = ("per_unit", "fixed", "table", "entered")


def manual_standards(session: Session, today: datetime.date | None = None) -> list[CreditStandard]:
    """The standards of the region's active rule set that a manual (non-project) entry may use."""
    rule_set = current_rule_set(session, today)
    if rule_set is None:
        return []
    rows = session.scalars(select(CreditStandard).where(
        CreditStandard.rule_set_id == rule_set.id, CreditStandard.active.is_(True),
        CreditStandard.kind.in_(MANUAL_KINDS), CreditStandard.activity_type != PRACTICE)
        .order_by(CreditStandard.seq, CreditStandard.id))
    return [s for s in rows if not (s.params or {}).get("lecturer")]


def standard_unit(standard: CreditStandard) -> str | None:
    """The unit of the amount the standard reads (hours / months / courses …), None for none."""
    params = standard.params or {}
    if standard.kind == "per_unit":
        return params.get("unit", "hours")
    if standard.kind == "fixed":
        return params.get("unit")
    return None


def _compute(standard: CreditStandard, form: Mapping[str, Any], hours: Decimal | None,
             person: Person | None) -> credit_rules.Computation:
    unit = standard_unit(standard)
    amount = str(form.get("amount") or "").strip()
    if not amount and unit == "hours" and hours is not None:
        amount = str(hours)  # 学时 is the amount of an hours standard unless typed apart
    inputs: dict[str, Any] = {"amount": amount, "hours": hours, "credits": form.get("credits"),
                              "row": form.get("row"), "col": form.get("col"),
                              "allowed_value": form.get("allowed_value")}
    institution = getattr(person, "institution", None) if person is not None else None
    if institution is not None:  # 只适用于一级医疗机构或社区卫生服务机构 (seed 002 附件二 3)
        inputs.update(institution_level=institution.level, institution_type=institution.inst_type)
    return credit_rules.compute_standard(standard, inputs)


# ------------------------------------------------------------------------------ validation
FIELDS = {  # name → (Chinese label, max length)
    "content": ("项目名称", 256), "category": ("学分类别", 64), "project_no": ("项目编号", 64),
    "certificate_no": ("证书编号", 64), "organizer": ("举办单位", 128),
}


def _number(raw: Any, label: str) -> Decimal:
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise EntryError("请填写%(label)s", label=label)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise EntryError("%(label)s必须是数字", label=label) from None
    if not value.is_finite():
        raise EntryError("%(label)s必须是数字", label=label)
    if value <= 0:
        raise EntryError("%(label)s必须大于0", label=label)
    if value != value.quantize(Decimal("0.01")):
        raise EntryError("%(label)s最多保留两位小数", label=label)
    return value


def validate(session: Session, form: Mapping[str, Any], today: datetime.date | None = None,  # noqa: C901
             person: Person | None = None) -> Entry:
    """Check the submitted fields; every problem is named in one Chinese message.

    With a standard (``standard_id``, one of ``manual_standards``) the credits are computed by
    services/credit_rules.py from the amount (and table row / column, catalogue entry) and the
    standard gives the 学分类别; the typed credits are used only when no standard is chosen."""
    today = today or datetime.date.today()
    errors: list[EntryError] = []
    values: dict[str, Any] = {}
    standard = None
    raw_std = str(form.get("standard_id") or "").strip()
    if raw_std:
        allowed = {s.id: s for s in manual_standards(session, today)}
        standard = allowed.get(int(raw_std)) if raw_std.isdigit() else None
        if standard is None:
            errors.append(EntryError("授分标准不存在、已停用或不适用于手工录入，请重新选择"))
    for name, (label, size) in FIELDS.items():
        text = str(form.get(name) or "").strip()
        if name == "category" and standard is not None:
            text = standard.category  # the standard's own 学分类别
        if not text:
            errors.append(EntryError("请填写%(label)s", label=label))
        elif len(text) > size:
            errors.append(EntryError("%(label)s不能超过%(n)s个字", label=label, n=size))
        values[name] = text
    if values["category"] and standard is None and values["category"] not in categories(session):
        errors.append(EntryError("学分类别不在字典中，请从列表中选择"))
    raw_date = str(form.get("granted_on") or "").strip()
    granted_on = None
    try:
        granted_on = datetime.date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        errors.append(EntryError("授分日期格式不正确，应为 年-月-日"))
    if granted_on is None and raw_date == "":
        errors.append(EntryError("请填写授分日期"))
    elif granted_on is not None and granted_on > today:
        errors.append(EntryError("授分日期不能晚于今天"))
    elif granted_on is not None and granted_on.year < 2000:
        errors.append(EntryError("授分日期不正确"))
    hours = credits = None
    try:
        hours = _number(form.get("hours"), "学时")
        if hours > MAX_HOURS:
            errors.append(EntryError("学时不能超过%(n)s", n=MAX_HOURS))
    except EntryError as exc:
        errors.append(exc)
    explanation = credit_class = amount = months = None
    if standard is not None:
        try:
            result = _compute(standard, form, hours, person)
        except credit_rules.RuleError as exc:
            errors.append(EntryError("按所选标准计算学分：%(reason)s", reason=exc))
        else:
            if not result.grantable:
                errors.append(EntryError("按所选标准不能授分：%(why)s", why=result.explanation))
            credits, explanation, credit_class = result.credits, result.explanation, result.credit_class
            months = result.months
            unit = standard_unit(standard)
            if unit and str(form.get("amount") or "").strip():
                amount = Decimal(str(form.get("amount")).strip())
            elif unit == "hours":
                amount = hours
    else:
        try:
            credits = _number(form.get("credits"), "学分")
        except EntryError as exc:
            errors.append(exc)
    if credits is not None:
        upper = max_credits(session)
        if credits > upper:
            errors.append(EntryError("单条手工录入学分不能超过%(n)s分", n=format(upper.normalize(), "f")))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise EntryProblems(errors)
    return Entry(content=values["content"], category=values["category"], project_no=values["project_no"],
                 certificate_no=values["certificate_no"], organizer=values["organizer"], credits=credits,
                 hours=hours, granted_on=granted_on, standard_id=standard.id if standard else None,
                 rule_set_id=standard.rule_set_id if standard else None,
                 activity_type=standard.activity_type if standard else ACTIVITY_TYPE,
                 credit_class=credit_class or (standard.credit_class if standard else None),
                 explanation=explanation, amount=amount, months=months)


def _fill(credit: Credit, entry: Entry) -> None:
    credit.content = entry.content
    credit.category = entry.category
    credit.project_no = entry.project_no
    credit.certificate_no = entry.certificate_no
    credit.grantor_name = entry.organizer  # 举办单位: the body that issued the certificate
    credit.credits = entry.credits
    credit.hours = entry.hours
    credit.granted_on = entry.granted_on
    credit.standard_id = entry.standard_id
    credit.rule_set_id = entry.rule_set_id
    credit.activity_type = entry.activity_type
    credit.credit_class = entry.credit_class
    credit.amount = entry.amount
    credit.months = entry.months
    credit.remark = entry.explanation[:256] if entry.explanation else None


def _check_files(files: list) -> list[tuple[bytes, str, str]]:
    """Check every uploaded file before anything is stored (one refused → none stored)."""
    out = []
    for storage in files:
        if storage is None or not getattr(storage, "filename", ""):
            continue
        data, kind = attachments.check(storage)
        out.append((data, kind, storage.filename))
    return out


def _store(checked: list[tuple[bytes, str, str]], owner_type: str, owner_id: int, user_id: int | None) -> None:
    for data, kind, name in checked:
        attachments.store_bytes(data, kind, name, owner_type, owner_id, user_id=user_id)


# ------------------------------------------------------------------------------ technician
def _place(credit: Credit, person: Person) -> None:
    credit.person_id = person.id
    credit.district_id = person.district_id
    credit.institution_id = person.institution_id
    credit.department_id = person.department_id


def _open_or_refuse(session: Session, year: int, today: datetime.date | None) -> None:
    if is_closed(session, year, today):
        raise EntryError("%(year)s年度的学分录入已于%(closed)s截止，逾期补录请联系所在单位继教管理负责人",
                         year=year, closed=f"{closes_on(session, year):%Y年%m月%d日}")


def create_own(session: Session, user: Any, form: Mapping[str, Any], files: list, *, submit: bool = False,
               today: datetime.date | None = None) -> Credit:
    """The technician enters a non-project credit for themself: saved as a draft, or submitted."""
    person = session.get(Person, getattr(user, "person_id", None) or 0)
    if person is None:
        raise EntryError("您的账号未关联学员，不能录入个人学分")
    entry = validate(session, form, today, person)
    _open_or_refuse(session, entry.granted_on.year, today)
    checked = _check_files(files)
    if submit and not checked:
        raise EntryError("请上传电子学分证书或相关佐证材料后再提交")
    credit = Credit(activity_type=ACTIVITY_TYPE, source=SOURCE_PERSON)
    _place(credit, person)
    _fill(credit, entry)
    workflow.created(credit, user, "save", session=session)
    session.add(ManualCredit(credit_id=credit.id, year=entry.granted_on.year, late=False, entered_by="person",
                             needs_city=True, created_by_fk=getattr(user, "id", None)))
    _store(checked, EVIDENCE, credit.id, getattr(user, "id", None))
    if submit:
        workflow.apply(credit, "submit", user, session=session)
    return credit


def update_own(session: Session, user: Any, credit: Credit, form: Mapping[str, Any], files: list, *,
               remove: list[int] | None = None, today: datetime.date | None = None) -> Credit:
    """Edit a draft or a failed credit (附件一 3 "在“编辑”里修改")."""
    _owned_manual(session, user, credit)
    if not workflow.editable(credit, user):
        raise EntryError("学分状态为“%(status)s”，不能修改；提交后发现错误请联系机构审核端处理",
                         status=workflow.status_label(credit, credit.status))
    entry = validate(session, form, today, session.get(Person, credit.person_id))
    _open_or_refuse(session, entry.granted_on.year, today)
    checked = _check_files(files)
    _fill(credit, entry)
    if remove:
        for att in attachments.of(EVIDENCE, credit.id):
            if att.id in remove:
                session.delete(att)
    _store(checked, EVIDENCE, credit.id, getattr(user, "id", None))
    manual = session.scalar(select(ManualCredit).where(ManualCredit.credit_id == credit.id))
    manual.year = entry.granted_on.year
    return credit


def submit_own(session: Session, user: Any, credit: Credit, today: datetime.date | None = None) -> Credit:
    """"授分": send a draft (or a corrected failed credit) to the unit."""
    _owned_manual(session, user, credit)
    _open_or_refuse(session, credit.granted_on.year, today)
    if not attachments.of(EVIDENCE, credit.id):
        raise EntryError("请上传电子学分证书或相关佐证材料后再提交")
    workflow.apply(credit, "submit", user, session=session)
    return credit


def _owned_manual(session: Session, user: Any, credit: Credit) -> ManualCredit:
    manual = session.scalar(select(ManualCredit).where(ManualCredit.credit_id == credit.id))
    if manual is None or credit.person_id != getattr(user, "person_id", None):
        raise EntryError("只能修改或提交本人手工录入的学分")
    return manual


# ------------------------------------------------------------------------------ unit entry
def create_by_unit(session: Session, user: Any, scope: Scope, person_card: str, form: Mapping[str, Any],
                   files: list, unit_certificate: Any = None, today: datetime.date | None = None) -> Credit:
    """The unit enters a non-project credit for one of its staff. In an open year it starts at
    ``unit_approved`` (the unit's own entry); for a closed year it is a late entry (补录) that needs the
    unit's certificate. Both go on to the city."""
    card = (person_card or "").strip()
    if not card:
        raise EntryError("请填写学员IC卡号")
    person = session.scalar(scope.filter(select(Person).where(Person.card_no == card), Person))
    if person is None:
        raise EntryError("在您的管理范围内没有IC卡号为“%(card)s”的学员", card=card)
    entry = validate(session, form, today, person)
    late = is_closed(session, entry.granted_on.year, today)
    checked = _check_files(files)
    if not checked:
        raise EntryError("请上传电子学分证书或相关佐证材料")
    cert = None
    if late:
        if unit_certificate is None or not getattr(unit_certificate, "filename", ""):
            raise EntryError("%(year)s年度的录入已截止，补录须上传加盖单位公章的单位证明", year=entry.granted_on.year)
        cert = _check_files([unit_certificate])
    credit = Credit(activity_type=ACTIVITY_TYPE, source=SOURCE_UNIT)
    _place(credit, person)
    _fill(credit, entry)
    workflow.created(credit, user, "late_enter" if late else "enter", session=session)
    credit.grantor_org_id = getattr(user, "org_id", None)
    session.add(ManualCredit(credit_id=credit.id, year=entry.granted_on.year, late=late, entered_by="unit",
                             needs_city=True, created_by_fk=getattr(user, "id", None)))
    _store(checked, EVIDENCE, credit.id, getattr(user, "id", None))
    if cert:
        _store(cert, UNIT_CERT, credit.id, getattr(user, "id", None))
    return credit


# ------------------------------------------------------------------------------ review work list
@dataclass
class Filters:
    q: str = ""  # name or card number (starts with)
    category: str = ""
    year: int | None = None
    late: str = ""  # "" / "1" / "0"


def pending_select(scope: Scope, actor: str | None, filters: Filters | None = None):
    """The credits waiting for ``actor``'s review inside ``scope``: the unit reviews submitted manual
    credits of its own staff, the city reviews manual credits the unit passed. Set-based."""
    filters = filters or Filters()
    query = select(Credit).join(ManualCredit, ManualCredit.credit_id == Credit.id).join(
        Person, Person.id == Credit.person_id)
    if actor == workflow.UNIT:
        query = query.where(Credit.status == "submitted")
    elif actor == workflow.CITY:
        query = query.where(Credit.status == "unit_approved", ManualCredit.needs_city.is_(True))
    else:
        query = query.where(Credit.id.is_(None))
    query = scope.filter(query, Credit)
    if filters.q:
        like = filters.q.strip() + "%"
        query = query.where(or_(Person.name.like(like), Person.card_no.like(like)))
    if filters.category:
        query = query.where(Credit.category == filters.category)
    if filters.year:
        query = query.where(ManualCredit.year == filters.year)
    if filters.late in ("0", "1"):
        query = query.where(ManualCredit.late.is_(filters.late == "1"))
    return query


def pending_page(session: Session, scope: Scope, actor: str | None, filters: Filters, page: int,
                 size: int = 20) -> tuple[list[Credit], int, dict, dict]:
    """(credits of the page, total count, attachments by credit id, manual rows by credit id)."""
    query = pending_select(scope, actor, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = list(session.scalars(query.options(selectinload(Credit.person))  # no query per line
                                .order_by(Credit.uploaded_at, Credit.id).offset(max(page, 0) * size).limit(size)))
    ids = [c.id for c in rows]
    files = attachments.of_many(EVIDENCE, ids)
    for cid, extra in attachments.of_many(UNIT_CERT, ids).items():
        files[cid] = files.get(cid, []) + extra
    manual = {m.credit_id: m for m in session.scalars(select(ManualCredit).where(ManualCredit.credit_id.in_(ids)))} \
        if ids else {}
    return rows, total, files, manual


def review(session: Session, user: Any, scope: Scope, credit_ids: list[int], passed: bool,
           reason: str | None = None) -> int:
    """Pass or fail the selected credits: all or nothing. A credit outside the user's pending list
    (another unit's, already reviewed, guessed id) refuses the whole batch."""
    ids = sorted({int(i) for i in credit_ids})
    if not ids:
        raise EntryError("请选择要审核的学分")
    actor = workflow.actor_of(user)
    found = list(session.scalars(pending_select(scope, actor).where(Credit.id.in_(ids))))
    if len(found) != len(ids):
        _decided_elsewhere(session, scope, set(ids) - {c.id for c in found})
        raise EntryError("所选学分中有不在您待审核范围内的记录，未做任何修改")
    action = {(workflow.UNIT, True): "unit_pass", (workflow.UNIT, False): "unit_fail",
              (workflow.CITY, True): "city_pass", (workflow.CITY, False): "city_fail"}.get((actor, passed))
    if action is None:
        raise EntryError("无权审核学分")
    if not passed and not (reason or "").strip():
        raise EntryError("请填写不通过原因")
    workflow.apply_many(found, action, user, reason if not passed else None, session=session)
    return len(found)


_REVIEW_LABELS = {workflow.CREDIT.by_action[a].label for a in ("unit_pass", "unit_fail", "city_pass", "city_fail")}


def _decided_elsewhere(session: Session, scope: Scope, missing: set[int]) -> None:
    """A selected credit that left the pending list since the page was shown (another reviewer
    decided it first): say what they decided, instead of "not in your list"."""
    query = select(Credit).join(ManualCredit, ManualCredit.credit_id == Credit.id).where(Credit.id.in_(missing))
    for credit in session.scalars(scope.filter(query, Credit).order_by(Credit.id)):
        what = workflow.last_entry(session, credit)[2]
        if what in _REVIEW_LABELS:
            raise EntryConflict("操作未执行：学分“%(content)s”已由他人先审核，%(state)s，未做任何修改，请刷新页面查看",
                                content=credit.content, state=workflow.state_text(session, credit))


# ------------------------------------------------------------------------------ own list / files
def own_select(person_id: int):
    return (select(Credit).join(ManualCredit, ManualCredit.credit_id == Credit.id)
            .where(Credit.person_id == person_id).order_by(Credit.uploaded_at.desc(), Credit.id.desc()))


def attachment_in_scope(session: Session, scope: Scope, attachment_id: int) -> Attachment | None:
    """An evidence file of a credit, only when the credit is inside ``scope`` (one query)."""
    query = select(Attachment).join(Credit, and_(Credit.id == Attachment.owner_id)).where(
        Attachment.id == attachment_id, Attachment.owner_type.in_((EVIDENCE, UNIT_CERT)))
    return session.scalar(scope.filter(query, Credit))


def has_manual(session: Session, credit_id: int) -> bool:
    return bool(session.scalar(select(exists().where(ManualCredit.credit_id == credit_id))))


def unit_name(session: Session, org_id: int | None) -> str:
    org = session.get(Org, org_id) if org_id else None
    return org.name if org else ""


__all__ = [
    "Entry",
    "EntryError",
    "Filters",
    "UploadError",
    "attachment_in_scope",
    "categories",
    "closes_on",
    "create_by_unit",
    "create_own",
    "is_closed",
    "manual_standards",
    "max_credits",
    "own_select",
    "pending_page",
    "pending_select",
    "review",
    "standard_unit",
    "submit_own",
    "update_own",
    "validate",
]
