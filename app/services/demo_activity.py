"""Demo activity: what a newcomer clicks through after ``flask cme demo`` (rules, credits, review chain,
projects, supervision, audit) on top of the demo city of services/demo.py.

Every record goes through its own area's service, as the pages would create it:

* rule sets — Beijing 2025 copied to 2026 (rule_sets.copy_rule_set) and published (publish_rule_set),
  so today's wizard, manual entry and 达标计算 have a rule set in force;
* credits of the credit years 2025 and 2026 (window 11-01 … 10-31) — amounts computed by
  credit_rules.compute_standard once per activity, then written for the matching persons by one
  INSERT … SELECT per activity (set-based, whatever the size of the city); about half the persons
  reach the 25 a year, some by a full-year rule (进修 ≥ 3 months, 住院医师规范化培训), the others not;
* practice plans (practice.validate / log / review), the wizard (activities.start … submit), manual
  credits of the demo student in several states (manual_credits.create_own / review), the self-study
  delegation and forms (selfstudy.set_mode / save / grant / return_form);
* CME projects with topics, card-reader and QR attendance and grants (catalog_import, projects,
  checkin), one of them flagged;
* supervision filings in several states (supervision.apply), a venue whose site manager logs in by
  phone (supervision.save_manager), feedback photos of a past half day (photos.stamp);
* the 2026 audit cycle: institution draw, a sampling standard and its draw, the final list allocated
  to the demo expert, a few verdicts and results (audit, audit_sampling, audit_review);
* finally the stored compliance results of 2025 and 2026 (credit_records.recompute_scope).

Deterministic: fixed dates inside the credit years, fixed random seeds (draws, login code); the
supervision filing that is under way runs around the day the demo is built, so the phone pages always
have a current half day.
"""
from __future__ import annotations

import datetime
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, case, cast, func, insert, literal, select
from sqlalchemy.orm import Session, aliased

from app.models import Credit, CreditStandard, Org, Person, RuleSet
from app.services.scope import Scope

SEED = 2026
# Above this many persons (the 300,000-person benchmark) the demo builds the city and the logins only.
ACTIVITY_LIMIT = 50_000
SITE_PHONE = "13900001234"
# The day the demo's story is told on: hand entries of 2026 are made as of this day (the services take a
# ``today``), so a demo built after the 2026 entry deadline (credit_year_closes, 12-31) still has them.
DEMO_DAY = datetime.date(2026, 11, 29)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class DemoUsers:
    admin: Any
    district: Any
    hospital: Any
    secretary: Any
    expert: Any
    site: Any
    student: Any


@dataclass
class Summary:
    """What was built, for the command's output and the tests."""

    counts: dict[str, int] = field(default_factory=dict)
    site_code: str | None = None
    site_phone: str | None = None


class _Upload:
    """A file as the services take it from a form (``filename`` and ``stream``)."""

    def __init__(self, data: bytes, filename: str):
        self.filename = filename
        self.stream = io.BytesIO(data)


def pdf(name: str = "证明材料.pdf") -> _Upload:
    return _Upload(PDF, name)


def jpeg(taken: datetime.datetime, lat: float, lon: float, color: tuple[int, int, int]) -> bytes:
    """A small JPEG with the capture time and GPS position in its EXIF (what a phone sends)."""
    import piexif
    from PIL import Image

    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 100)
        return ((d, 1), (m, 1), (s, 100))

    exif = {"0th": {}, "Exif": {piexif.ExifIFD.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S").encode()},
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: dms(lat),
                    piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: dms(lon)}, "1st": {}}
    out = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(out, "JPEG", exif=piexif.dump(exif), quality=80)
    return out.getvalue()


# ------------------------------------------------------------------------------------ rule sets
def rule_set_2026(session: Session) -> RuleSet:
    """Beijing 2025 copied to 2026 and published (in force 2026-01-01 … 2026-12-31: it judges the credit
    year 2026, 2025-11-01 … 2026-10-31). Reuses a BJ2026 that exists already."""
    from app.services.rule_sets import copy_rule_set, publish_rule_set

    existing = session.scalar(select(RuleSet).where(RuleSet.code == "BJ2026"))
    if existing is not None:
        if existing.status == "draft":
            publish_rule_set(session, existing)
        return existing
    source = session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025"))
    new = copy_rule_set(session, source, 2026)
    publish_rule_set(session, new)
    session.flush()
    return new


def _standard(session: Session, rule_set: RuleSet, seq: int) -> CreditStandard:
    return session.scalar(select(CreditStandard).where(CreditStandard.rule_set_id == rule_set.id,
                                                       CreditStandard.seq == seq))


