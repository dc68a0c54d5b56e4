"""Demo of issue 16 items 6 and 11: a Xuzhou card-swipe credit waiting for the city's review (seed 002
三 3, counted only after it) and a distance-education institution's filed project with an upload of
study records waiting for the city (seed 002 二 4, 三 4)."""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Credit, CreditStandard, Org, Person, RuleSet
from app.models.distance import DistanceProject
from app.services.scope import Scope

DISTANCE_CODE = "DE001"


def xuzhou_waiting_credit(session: Session, person: Person, user: Any) -> Credit | None:
    """A 2024 card-swipe grant under Xuzhou 2024 (standard 12 "刷卡授予，按项目学分") that waits for the city."""
    from app.services import workflow

    rs = session.scalar(select(RuleSet).where(RuleSet.code == "XZ2024"))
    std = session.scalar(select(CreditStandard).where(CreditStandard.rule_set_id == rs.id,
                                                      CreditStandard.seq == 12)) if rs else None
    if std is None:
        return None
    credit = Credit(person_id=person.id, district_id=person.district_id, institution_id=person.institution_id,
                    department_id=person.department_id, rule_set_id=rs.id, standard_id=std.id,
                    activity_type=std.activity_type, project_no="XZ2024-0301", content="徐州市急危重症救治能力提升培训班",
                    granted_on=datetime.date(2024, 6, 15), category=std.category, credits=Decimal(4),
                    hours=Decimal(12), grantor_name="徐州市中心医院", source="card", status="unit_approved",
                    remark="刷卡授予，经市级审核通过后计入（徐州2024 三3）")
    session.add(credit)
    workflow.log_creation(session, [credit], getattr(user, "id", None))
    return credit


def build(session: Session, users: Any, institution: Org) -> dict[str, int]:
    """The distance institution's project (approved by the city) and one upload of three learners'
    records waiting for the city; the Xuzhou credit. Returns counts for the summary."""
    from app.services import credit_records, distance

    out = {"distance_uploads": 0, "xuzhou_waiting": 0}
    person = session.scalar(select(Person).where(Person.institution_id == institution.id).order_by(Person.id))
    if person is not None and xuzhou_waiting_credit(session, person, users.admin) is not None:
        out["xuzhou_waiting"] = 1
    user = getattr(users, "distance", None)
    if user is None or user.org_id is None:
        return out
    scope = Scope("institution", org_id=user.org_id)
    region = credit_records.region(session)
    today = datetime.date(2026, 9, 1)
    cats = distance.categories(session, region, today)
    if not cats or session.scalar(select(DistanceProject.id).where(DistanceProject.code == DISTANCE_CODE)):
        return out
    project = distance.file_project(session, scope, user, {
        "code": DISTANCE_CODE, "name": "基层常见病多发病远程诊疗规范（网络课程）", "category": cats[0],
        "credits": "5", "hours": "15", "starts_on": "2026-03-01", "ends_on": "2026-08-31",
        "courses": "高血压规范诊疗；糖尿病分级管理；慢阻肺基层诊治；合理用药"}, region=region, today=today)
    distance.review_project(session, Scope("all"), project, True)
    learners = list(session.scalars(select(Person).where(Person.institution_id == institution.id)
                                    .order_by(Person.id).offset(1).limit(3)))
    rows = [(n, {"IC卡号": p.card_no, "姓名": p.name, "学习学时": "15", "完成日期": "2026-08-20",
                 "考核结果": "合格" if n < 4 else "不合格"}) for n, p in enumerate(learners, start=2)]
    result = distance.validate(session, project, rows)
    if result.ok:
        distance.write(session, project, result.rows, user.id, "学员学习记录2026年8月.xlsx")
        out["distance_uploads"] = 1
    return out
