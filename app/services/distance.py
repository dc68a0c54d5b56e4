"""Distance education (远程继续医学教育, issue 16 item 11), seed 002:

一 4 "各远程继续医学教育机构 … 须及时向市继教办备案远程继续医学教育项目" — the institution files its projects;
二 4 "须提前向市继教办备案并提交远程继续医学教育项目课程安排，经市级继教办审核批准后方可举办。项目结束后及时
提交学习记录、学员信息及考核资料，经市级审核后授予相应学分，不得直接向学员授予学分" — the city approves the
filing; the institution uploads study records (Excel, all or nothing); the city reviews the upload;
三 4 "远程机构负责定期将学员学习情况反馈至市继教办，经市级审核后，系统统一授予学分" — a passed upload is
granted by the system through the credit engine (services/credit_rules.py with the region's rule set).

Every state change is a guarded UPDATE (workflow.guarded_set): two reviewers deciding at once, one wins.
Scope: the institution's rows carry its ``institution_id``; Scope("institution", org) sees only them.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Credit, CreditStandard, Org, Person
from app.models.distance import DistanceProject, DistanceRecord, DistanceUpload
from app.services import credit_rules, workflow
from app.services.errors import DomainError
from app.services.people_import import ImportResult, RowError
from app.services.rule_sets import PROJECT, active_rule_set
from app.services.scope import Scope
from app.services.sheets import read_rows as read_sheet

SOURCE = "distance"
COLUMNS = ["IC卡号", "姓名", "学习学时", "完成日期", "考核结果"]
RESULTS = ("合格", "不合格")
NOTES = [
    "每行一名学员的一条学习记录；IC卡号须为本系统中已有的学员，姓名须与IC卡号一致。",
    "学习学时：大于0的数字，不超过项目学时；完成日期：年-月-日，须在项目举办日期内。",
    "考核结果：合格 或 不合格；只有考核合格的学员在市级审核通过后授予学分。",
    "同一学员在同一项目中只能上传一次；任一行有错误时整个文件都不导入，请按错误报告修改后重新上传。",
]


class DistanceError(DomainError):
    """A refused distance-education action; message id in Chinese."""


class DistanceForbidden(DistanceError):
    status = 403


class DistanceConflict(DistanceError):
    status = 409


# ------------------------------------------------------------------------------------ projects
FIELDS = {"code": ("项目编号", 64), "name": ("项目名称", 256), "category": ("学分类别", 64),
          "courses": ("课程安排", 1024)}


def categories(session: Session, region: str, today: datetime.date) -> list[str]:
    """学分类别 a distance project may carry: those of the region's project-import standards in force
    (the credit engine grants the upload with that standard)."""
    rule_set = active_rule_set(session, region, today)
    if rule_set is None:
        return []
    return sorted({s.category for s in rule_set.standards if s.kind == "imported" and s.active
                   and s.activity_type == PROJECT})


def _decimal(raw: Any, label: str, errors: list[str], top: Decimal) -> Decimal | None:
    text = str(raw if raw is not None else "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors.append(f"{label}必须是数字")
        return None
    if not value.is_finite() or value <= 0 or value > top or value != value.quantize(Decimal("0.01")):
        errors.append(f"{label}必须是大于0且不超过{top}的数字（最多两位小数）")
        return None
    return value


def _date(raw: Any, label: str, errors: list[str]) -> datetime.date | None:
    text = str(raw or "").strip()
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label}格式不正确，应为 年-月-日" if text else f"请填写{label}")
        return None


def file_project(session: Session, scope: Scope, user: Any, form: Mapping[str, Any], *, region: str,
                 today: datetime.date | None = None) -> DistanceProject:
    """备案: the institution files a distance project (待审核). Every problem in one message."""
    today = today or datetime.date.today()
    if scope.level != "institution" or not scope.org_id:
        raise DistanceError("只有远程继续医学教育机构可以备案远程教育项目")
    errors: list[str] = []
    values: dict[str, str] = {}
    for name, (label, size) in FIELDS.items():
        text = str(form.get(name) or "").strip()
        if not text and name != "courses":
            errors.append(f"请填写{label}")
        elif len(text) > size:
            errors.append(f"{label}不能超过{size}个字")
        values[name] = text
    allowed = categories(session, region, today)
    if values["category"] and values["category"] not in allowed:
        errors.append(f"学分类别须为当前授分规则中的项目导入类别：{'、'.join(allowed) or '（无）'}")
    credits = _decimal(form.get("credits"), "项目学分", errors, Decimal(25))
    hours = _decimal(form.get("hours"), "学时", errors, Decimal(1000))
    starts, ends = _date(form.get("starts_on"), "开始日期", errors), _date(form.get("ends_on"), "结束日期", errors)
    if starts and ends and starts > ends:
        errors.append("开始日期不能晚于结束日期")
    if values["code"] and session.scalar(select(DistanceProject.id).where(
            DistanceProject.institution_id == scope.org_id, DistanceProject.code == values["code"])):
        errors.append(f"项目编号“{values['code']}”已备案")
    if errors:
        raise DistanceError("；".join(errors))
    project = DistanceProject(institution_id=scope.org_id, code=values["code"], name=values["name"],
                              year=starts.year, category=values["category"], credits=credits, hours=hours,
                              starts_on=starts, ends_on=ends, courses=values["courses"] or None,
                              status="pending", created_by_fk=getattr(user, "id", None))
    session.add(project)
    session.flush()
    return project


def _decide(session: Session, obj: Any, passed: bool, reason: str | None, target: str,
            now: datetime.datetime, **also: Any) -> None:
    """pending → target / rejected by one guarded UPDATE (two reviewers at once: one wins)."""
    reason = (reason or "").strip()
    if not passed and not reason:
        raise DistanceError("请填写不通过原因")
    if len(reason) > 500:
        raise DistanceError("原因不能超过500个字")
    try:
        workflow.guarded_set(session, obj, "pending", target if passed else "rejected",
                             reason=None if passed else reason, reviewed_at=now, **also)
    except workflow.TransitionConflict:
        raise DistanceConflict("操作未执行：该记录已由他人先审核，请刷新页面查看") from None


def review_project(session: Session, scope: Scope, project: DistanceProject, passed: bool,
                   reason: str | None = None, now: datetime.datetime | None = None) -> DistanceProject:
    """The city approves (已批准) or rejects (不通过, with a reason) a pending filing."""
    if not scope.is_all:
        raise DistanceForbidden("只有市继教办可以审核远程教育项目备案")
    if project.status != "pending":
        raise DistanceConflict("该项目备案已审核，不能重复审核")
    _decide(session, project, passed, reason, "approved", now or datetime.datetime.now())
    return project


def delete_project(session: Session, scope: Scope, project: DistanceProject) -> None:
    """A filing may be withdrawn while it waits for the city and has no upload."""
    if not scope.allows(project):
        raise DistanceForbidden("无权删除该项目")
    if project.status != "pending" or session.scalar(
            select(DistanceUpload.id).where(DistanceUpload.project_id == project.id).limit(1)):
        raise DistanceConflict("只能删除待审核且没有学习记录的项目备案")
    session.delete(project)


# ------------------------------------------------------------------------------------ uploads
def read_rows(path: str) -> Iterable[tuple[int, dict]]:
    return read_sheet(path, COLUMNS)


def uploadable(session: Session, scope: Scope, project_id: int) -> DistanceProject:
    project = session.scalar(scope.filter(select(DistanceProject).where(DistanceProject.id == project_id),
                                          DistanceProject))
    if project is None:
        raise DistanceForbidden("项目不存在或不在您的管理范围内")
    if project.status != "approved":
        raise DistanceConflict("项目备案经市级审核批准后才能上传学习记录")
    return project


def validate(session: Session, project: DistanceProject, rows: list[tuple[int, dict]],  # noqa: C901
             progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check every row; rows are (Excel row, {column: text}). The result's rows are ready to write."""
    result = ImportResult()
    cards = {r["IC卡号"] for _, r in rows if r["IC卡号"]}
    people: dict[str, Person] = {}
    card_list = sorted(cards)
    for start in range(0, len(card_list), 500):
        for p in session.scalars(select(Person).where(Person.card_no.in_(card_list[start:start + 500]))):
            people[p.card_no] = p
    already = set(session.scalars(select(DistanceRecord.person_id).join(DistanceUpload).where(
        DistanceUpload.project_id == project.id, DistanceUpload.status != "rejected")))
    seen: dict[str, int] = {}
    for done, (number, row) in enumerate(rows, start=1):
        errors: list[RowError] = []
        card = row["IC卡号"]
        person = people.get(card)
        if not card:
            errors.append(RowError(number, "IC卡号", "IC卡号不能为空"))
        elif person is None:
            errors.append(RowError(number, "IC卡号", f"IC卡号“{card}”不存在"))
        elif card in seen:
            errors.append(RowError(number, "IC卡号", f"IC卡号与第{seen[card]}行重复"))
        elif person.id in already:
            errors.append(RowError(number, "IC卡号", "该学员在本项目中已上传过学习记录"))
        else:
            seen[card] = number
            if row["姓名"] != person.name:
                errors.append(RowError(number, "姓名", f"姓名“{row['姓名']}”与IC卡号对应的学员“{person.name}”不一致"))
        hours = None
        try:
            hours = Decimal(row["学习学时"])
            if not hours.is_finite() or hours <= 0 or hours > project.hours:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(RowError(number, "学习学时", f"学习学时必须是大于0且不超过项目学时{project.hours:f}的数字"))
        day = None
        try:
            day = datetime.date.fromisoformat(row["完成日期"][:10])
        except ValueError:
            errors.append(RowError(number, "完成日期", "完成日期格式不正确，应为 年-月-日"))
        if day is not None and not project.starts_on <= day <= project.ends_on:
            errors.append(RowError(number, "完成日期",
                                   f"完成日期须在项目举办日期{project.starts_on}至{project.ends_on}内"))
        if row["考核结果"] not in RESULTS:
            errors.append(RowError(number, "考核结果", "考核结果只能是“合格”或“不合格”"))
        if errors:
            result.errors.extend(errors)
        else:
            result.rows.append({"row": number, "person_id": person.id, "hours": hours, "completed_on": day,
                                "result": row["考核结果"]})
        if progress and done % 200 == 0:
            progress(done)
    return result