# ------------------------------------------------------------------------------------ bulk credits
@dataclass(frozen=True)
class Activity:
    """One activity many persons attended: a standard (by 序号), the engine's inputs, who got it."""

    seq: int
    inputs: dict
    content: list[str]  # variants, by person
    source: str
    low: int  # persons whose profile (0–99) is in [low, high) get it
    high: int
    project_no: str | None = None
    organizer: str | None = None  # None: the person's own institution grants it
    every: int = 1  # only persons with id % every == 0 (lecturers are few)


# Profiles (a person's number 0–99, drawn per year): < 55 reach 25 (10 + 4 + 5 + 6 + 3 = 28);
# 55–79 get 17 (+4 as a lecturer); 80–94 get 3; 95–97 进修满3个月 and 98–99 住院医师规范化培训 (full year).
ACTIVITIES = [
    Activity(15, {"amount": 30}, ["心血管疾病诊疗新进展学习班", "重症医学新进展高级研修班", "临床合理用药国家级培训班",
                                  "医院感染防控国家级研修班"], "card", 0, 80, "{year}-01-01-{k:03d} (国)", "中华医学会"),
    Activity(16, {"amount": 12}, ["急诊急救技能培训班", "慢病管理市级继续教育项目", "护理质量与安全管理培训"], "qr", 0, 80,
             "{year}-14-03-{k:03d} (京)", "北京医学会"),
    Activity(16, {"amount": 15}, ["医疗质量安全核心制度培训", "医学影像诊断进展研讨班"], "card", 0, 55,
             "{year}-14-05-{k:03d} (京)", "北京市继续医学教育委员会"),
    Activity(4, {"project_credits": 6}, ["外地国家级项目：全国基层医疗卫生适宜技术推广班", "外地国家级项目：肿瘤规范化诊疗培训班"],
             "project_import", 0, 55, "{year}-08-02-{k:03d} (国)", "中国医师协会"),
    Activity(17, {"amount": 9}, ["区级项目：医患沟通与人文关怀", "区级项目：传染病防控知识更新", "区级项目：院前急救规范"],
             "unit", 0, 95, "{year}-110-{k:03d}"),
    Activity(2, {"amount": 2, "project_credits": 4}, ["市级项目主讲：临床思维与病例分析"], "project_import", 0, 80,
             "{year}-14-07-{k:03d} (京)", "北京医学会", every=7),
    Activity(6, {"amount": 4}, ["北京协和医院进修学习（4个月）", "北京天坛医院进修学习（4个月）"], "unit", 95, 98),
    Activity(14, {}, ["住院医师规范化培训"], "unit", 98, 100),
]
SUBJECTS = ["内科学", "外科学", "护理学", "急诊医学", "全科医学", "医学影像学", "药学", "公共卫生"]


