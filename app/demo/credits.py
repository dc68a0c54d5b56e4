"""Demo credits: the rule set 2026, the bulk credits of both credit years, and the review chain (practice
plans, the wizard, manual entries of the demo student and colleagues, the self-study delegation)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, case, cast, insert, literal, select
from sqlalchemy.orm import Session, aliased

from app.demo.common import DEMO_DAY, PDF, DemoUsers, pdf
from app.models import Credit, CreditStandard, Org, Person, RuleSet
from app.services.scope import Scope


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
