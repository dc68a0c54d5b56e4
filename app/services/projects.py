"""CME projects and topics (ICME-4) and the seed 002 flags; granting attendance as credits (ICME-5).

Seed 002 二 2: "经批准的项目应至少提前 5个工作日在继续医学管理系统（ICME）提交举办申请，各项目授予学分人数上下
浮动不得超过计划人数的 20%"; 二 3: "市级继续教育项目在项目结束一周内将参培人员数据上传 ICME系统". The numbers
are the parameters holding_apply_workdays, planned_count_tolerance and attendance_upload_days; holidays
are rows of cme_holiday. Credits come from services/credit_rules.py with the rule set's standards.
"""
from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.i18n import _mark
from app.models import CreditStandard, Org, Parameter, Person, RuleSet
from app.models.credits import Credit
from app.models.projects import CheckIn, Holiday, Project, ProjectCatalog, Topic
from app.services import counting, credit_records, credit_rules, upsert
from app.services.errors import DomainError
from app.services.numbers import plain
from app.services.rule_sets import PROJECT, active_rule_set, policy_params

# 学分类别 → (attendee standard, lecturer standard) by name in the region's rule set (seed 003 授分标准修改).
# 外地 / 许可发 projects are "申报项目导入 / 许可发项目导入": attendees get the project's credits.
# 重点监控项目 are city projects under close monitoring; the seed names no standard of their own, so they
# are credited as 市级 projects.
CATEGORY_STANDARDS: dict[str, tuple[str, str | None, str]] = {
    "国家级继续医学教育项目": ("参加国家级继续医学教育项目", "国家级继续医学教育项目主讲人授分", "国家级继续医学教育项目"),
    "市级继续医学教育项目": ("参加市级继续医学教育项目", "市级继续医学教育项目主讲人授分", "市级继续医学教育项目"),
    "区级继续医学教育项目": ("参加区级继续医学教育项目", "区级继续医学教育项目主讲人授分", "区级继续医学教育项目"),
    "外地国家级继续医学教育项目": ("参加外地国家级继续医学教育项目", None, "国家级继续医学教育项目"),
    "外地省市级继续医学教育项目": ("参加外地市级继续医学教育项目", None, "市级继续医学教育项目"),
    "北京市许可发证书项目": ("北京市继教委许可发证书项目", None, "北京市继教委许可发证书项目"),
    "重点监控项目": ("参加市级继续医学教育项目", "市级继续医学教育项目主讲人授分", "市级继续医学教育项目"),
}
DEFAULTS = {"holding_apply_workdays": 5, "planned_count_tolerance": 20, "attendance_upload_days": 7}


class ProjectError(DomainError):
    """A refused project action: a Chinese message id with named parameters (issue 14)."""


def say(message: str, **params) -> str:
    """A notice (flag text, skipped topic) translated and filled in like a refusal's message."""
    return str(DomainError(message, **params))


def parameter(session: Session, key: str) -> int:
    """An integer system parameter of this area (seeded in seed_data.PARAMETERS)."""
    value = session.scalar(select(Parameter.value).where(Parameter.key == key))
    try:
        return int(float(value)) if value not in (None, "") else DEFAULTS[key]
    except ValueError:
        return DEFAULTS[key]