def _dates(start: datetime.date, end: datetime.date, offset: int, n: int = 12) -> list[datetime.date]:
    span = (end - start).days
    return [start + datetime.timedelta(days=(k * span // n + offset * 5) % (span + 1)) for k in range(n)]


def _variant(column, values: list):
    """CASE column % len(values) → values[k] (a literal per branch; portable SQL)."""
    if len(values) == 1:
        return literal(values[0])
    return case({k: literal(v) for k, v in enumerate(values)}, value=column % len(values))


def bulk_credits(session: Session, rule_sets: dict[int, RuleSet], person_filter=None) -> int:
    """The credits of ACTIVITIES for both credit years: amounts by the rules engine (once per activity),
    rows by one INSERT … SELECT per activity and year. Returns the number of rows written."""
    from app.services.compliance import window
    from app.services.credit_rules import compute_standard
    from app.services.rule_sets import policy_params

    inst = aliased(Org)
    written = 0
    for year, salt in ((2025, 7919), (2026, 104729)):
        rs = rule_sets[year]
        start, end = window(policy_params(rs), year)
        # id % 10007 first: the product stays inside a 32-bit integer whatever the id (PostgreSQL int4).
        profile = ((Person.id % 10007) * salt + year) % 100
        for idx, act in enumerate(ACTIVITIES):
            std = _standard(session, rs, act.seq)
            comp = compute_standard(std, act.inputs)
            days = _dates(start, end, idx)
            day = _variant(Person.id, days)
            uploaded = _variant(Person.id, [datetime.datetime.combine(d + datetime.timedelta(days=3),
                                                                      datetime.time(9, 30)) for d in days])
            numbers = [act.project_no.format(year=year, k=10 * idx + k + 1) for k in range(len(act.content))] \
                if act.project_no else [None]
            project_no = _variant(Person.id, numbers) if act.project_no else literal(None)
            granted_by = literal(act.organizer) if act.organizer else inst.name
            columns = {
                "person_id": Person.id, "district_id": Person.district_id, "institution_id": Person.institution_id,
                "department_id": Person.department_id, "rule_set_id": literal(rs.id), "standard_id": literal(std.id),
                "activity_type": literal(std.activity_type), "project_no": project_no,
                "content": _variant(Person.id, act.content), "granted_on": day, "category": literal(std.category),
                "credit_class": literal(comp.credit_class), "subject": _variant(Person.id, SUBJECTS),
                "credits": literal(comp.credits), "hours": literal(comp.hours), "months": literal(comp.months),
                "amount": literal(Decimal(str(act.inputs["amount"])) if "amount" in act.inputs else None),
                "remark": literal(comp.explanation[:256]),
                "grantor_org_id": literal(None, Integer) if act.organizer else inst.id,
                "grantor_name": granted_by, "uploaded_at": uploaded, "source": literal(act.source),
                "status": literal("unit_approved"),
                "certificate_no": (literal(f"ZS{year}") + cast(Person.id, String(32))) if act.project_no
                else literal(None)}
            query = (select(*columns.values()).select_from(Person).join(inst, inst.id == Person.institution_id)
                     .where(Person.active.is_(True), profile >= act.low, profile < act.high))
            if act.every > 1:
                query = query.where(Person.id % act.every == 0)
            if person_filter is not None:
                query = query.where(person_filter)
            result = session.execute(insert(Credit).from_select(list(columns), query))
            written += max(result.rowcount or 0, 0)
    return written


# ------------------------------------------------------------------------------------ the review chain
def practice_plans(session: Session, users: DemoUsers, institution: Org) -> tuple[Any, Any]:
    """An approved annual plan and a pending quarterly one of the demo hospital (practice.py)."""
    from app.models.practice import PracticePlan
    from app.services import attachments
    from app.services import practice as svc

    plans = []
    for name, plan_type, forms, remark in (
            ("2026年度教学查房与病例讨论计划", "年度计划", ["手术示范", "教学病例讨论", "多学科诊疗活动"], "全院各临床科室"),
            ("2026年第四季度新技术推广计划", "季度计划", ["新技术推广", "其他类型实操培训"], "")):
        clean = svc.validate(session, name, plan_type, forms, remark)
        plan = PracticePlan(institution_id=institution.id, district_id=institution.district_id, status="pending",
                            created_by_fk=users.hospital.id, **clean)
        session.add(plan)
        svc.log(plan, "提交", users.hospital)
        session.flush()
        attachments.store_bytes(PDF, "pdf", f"{name}.pdf", "practice_plan", plan.id, user_id=users.hospital.id)
        plans.append(plan)
    svc.review(plans[0], True, "", users.district)
    session.flush()
    return plans[0], plans[1]


def wizard(session: Session, users: DemoUsers, institution: Org, plan, scope: Scope) -> int:
    """Two grants through the three-step wizard (保存并提交) and one draft left open at step 3."""
    from app.services import activities as wz
    from app.services import attachments

    people = list(session.scalars(select(Person.id).where(Person.institution_id == institution.id)
                                  .order_by(Person.id).limit(30)))
    ctx = wz.Context(user_id=users.hospital.id, scope=scope, grantor=institution)
    made = 0
    for atype, seq, details, persons in (
            (wz.PRACTICE, 19, {"amount": "12", "hours": "12", "activity_form": "教学病例讨论", "subject": "内科学",
                               "activity_date": "2026-06-18", "content": "内科疑难病例多学科讨论（6次）",
                               "practice_plan_id": str(plan.id)}, people[:20]),
            (wz.GOV, 13, {"amount": "48", "hours": "48", "activity_form": "不足三个月学习时间", "subject": "急诊医学",
                          "activity_date": "2026-07-30", "content": "对口支援延庆区医院医疗任务（6天）"}, people[20:26])):
        draft = wz.start(session, users.hospital.id, atype)
        std = _standard(session, wz.wizard_rule_set(session), seq)
        wz.choose_standard(session, draft, std.id)
        wz.add_persons(session, draft, scope, persons)
        wz.save_details(draft, details)
        attachments.store_bytes(PDF, "pdf", "签到表及活动照片.pdf", "grant_draft", draft.id, user_id=users.hospital.id)
        session.flush()
        made += len(wz.submit(session, draft, ctx))
    # A draft the hospital left at step 3 (进修学习不满3个月), to pick up again under 可授学分的继续医学教育活动.
    draft = wz.start(session, users.hospital.id, wz.STUDY)
    wz.choose_standard(session, draft, _standard(session, wz.wizard_rule_set(session), 7).id)
    wz.add_persons(session, draft, scope, people[26:30])
    wz.save_details(draft, {"amount": "60", "hours": "60", "activity_form": "不足三个月学习时间", "subject": "外科学",
                            "content": "北京积水潭医院创伤骨科短期进修"})
    session.flush()
    return made


def manual_credits(session: Session, users: DemoUsers, scope: Scope) -> dict[str, int]:
    """The demo student's own entries: waiting for the unit, failed with a reason, a draft, and one the
    unit passed that the city passed too; plus entries of colleagues waiting for the unit / the city."""
    from app.services import manual_credits as mc

    student = users.student
    base = {"category": "国家级继续医学教育项目", "organizer": "中华医学会", "hours": "15", "credits": "5"}
    entries = [
        ("submitted", {"content": "全国心血管病防治新进展学习班", "project_no": "2026-01-03-112 (国)",
                       "certificate_no": "ZHYXH2026-0387", "granted_on": "2026-09-20"}),
        ("rejected", {"content": "中国医师协会急诊医学年会", "project_no": "2026-01-09-045 (国)",
                      "certificate_no": "YSXH2026-1132", "granted_on": "2026-05-16", "credits": "6", "hours": "18"}),
        ("draft", {"content": "老年医学多学科诊疗学习班", "project_no": "2026-02-11-007 (国)",
                   "certificate_no": "", "granted_on": "2026-10-12", "credits": "3", "hours": "9"}),
        ("city_approved", {"content": "华北地区呼吸疾病诊治进展研讨会", "project_no": "2026-01-05-088 (国)",
                           "certificate_no": "HBHX2026-0021", "granted_on": "2026-03-28", "credits": "4",
                           "hours": "12"}),
        ("unit_approved", {"content": "全国临床药学年会", "project_no": "2026-16-01-019 (国)",
                           "certificate_no": "LCYX2026-0764", "granted_on": "2026-08-08", "credits": "2",
                           "hours": "6", "category": "市级继续医学教育项目", "organizer": "中国药学会"}),
    ]
    states: dict[str, int] = {}
    made = {}
    for state, form in entries:
        values = {**base, **form}
        if state == "draft":
            values["certificate_no"] = "待补充"
        credit = mc.create_own(session, student, values, [] if state == "draft" else [pdf("电子学分证书.pdf")],
                               submit=state != "draft", today=DEMO_DAY)
        session.flush()
        made[state] = credit
    mc.review(session, users.hospital, scope, [made["rejected"].id], False,
              "证书编号与电子证书不一致，请核对后重新上传")
    mc.review(session, users.hospital, scope, [made["city_approved"].id, made["unit_approved"].id], True)
    mc.review(session, users.admin, Scope("all"), [made["city_approved"].id], True)
    session.flush()
    for credit in made.values():
        states[credit.status] = states.get(credit.status, 0) + 1
    return states


def colleague_entries(session: Session, users: DemoUsers, institution: Org, scope: Scope) -> int:
    """Entries the hospital made for its staff (单位录入): they wait for the city's review."""
    from app.services import manual_credits as mc

    people = list(session.scalars(select(Person).where(Person.institution_id == institution.id)
                                  .order_by(Person.id.desc()).limit(3)))
    for k, person in enumerate(people):
        mc.create_by_unit(session, users.hospital, scope, person.card_no, {
            "content": ["中华护理学会护理管理年会", "全国超声医学新技术学习班", "中国医院协会医院管理论坛"][k],
            "category": "国家级继续医学教育项目", "project_no": f"2026-15-0{k + 1}-020 (国)",
            "certificate_no": f"ZS2026-55{k:02d}", "organizer": "中华医学会", "credits": str(3 + k),
            "hours": str(9 + 3 * k), "granted_on": f"2026-0{k + 4}-2{k}"}, [pdf("电子学分证书.pdf")],
            today=DEMO_DAY)
    session.flush()
    return len(people)


def self_study(session: Session, users: DemoUsers, institution: Org, scope: Scope) -> dict[str, int]:
    """学员上传 for the student's department (set by the hospital); the student's submitted form; forms
    the hospital filled under 机构上传: one granted, one returned with a reason."""
    from app.services import selfstudy as ss

    student = session.get(Person, users.student.person_id)
    ss.set_mode(session, users.hospital, scope, [student.department_id], "person")
    session.flush()
    ss.save(session, users.student, student, 2026, {
        "s1_resident": "6", "s1_graduate": "2", "s1_remark": "带教住培学员及研究生",
        "s3_article_media": "健康时报", "s3_articles": "2", "s3_article_words": "4800",
        "s4_cn_papers": "1", "s4_cn_words": "6200", "s4_cn_a1": "1"},
        {"s1_plan": [pdf("教学计划.pdf")], "s4_cn": [pdf("论文首页.pdf")]}, submit=True)
    others = list(session.scalars(select(Person).where(
        Person.institution_id == institution.id, Person.department_id != student.department_id)
        .order_by(Person.id).limit(2)))
    out = {"submitted": 1}
    forms = []
    for k, person in enumerate(others):
        forms.append(ss.save(session, users.hospital, person, 2026, {
            "s2_pro": str(1 + k), "s2_pro_title": "主治医师晋升考试命题", "s6_level": "市、厅级",
            "s6_unit": "北京市科委首都特色临床研究", "s6_topic": "社区高血压管理模式研究", "s6_role": "编委"},
            {"s2_proof": [pdf("命题聘书.pdf")]}, submit=True))
    session.flush()
    if forms:
        ss.grant(session, users.hospital, scope, forms[0].id, "6")
        out["granted"] = 1
    if len(forms) > 1:
        ss.return_form(session, users.hospital, scope, forms[1].id, "请补充立项通知书原件扫描件")
        out["returned"] = 1
    session.flush()
    return out


# ------------------------------------------------------------------------------------ projects
def projects(session: Session, users: DemoUsers, institution: Org) -> dict[str, int]:
    """Catalogue (by the import service), two adopted projects with topics, card-reader and QR
    attendance, grants; the second is flagged (applied 3 working days before, fewer attendees)."""
    from app.models.projects import Project, ProjectCatalog, Topic
    from app.services import catalog_import, checkin
    from app.services import projects as svc

    rows = [
        {"审批编号": "2026-14-03-021 (京)", "项目名称": "基层医疗机构慢病规范化管理培训班", "学分类别": "市级",
         "学科": "全科医学", "总学分": "4", "总学时": "12", "年度": "2026", "主办单位": institution.name, "计划人数": "60"},
        {"审批编号": "2026-01-02-105 (国)", "项目名称": "重症患者血流动力学监测新进展", "学分类别": "国家级",
         "学科": "重症医学", "总学分": "6", "总学时": "18", "年度": "2026", "主办单位": institution.name, "计划人数": "100"},
        {"审批编号": "2026-14-06-033 (京)", "项目名称": "医院感染预防与控制实践", "学分类别": "市级",
         "学科": "公共卫生", "总学分": "3", "总学时": "9", "年度": "2026", "主办单位": "北京医院协会", "计划人数": "80"},
    ]
    result = catalog_import.validate(session, list(enumerate(rows, start=2)))
    if result.errors:
        raise ValueError("；".join(e.reason for e in result.errors))
    catalog_import.write(session, result.rows)
    session.flush()
    catalogue = {c.approval_no: c for c in session.scalars(select(ProjectCatalog))}
    # Attendees come from the whole district (a project is open to other units' staff too).
    staff = list(session.scalars(select(Person).where(Person.district_id == institution.district_id)
                                 .order_by(Person.id).limit(200)))
    lecturer = session.scalar(select(Person).where(Person.institution_id == institution.id)
                              .order_by(Person.id.desc()).limit(1))
    D = datetime.datetime
    half = max(len(staff) // 2, 1)
    plans = [
        # (approval no, starts, ends, applied, topics [(code, name, start, hours, credits)], attendees, QR
        # sign-ins, repeated swipes): the first on time and clean, the second applied 3 working days before
        # its start, with fewer attendees than planned, repeated swipes and the file uploaded 9 days late.
        ("2026-14-03-021 (京)", datetime.date(2026, 9, 15), datetime.date(2026, 9, 16), datetime.date(2026, 9, 1),
         [("101", "高血压社区规范化管理", D(2026, 9, 15, 8, 30), "3", "1"),
          ("102", "2型糖尿病基层诊疗要点", D(2026, 9, 15, 13, 30), "3", "1"),
          ("201", "慢阻肺的筛查与随访", D(2026, 9, 16, 8, 30), "3", "1")], staff[:min(half, 60)], 8, False, 2),
        ("2026-01-02-105 (国)", datetime.date(2026, 10, 20), datetime.date(2026, 10, 21), datetime.date(2026, 10, 15),
         [("101", "休克的血流动力学评估", D(2026, 10, 20, 8, 30), "6", "2"),
          ("102", "床旁超声在重症中的应用", D(2026, 10, 21, 8, 30), "6", "2")], staff[half:half + 60], 5, True, 9),
    ]
    out = {"projects": 0, "topics": 0, "checkins": 0, "granted": 0}
    for no, starts, ends, applied, topics, attendees, qr_count, repeats, upload_days in plans:
        project = svc.adopt(session, catalogue[no], institution)
        project.starts_on, project.ends_on = starts, ends
        project.major, project.assessment, project.activity_form = "临床医学", "笔试", "继续医学教育项目"
        svc.check_details(project)
        svc.file_application(session, project, applied)
        made = []
        for code, name, start, hours, credits in topics:
            topic = Topic(project_id=project.id, code=code, name=name, lecturer="张明华", lecturer_unit=institution.name,
                          lecturer_title="主任医师", credits=Decimal(credits), hours=Decimal(hours),
                          place="门诊楼三层学术报告厅", starts_at=start,
                          ends_at=start + datetime.timedelta(hours=float(hours)),
                          signin_from=start - datetime.timedelta(minutes=30),
                          signin_to=start + datetime.timedelta(hours=1), lecturer_person_id=lecturer.id)
            svc.check_topic(session, topic)
            session.add(topic)
            session.flush()
            made.append(topic)
        out["topics"] += len(made)
        # The card reader's file: each attendee swipes at each topic, a few twice; some sign in by QR.
        swipes, row = [], 2
        for k, person in enumerate(attendees[qr_count:]):
            for topic in made:
                swipes.append(checkin.Swipe(row, person.card_no, topic.starts_at - datetime.timedelta(minutes=10 - k % 7),
                                            "READER-01"))
                row += 1
            if repeats and k % 9 == 0:
                swipes.append(checkin.Swipe(row, person.card_no, made[0].starts_at + datetime.timedelta(minutes=20),
                                            "READER-02"))
                row += 1
        upload_at = datetime.datetime.combine(ends + datetime.timedelta(days=upload_days),
                                              datetime.time(10))
        result = checkin.import_swipes(session, project, swipes, "考勤机导出.csv", users.hospital.username,
                                       now=upload_at)
        out["checkins"] += result.matched
        for k, person in enumerate(attendees[:qr_count]):
            for topic in made:
                checkin.check_in(session, topic, person, "qr", topic.starts_at - datetime.timedelta(minutes=5 + k))
                out["checkins"] += 1
        report = svc.grant(session, project, users.hospital.username)
        out["granted"] += report.attendees + report.lecturers
        out["projects"] += 1
        session.flush()
    out["flagged"] = session.scalar(select(func.count(Project.id)).where(Project.flagged.is_(True))) or 0
    return out


# ------------------------------------------------------------------------------------ supervision
def supervision(session: Session, users: DemoUsers, institution: Org, today: datetime.datetime) -> Summary:
    """Filings of the demo hospital: one waiting for review, one approved and under way (yesterday to
    tomorrow) with a site manager and yesterday's feedback photos, one returned with a reason."""
    from app.models.supervision import FeedbackPhoto, Filing, FilingVenue, SiteManager
    from app.services import attachments, photos
    from app.services import supervision as sup

    out = Summary()
    district = session.get(Org, institution.district_id)
    day = today.date()
    filings = {}
    specs = [
        ("pending", "2026-14-09-118", "医疗纠纷预防与处理专题培训", day + datetime.timedelta(days=12), 1),
        ("approved", "2026-01-04-072", "心血管介入诊疗技术规范化培训班", day - datetime.timedelta(days=1), 3),
        ("returned", "2026-14-02-056", "儿童常见病中西医结合诊疗进展", day + datetime.timedelta(days=20), 2),
    ]
    for state, number, name, start, days in specs:
        values, errors = sup.validate_filing({
            "project_no": number, "name": name, "project_type": "国家级" if "-01-" in number else "省/自治区/直辖市认可项目",
            "year": str(start.year), "organizer": institution.name, "province": "北京市", "city": "北京市",
            "county": district.name, "starts_at": f"{start} 08:00",
            "ends_at": f"{start + datetime.timedelta(days=days - 1)} 17:30", "sessions": "1",
            "approver": "北京市继续医学教育委员会", "approval_method": "网上审批", "approval_no": f"京继委{number[-3:]}号"})
        if errors:
            raise ValueError("；".join(m for _, m in errors))
        filing = Filing(institution_id=institution.id, district_id=institution.district_id, status="draft",
                        created_by_fk=users.hospital.id, **values)
        filing.venues.append(FilingVenue(name="主会场", address=f"北京市{district.name}帅府园一号 {institution.name}学术会堂",
                                         organizer=institution.name, person="刘会务", phone=SITE_PHONE, date=start))
        session.add(filing)
        session.flush()
        sup.apply(session, filing, "submit", users.hospital)
        if state == "approved":
            sup.apply(session, filing, "pass", users.district)
        elif state == "returned":
            sup.apply(session, filing, "return", users.district, "日程安排缺少授课教师信息，请补充后重新提交")
        filings[state] = filing
    session.flush()
    filing = filings["approved"]
    manager = sup.save_manager(session, filing.venues[0], "刘会务", SITE_PHONE)
    session.flush()
    # A fixed login code (the service draws a random one) so the README and run.sh can name it.
    rnd = random.Random(SEED)
    code = "".join(rnd.choice(sup.CODE_ALPHABET) for _ in range(10))
    if session.scalar(select(SiteManager.id).where(SiteManager.login_code == code, SiteManager.id != manager.id)) is None:
        manager.login_code = code
    # The phone login signs in as the demo 'site' account (the service would create one on first login).
    manager.user_id = users.site.id
    manager.letter_accepted_at = datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(7, 50))
    session.flush()
    out.site_code, out.site_phone = manager.login_code, manager.phone
    # Yesterday's half days: the photos the manager took then (EXIF time and place), stamped and submitted.
    colors = [(70, 110, 160), (160, 90, 60), (60, 140, 90), (120, 120, 120)]
    photos_made = 0
    for period in [p for p in filing.periods if p.ends_at < today][:2]:
        fb = sup.feedback_for(session, period, manager, create=True)
        for k, slot in enumerate(("venue", "backdrop", "scene", "lecturer")):
            taken = period.starts_at + datetime.timedelta(minutes=20 + 15 * k)
            data = jpeg(taken, 39.9127 + k * 0.0001, 116.4170, colors[k])
            exif_time, lat, lon = photos.read_exif(data)
            stamped = photos.stamp(data, exif_time, lat, lon, f"{filing.name} {period.label} {slot}")
            original = attachments.store_bytes(data, "jpg", f"{slot}.jpg", "sup_photo", None, user_id=users.site.id)
            copy = attachments.store_bytes(stamped, "jpg", f"stamped-{slot}.jpg", "sup_photo_stamped", None,
                                           user_id=users.site.id)
            session.flush()
            photo = FeedbackPhoto(slot=slot, lecturer_no=1 if slot == "lecturer" else 0, original_id=original.id,
                                  stamped_id=copy.id, exif_time=exif_time, exif_lat=lat, exif_lon=lon, taken_at=taken,
                                  flags="；".join(sup.photo_flags(period, taken, lat, lon)) or None)
            fb.photos.append(photo)
            session.flush()
            original.owner_id = copy.owner_id = photo.id
            photos_made += 1
        fb.submitted_at = period.ends_at - datetime.timedelta(minutes=10)
    session.flush()
    out.counts = {"filings": len(filings), "photos": photos_made}
    return out


# ------------------------------------------------------------------------------------ audit
def audit(session: Session, users: DemoUsers, institution: Org) -> dict[str, int]:
    """The 2026 cycle (window 2025-11-01 … 2026-10-31, audit 11-01 … 12-02, appeals until 12-02 17:00):
    institution draw by the seed-001 quotas, a standard drawing 2 persons a department, the final list,
    the demo hospital's persons allocated to the demo expert, who has judged three of them."""
    from app.models.audit import (
        DEFAULT_QUOTAS,
        AuditAllocation,
        AuditCycle,
        AuditStandard,
    )
    from app.services import audit as admin
    from app.services import audit_review as review
    from app.services import audit_sampling as sampling

    # The audit period stays open for 60 days from the day the demo is built, so the demo expert can
    # always judge (verdicts after the period are refused); the seed's dates where they are still ahead.
    open_until = max(datetime.datetime(2026, 12, 2, 23, 59, 59),
                     datetime.datetime.combine(datetime.date.today() + datetime.timedelta(days=60),
                                               datetime.time(23, 59, 59)))
    cycle = AuditCycle(name="2026年度继续医学教育学分审验", year=2026, window_start=datetime.date(2025, 11, 1),
                       window_end=datetime.date(2026, 10, 31), audit_start=datetime.datetime(2026, 11, 1),
                       audit_end=open_until,
                       upload_cutoff=datetime.datetime(2026, 11, 5, 23, 59, 59),  # seed 001 七(一) "11月5日24:00"
                       appeal_deadline=open_until.replace(hour=17, minute=0, second=0), status="open",
                       quotas=dict(DEFAULT_QUOTAS), remark="京继委办发〔2026〕 审验通知（演示）")
    admin.validate_cycle(session, cycle)
    session.add(cycle)
    session.flush()
    expert, _ = admin.create_expert(session, username=users.expert.username, name="王审验", year=2026,
                                    contact="13700001111", unit="北京市继续医学教育委员会专家库")
    draw = sampling.create_draw(session, cycle, users.admin.id, kind="institution", seed=SEED)
    institutions = sampling.run_draw(session, draw)
    standard = AuditStandard(cycle_id=cycle.id, name="2026年度综合抽审（每科室2人）", year=2026, unit_levels=[],
                             titles=[], specialties=[], audit_scope="综合", institution_ids=[], allow_repeat=True,
                             per_department=2, status="active")
    sampling.validate_standard(session, standard)
    session.add(standard)
    session.flush()
    draw = sampling.create_draw(session, cycle, users.admin.id, kind="person", standard=standard, seed=SEED + 1)
    drawn = sampling.run_draw(session, draw)
    final = sampling.merge_into_final(session, Scope("all"), cycle, [standard.id], users.admin.id)
    allocated = admin.allocate(session, cycle, expert.id, units=[institution.id], operator_id=users.admin.id)
    session.flush()
    auditor = review.Auditor(user_id=users.expert.id, kind="expert")
    persons = list(session.scalars(select(AuditAllocation.person_id).where(
        AuditAllocation.cycle_id == cycle.id, AuditAllocation.expert_id == expert.id)
        .order_by(AuditAllocation.person_id).limit(3)))
    verdicts = 0
    judged = datetime.datetime(2026, 11, 20, 10, 0)  # the expert judged during 集中审验 (seed 001 五: 11-14 … 11-25)
    for k, person_id in enumerate(persons):
        rows = review.person_credits(session, cycle, person_id)
        ids = [c.id for c, _ in rows]
        if not ids:
            continue
        if k == 2 and len(ids) > 1:
            verdicts += review.set_verdicts(session, auditor, cycle, person_id, {ids[0]: 0}, "failed",
                                            "学分证书与项目编号不符，未提供签到记录", now=judged)
            ids = ids[1:]
        verdicts += review.set_verdicts(session, auditor, cycle, person_id, {i: 0 for i in ids}, "passed",
                                        now=judged)
        review.set_reviewed(session, auditor, cycle, person_id, True, now=judged)
        review.compute(session, auditor, cycle, person_id, now=judged)
    session.flush()
    return {"institutions": institutions, "drawn": drawn, "final": final, "allocated": allocated,
            "verdicts": verdicts}


# ------------------------------------------------------------------------------------ all of it
def build(session: Session, users: DemoUsers, institution: Org, now: datetime.datetime | None = None,
          progress=None) -> Summary:
    """Everything above, committed step by step; returns the summary (counts, the site login)."""
    from app.services import credit_records

    now = now or datetime.datetime.now()
    say = progress or (lambda text: None)
    unit = Scope("institution", org_id=institution.id)
    summary = Summary()
    c = summary.counts

    rs2026 = rule_set_2026(session)
    rs2025 = session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025"))
    session.commit()
    say("规则集：北京市2026年授分标准已发布")
    session.info[credit_records.SKIP] = True  # the whole city is recomputed at the end
    try:
        c["credits_bulk"] = bulk_credits(session, {2025: rs2025, 2026: rs2026})
        session.commit()
        say(f"学分记录：{c['credits_bulk']} 条")
        plan, _pending = practice_plans(session, users, institution)
        c["wizard_credits"] = wizard(session, users, institution, plan, unit)
        session.commit()
        c.update({f"manual_{k}": v for k, v in manual_credits(session, users, unit).items()})
        c["unit_entries"] = colleague_entries(session, users, institution, unit)
        c.update({f"self_study_{k}": v for k, v in self_study(session, users, institution, unit).items()})
        session.commit()
        say("审核流程：计划、向导、手工录入、自学")
        c.update({f"project_{k}": v for k, v in projects(session, users, institution).items()})
        session.commit()
        say("继教项目：课题、刷卡、扫码、授分")
        sup_summary = supervision(session, users, institution, now)
        c.update(sup_summary.counts)
        summary.site_code, summary.site_phone = sup_summary.site_code, sup_summary.site_phone
        session.commit()
        say("项目督查：报备、现场负责人、反馈照片")
        for year in (2025, 2026):
            _, written = credit_records.recompute_scope(session, Scope("all"), year)
            c[f"results_{year}"] = written
        session.commit()
        say("达标计算：2025、2026年度")
    finally:
        session.info.pop(credit_records.SKIP, None)
    c.update({f"audit_{k}": v for k, v in audit(session, users, institution).items()})
    session.commit()
    say("学分审验：2026年度审验、抽取、分配、专家审核")
    return summary


def site_login(session: Session) -> tuple[str, str] | None:
    """(login code, phone) of the demo's site manager, when the demo built one."""
    from app.models.supervision import SiteManager

    row = session.execute(select(SiteManager.login_code, SiteManager.phone).where(SiteManager.phone == SITE_PHONE)
                          .order_by(SiteManager.id).limit(1)).first()
    return (row[0], row[1]) if row else None


__all__ = ["ACTIVITY_LIMIT", "DemoUsers", "Summary", "build", "bulk_credits", "rule_set_2026", "site_login"]