def write(session: Session, project: DistanceProject, rows: list[dict], user_id: int | None,
          filename: str | None) -> DistanceUpload:
    """One upload (待市级审核) with its records."""
    upload = DistanceUpload(project_id=project.id, institution_id=project.institution_id, filename=filename,
                            rows=len(rows), status="pending", credited=0, uploaded_by_fk=user_id)
    upload.records = [DistanceRecord(**r) for r in rows]
    session.add(upload)
    session.flush()
    return upload


def _standard(session: Session, project: DistanceProject, region: str, day: datetime.date) -> CreditStandard:
    rule_set = active_rule_set(session, region, day)
    std = None
    if rule_set is not None:
        std = next((s for s in rule_set.standards if s.kind == "imported" and s.active
                    and s.activity_type == PROJECT and s.category == project.category), None)
    if std is None:
        raise DistanceError("%(region)s在%(day)s没有学分类别为“%(category)s”的项目导入授分标准，不能授分",
                            region=region, day=day.isoformat(), category=project.category)
    return std


def review_upload(session: Session, scope: Scope, user: Any, upload: DistanceUpload, passed: bool,
                  reason: str | None = None, *, region: str, now: datetime.datetime | None = None) -> int:
    """The city passes an upload (its 合格 learners are granted through the credit engine, status
    市级审核通过, source 远程教育) or rejects it with a reason. Returns the number of credits written."""
    if not scope.is_all:
        raise DistanceForbidden("只有市继教办可以审核远程教育学习记录")
    if upload.status != "pending":
        raise DistanceConflict("该批学习记录已审核，不能重复审核")
    now = now or datetime.datetime.now()
    project = upload.project
    std = _standard(session, project, region, project.ends_on) if passed else None
    _decide(session, upload, passed, reason, "granted", now, reviewed_by=getattr(user, "username", None))
    if not passed:
        return 0
    comp = credit_rules.compute_standard(std, {"project_credits": project.credits})
    institution = session.get(Org, project.institution_id)
    written = 0
    for rec in upload.records:
        if rec.result != "合格":
            continue
        person = rec.person
        credit = Credit(person_id=person.id, district_id=person.district_id, institution_id=person.institution_id,
                        department_id=person.department_id, rule_set_id=std.rule_set_id, standard_id=std.id,
                        activity_type=PROJECT, project_no=project.code, content=project.name[:256],
                        granted_on=rec.completed_on, category=std.category,
                        credit_class=comp.credit_class or std.credit_class, credits=comp.credits, hours=rec.hours,
                        amount=rec.hours, grantor_org_id=project.institution_id,
                        grantor_name=institution.name if institution else None, uploaded_at=now, source=SOURCE,
                        status="city_approved", remark=f"远程教育学习记录（第{upload.id}批）经市级审核授分")
        session.add(credit)
        session.flush()
        rec.credit_id = credit.id
        written += 1
    upload.credited = written
    return written


def counts(session: Session, scope: Scope) -> dict[str, int]:
    """Uploads by status inside ``scope`` (the list's header figures)."""
    rows = session.execute(scope.filter(select(DistanceUpload.status, func.count()).group_by(
        DistanceUpload.status), DistanceUpload)).all()
    return {status: n for status, n in rows}