# ------------------------------------------------------------------------------------- working days
def holiday_map(session: Session, start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    """day → workday flag of the holiday rows between two dates (one query)."""
    return {h.day: h.workday for h in session.scalars(select(Holiday).where(Holiday.day >= start,
                                                                             Holiday.day <= end))}


def is_workday(day: datetime.date, holidays: dict[datetime.date, bool]) -> bool:
    if day in holidays:
        return holidays[day]  # a holiday (False) or a worked weekend day (调休, True)
    return day.weekday() < 5


def workdays_between(session: Session, applied: datetime.date, start: datetime.date) -> int:
    """Working days after the application day up to and including the start day: filed on Monday for a
    project starting the next Monday gives 5 (Tue–Fri and Mon), i.e. "提前5个工作日"."""
    if start <= applied:
        return 0
    holidays = holiday_map(session, applied, start)
    days = (start - applied).days
    return sum(1 for i in range(1, days + 1) if is_workday(applied + datetime.timedelta(days=i), holidays))


# ------------------------------------------------------------------------------------- catalogue
def adopt(session: Session, catalog: ProjectCatalog, institution: Org) -> Project:
    """添加此项目: copy a catalogue project into the unit's own projects (once per unit)."""
    if institution is None or institution.kind != "institution":
        raise ProjectError("只有医疗机构账号可以添加继教项目")
    taken = session.scalar(select(Project.id).where(Project.institution_id == institution.id,
                                                    Project.catalog_id == catalog.id))
    if taken is not None:
        raise ProjectError("项目%(no)s已添加，不能重复添加", no=catalog.approval_no)
    # INSERT … ON CONFLICT (institution_id, catalog_id) DO NOTHING: two clicks at once add it once.
    if not upsert.insert_ignore(session, Project, {
            "catalog_id": catalog.id, "institution_id": institution.id, "district_id": institution.district_id,
            "approval_no": catalog.approval_no, "name": catalog.name, "category": catalog.category,
            "subject": catalog.subject, "credits": catalog.credits, "hours": catalog.hours, "year": catalog.year,
            "organizer": catalog.organizer, "planned_count": catalog.planned_count},
            ["institution_id", "catalog_id"]):
        raise ProjectError("项目%(no)s已添加（他人刚刚添加），不能重复添加", no=catalog.approval_no)
    return session.scalars(select(Project).where(Project.institution_id == institution.id,
                                                 Project.catalog_id == catalog.id)).one()


def check_details(project: Project) -> None:
    """The unit's details: 讲授时间 in order and inside the project's year window."""
    if project.starts_on and project.ends_on and project.starts_on > project.ends_on:
        raise ProjectError("讲授时间的开始日期不能晚于结束日期")
    if project.applied_on and project.starts_on is None:
        raise ProjectError("提交举办申请前请先填写讲授时间")


# ------------------------------------------------------------------------------------- topics
def new_token() -> str:
    return secrets.token_urlsafe(18)


def check_topic(session: Session, topic: Topic) -> None:
    """A topic's own fields and the project limits: Σ topic credits ≤ project credits, Σ hours ≤ hours."""
    project = topic.project if topic.project is not None else session.get(Project, topic.project_id)
    if project is None:
        raise ProjectError("请选择所属继教项目")
    if topic.credits is None or Decimal(str(topic.credits)) <= 0:
        raise ProjectError("课题学分必须大于0")
    if topic.hours is None or Decimal(str(topic.hours)) <= 0:
        raise ProjectError("课题学时必须大于0")
    if topic.starts_at is None or topic.ends_at is None or topic.starts_at >= topic.ends_at:
        raise ProjectError("授课时间的结束时间必须晚于开始时间")
    if (topic.signin_from is None) != (topic.signin_to is None):
        raise ProjectError("签到开始时间和结束时间须同时填写")
    if topic.signin_from is not None and topic.signin_from >= topic.signin_to:
        raise ProjectError("签到结束时间必须晚于签到开始时间")
    if project.starts_on and project.ends_on and not (
            project.starts_on <= topic.starts_at.date() <= project.ends_on):
        raise ProjectError("授课时间须在项目讲授时间%(start)s至%(end)s之内", start=project.starts_on,
                           end=project.ends_on)
    others = select(func.coalesce(func.sum(Topic.credits), 0), func.coalesce(func.sum(Topic.hours), 0)).where(
        Topic.project_id == project.id)
    if topic.id is not None:
        others = others.where(Topic.id != topic.id)
    credits, hours = session.execute(others).one()
    total_credits = Decimal(str(credits)) + Decimal(str(topic.credits))
    total_hours = Decimal(str(hours)) + Decimal(str(topic.hours))
    if total_credits > Decimal(str(project.credits)):
        raise ProjectError("课题学分合计%(total)s分，超过项目总学分%(limit)s分", total=_n(total_credits),
                           limit=_n(project.credits))
    if total_hours > Decimal(str(project.hours)):
        raise ProjectError("课题学时合计%(total)s小时，超过项目总学时%(limit)s小时", total=_n(total_hours),
                           limit=_n(project.hours))
    topic.institution_id = project.institution_id
    topic.district_id = project.district_id
    if not topic.qr_token:
        topic.qr_token = new_token()


_n = plain


def signin_window(topic: Topic) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The QR sign-in window of a topic: its own (课程微信签到时间设置), else its project's
    (项目微信签到时间设置, seed 003), else none (no QR sign-in)."""
    if topic.signin_from is not None and topic.signin_to is not None:
        return topic.signin_from, topic.signin_to
    project = topic.project
    if project is not None and project.signin_from is not None and project.signin_to is not None:
        return project.signin_from, project.signin_to
    return None


def in_window(topic: Topic, now: datetime.datetime) -> bool:
    window = signin_window(topic)
    return window is not None and window[0] <= now <= window[1]


def set_project_window(project: Project, start: datetime.datetime | None, end: datetime.datetime | None) -> None:
    """项目微信签到时间设置: both times or neither; the window inside the project's teaching days."""
    if (start is None) != (end is None):
        raise ProjectError("签到开始时间和结束时间须同时填写")
    if start is not None and start >= end:
        raise ProjectError("签到结束时间必须晚于签到开始时间")
    if start is not None and project.starts_on and project.ends_on and not (
            project.starts_on - datetime.timedelta(days=1) <= start.date() and end.date() <= project.ends_on):
        raise ProjectError("项目签到时间须在项目讲授时间%(start)s至%(end)s之内", start=project.starts_on,
                           end=project.ends_on)
    project.signin_from, project.signin_to = start, end


# ------------------------------------------------------------------------------------- flags
@dataclass
class Flags:
    apply_late: bool
    count_out_of_range: bool
    upload_late: bool
    duplicates: int
    credited: int
    low: int
    high: int
    workdays: int | None

    def messages(self, project: Project, session: Session) -> list[str]:
        out = []
        if self.apply_late:
            out.append(say(_mark("举办申请于%(applied)s提交，距开始日期%(start)s仅%(n)s个工作日，少于规定的%(m)s个工作日"),
                           applied=project.applied_on, start=project.starts_on, n=self.workdays,
                           m=parameter(session, "holding_apply_workdays")))
        if self.count_out_of_range:
            out.append(say(_mark("授分人数%(n)s人，超出计划人数%(planned)s人上下%(tolerance)s%%（%(low)s–%(high)s人）"),
                           n=self.credited, planned=project.planned_count,
                           tolerance=parameter(session, "planned_count_tolerance"), low=self.low, high=self.high))
        if self.upload_late:
            out.append(say(_mark("刷卡数据于%(day)s上传，晚于项目结束后%(n)s天"),
                           day=f"{project.last_upload_at:%Y-%m-%d}", n=parameter(session, "attendance_upload_days")))
        if self.duplicates:
            out.append(say(_mark("重复签到/刷卡%(n)s次（同一人同一课题只计一次，重复记录不授分）"), n=self.duplicates))
        return out


def count_range(planned: int, tolerance: int) -> tuple[int, int]:
    """Planned ± tolerance %, as whole persons: 100 ± 20 % → 80–120."""
    low = (Decimal(planned) * (100 - tolerance) / 100).to_integral_value(rounding="ROUND_CEILING")
    high = (Decimal(planned) * (100 + tolerance) / 100).to_integral_value(rounding="ROUND_FLOOR")
    return int(low), int(high)


def upload_is_late(session: Session, project: Project, uploaded: datetime.datetime) -> bool:
    return project.ends_on is not None and uploaded.date() > project.ends_on + datetime.timedelta(
        days=parameter(session, "attendance_upload_days"))


def refresh_flags(session: Session, project: Project) -> Flags:
    """Recompute and store the project's flags (one query per count)."""
    session.flush()
    workdays = None
    apply_late = False
    if project.applied_on and project.starts_on:
        workdays = workdays_between(session, project.applied_on, project.starts_on)
        apply_late = workdays < parameter(session, "holding_apply_workdays")
    credited = session.scalar(select(func.count(func.distinct(CheckIn.person_id))).where(
        CheckIn.project_id == project.id, CheckIn.credited.is_(True))) or 0
    duplicates = session.scalar(select(func.count(CheckIn.id)).where(
        CheckIn.project_id == project.id, CheckIn.duplicate.is_(True))) or 0
    low, high = count_range(project.planned_count, parameter(session, "planned_count_tolerance"))
    out_of_range = project.granted_at is not None and not (low <= credited <= high)
    upload_late = project.last_upload_at is not None and upload_is_late(session, project, project.last_upload_at)
    project.apply_late, project.count_out_of_range, project.upload_late = apply_late, out_of_range, upload_late
    project.duplicate_count, project.credited_count = duplicates, credited
    project.flagged = bool(apply_late or out_of_range or upload_late or duplicates)
    return Flags(apply_late, out_of_range, upload_late, duplicates, credited, low, high, workdays)


def file_application(session: Session, project: Project, applied_on: datetime.date) -> Flags:
    """举办申请: record its date; flagged when fewer than 5 working days before the start."""
    if project.starts_on is None:
        raise ProjectError("提交举办申请前请先填写讲授时间")
    if project.applied_on is not None:
        raise ProjectError("已于%(day)s提交举办申请", day=project.applied_on)
    project.applied_on = applied_on
    return refresh_flags(session, project)


# ------------------------------------------------------------------------------------- grant
@dataclass
class GrantReport:
    attendees: int = 0
    lecturers: int = 0
    credits: Decimal = Decimal(0)
    skipped: list[str] = field(default_factory=list)


def project_rule_set(session: Session, project: Project) -> RuleSet:
    from app.services.activities import region, wizard_rule_set

    day = project.ends_on or project.starts_on or datetime.date.today()
    rule_set = active_rule_set(session, region(session), day) or wizard_rule_set(session)
    if rule_set is None:
        raise ProjectError("没有在项目日期生效的授分规则集，请联系市继教办")
    return rule_set


def standards_for(session: Session, rule_set: RuleSet, category: str) -> tuple[CreditStandard, CreditStandard | None]:
    """The attendee and lecturer standards of a project category in a rule set: by the seed's names,
    else by credit category (another region's rule set, e.g. Xuzhou's 刷卡授予，按项目学分)."""
    if category not in CATEGORY_STANDARDS:
        raise ProjectError("学分类别“%(category)s”没有适用的授分标准", category=category)
    attend_name, lecturer_name, credit_category = CATEGORY_STANDARDS[category]
    rows = list(session.scalars(select(CreditStandard).where(
        CreditStandard.rule_set_id == rule_set.id, CreditStandard.activity_type == PROJECT,
        CreditStandard.active.is_(True)).order_by(CreditStandard.seq)))
    by_name = {s.name: s for s in rows}
    attend = by_name.get(attend_name) or next(
        (s for s in rows if s.category == credit_category and not (s.params or {}).get("lecturer")), None)
    if attend is None:
        raise ProjectError("规则集“%(rule_set)s”中没有“%(category)s”参加者的授分标准", rule_set=rule_set.name,
                           category=category)
    lecturer = by_name.get(lecturer_name) if lecturer_name else None
    if lecturer is None and lecturer_name:
        lecturer = next((s for s in rows if s.category == credit_category and (s.params or {}).get("lecturer")),
                        None)
    return attend, lecturer


CREDIT_SOURCE = {"card": "card", "qr": "qr", "manual": "unit"}


def grant(session: Session, project: Project, operator: str | None = None) -> GrantReport:  # noqa: C901
    """Grant every counted, not yet credited check-in of the project, and each topic's lecturer, in the
    caller's transaction: one computation per topic, one bulk insert, one update per topic.

    Attendees of an ordinary project get each topic's credits from its hours (参加…项目: 每3小时1分,
    上限10分); attendees of an imported project (申报项目导入 / 许可发项目导入) get the project's credits once;
    the lecturer gets the lecturer standard (每1小时2分, 上限10分, never more than the project's credits)."""
    # Two organizers pressing 授分 at once must not both credit the same check-ins: the project row is
    # locked for the transaction (PostgreSQL; SQLite serialises writers anyway).
    session.refresh(project, with_for_update=True)
    session.scalars(select(Topic).where(Topic.project_id == project.id)
                    .execution_options(populate_existing=True)).all()  # fresh lecturer_credited flags
    if not project.topics:
        raise ProjectError("项目还没有课题，不能授分")
    rule_set = project_rule_set(session, project)
    attend, lecturer_std = standards_for(session, rule_set, project.category)
    imported = attend.kind == "imported"
    institution = session.get(Org, project.institution_id)
    report = GrantReport()
    now = datetime.datetime.now()

    def base_row(std: CreditStandard, comp: credit_rules.Computation, content: str, day: datetime.date,
                 hours) -> dict:
        return {"rule_set_id": rule_set.id, "standard_id": std.id, "activity_type": PROJECT,
                "project_no": project.approval_no, "content": content[:256], "granted_on": day,
                "category": std.category, "credit_class": comp.credit_class or std.credit_class,
                "subject": project.subject, "credits": comp.credits, "hours": hours, "amount": hours,
                "grantor_org_id": project.institution_id, "grantor_name": institution.name if institution else None,
                "uploaded_at": now, "status": "unit_approved"}

    pending = session.execute(
        select(CheckIn.id, CheckIn.topic_id, CheckIn.person_id, CheckIn.source, Person.district_id,
               Person.institution_id, Person.department_id)
        .join(Person, Person.id == CheckIn.person_id)
        .where(CheckIn.project_id == project.id, CheckIn.duplicate.is_(False), CheckIn.credited.is_(False))
        .order_by(CheckIn.checked_at, CheckIn.id)).all()
    topics = {t.id: t for t in project.topics}
    credit_rows: list[dict] = []
    credited_ids: dict[Decimal, list[int]] = {}  # credits given → check-in ids
    if imported:
        already = set(session.scalars(select(CheckIn.person_id).where(
            CheckIn.project_id == project.id, CheckIn.credited.is_(True))))
        comp = credit_rules.compute_standard(attend, {"project_credits": project.credits})
        first_day = min(t.starts_at for t in project.topics).date()
        for row in pending:
            if row.person_id in already:
                credited_ids.setdefault(Decimal(0), []).append(row.id)
                continue  # one project credit per person, whatever the number of topics
            already.add(row.person_id)
            credited_ids.setdefault(comp.credits, []).append(row.id)
            credit_rows.append({**base_row(attend, comp, project.name, first_day, project.hours),
                                "person_id": row.person_id, "district_id": row.district_id,
                                "institution_id": row.institution_id, "department_id": row.department_id,
                                # Seed 002 三 3: a swipe / QR grant the policy sends to the city keeps its source.
                                "source": counting.grant_source(policy_params(rule_set), row.source, "project_import"),
                                "remark": "按项目学分导入"})
    else:
        computed: dict[int, credit_rules.Computation | None] = {}
        for topic in project.topics:
            try:
                comp = credit_rules.compute_standard(attend, {"amount": topic.hours,
                                                              "project_credits": project.credits})
                computed[topic.id] = comp if comp.grantable else None
            except credit_rules.RuleError as exc:
                computed[topic.id] = None
                report.skipped.append(say(_mark("课题%(code)s：%(reason)s"), code=topic.code, reason=str(exc)))
                continue
            if computed[topic.id] is None:
                report.skipped.append(say(_mark("课题%(code)s（%(hours)s小时）按“%(rule)s”不足一个完整单位，不能授分"),
                                          code=topic.code, hours=_n(topic.hours), rule=attend.rule_text))
        for row in pending:
            comp = computed.get(row.topic_id)
            if comp is None:
                continue
            topic = topics[row.topic_id]
            credited_ids.setdefault(comp.credits, []).append(row.id)
            credit_rows.append({**base_row(attend, comp, f"{project.name}：{topic.name}", topic.starts_at.date(),
                                           topic.hours),
                                "person_id": row.person_id, "district_id": row.district_id,
                                "institution_id": row.institution_id, "department_id": row.department_id,
                                "source": CREDIT_SOURCE.get(row.source, "unit"),
                                "remark": f"课题{topic.code}"})
    report.attendees = len(credit_rows)
    # Lecturers (seed 003 standards 1–3: 主讲人分数不能超过项目分数).
    lecturer_people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(
        [t.lecturer_person_id for t in project.topics if t.lecturer_person_id])))}
    lecturer_topics = []
    for topic in project.topics:
        if topic.lecturer_credited:
            continue
        if lecturer_std is None:
            continue
        person = lecturer_people.get(topic.lecturer_person_id)
        if person is None:
            report.skipped.append(say(_mark("课题%(code)s未选择主讲教师对应的学员（IC卡号），主讲人学分未授予"),
                                      code=topic.code))
            continue
        comp = credit_rules.compute_standard(lecturer_std, {"amount": topic.hours,
                                                            "project_credits": project.credits})
        if not comp.grantable:
            report.skipped.append(say(_mark("课题%(code)s主讲人：%(why)s"), code=topic.code, why=comp.explanation))
            continue
        credit_rows.append({**base_row(lecturer_std, comp, f"{project.name}：{topic.name}（主讲）",
                                       topic.starts_at.date(), topic.hours),
                            "person_id": person.id, "district_id": person.district_id,
                            "institution_id": person.institution_id, "department_id": person.department_id,
                            "source": "project_import", "remark": f"课题{topic.code}主讲人"})
        lecturer_topics.append(topic)
        report.lecturers += 1
    if not credit_rows:
        if report.skipped:
            raise ProjectError("没有可授分的签到记录：%(why)s", why="；".join(report.skipped))
        raise ProjectError("没有可授分的签到记录")
    for start in range(0, len(credit_rows), 1000):
        session.execute(insert(Credit), credit_rows[start:start + 1000])
    credit_records.note_credits(session, credit_rows)  # Core inserts: the commit recomputes these persons
    for value, ids in credited_ids.items():
        for start in range(0, len(ids), 1000):
            session.execute(update(CheckIn).where(CheckIn.id.in_(ids[start:start + 1000]),
                                                  CheckIn.credited.is_(False)).values(credited=True, credits=value))
    for topic in lecturer_topics:
        topic.lecturer_credited = True
    report.credits = sum((Decimal(str(r["credits"])) for r in credit_rows), Decimal(0))
    project.granted_at = now
    refresh_flags(session, project)
    return report


# ------------------------------------------------------------------------------------- lists
def attendees_query(project: Project):
    """Attendees of a project: one row per check-in (counted and duplicates) with the person, unit, topic,
    source and the credits the grant gave; one query (the page slices it, the export streams it)."""
    return (select(Person.card_no, Person.name, Org.name.label("institution"), Topic.code,
                   Topic.name.label("topic"), CheckIn.source, CheckIn.checked_at, CheckIn.reader_id,
                   CheckIn.duplicate, CheckIn.credited, CheckIn.credits)
            .join(Person, Person.id == CheckIn.person_id)
            .join(Topic, Topic.id == CheckIn.topic_id)
            .outerjoin(Org, Org.id == Person.institution_id)
            .where(CheckIn.project_id == project.id)
            .order_by(Topic.starts_at, CheckIn.checked_at, CheckIn.id))
