"""Rules of seed 002 二 and seed 003 授分标准 as the projects area applies them."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Credit, Person
from app.models.projects import CheckIn, Holiday
from app.services import checkin as checkins
from app.services import projects as svc
from tests.projects.helpers import D, add_topic, make_project, standard_project

Day = datetime.date


def _check_in_all(project, people, topics=None):
    for topic in topics or project.topics:
        for person in people:
            checkins.check_in(db.session, topic, person, "manual", topic.starts_at)
    db.session.commit()


# Seed 002 二 2: "经批准的项目应至少提前 5个工作日在继续医学管理系统（ICME）提交举办申请"
def test_five_working_days_counts_weekends_and_holidays(app_ctx, world):
    project = make_project(world.a, starts=Day(2025, 3, 10), ends=Day(2025, 3, 10))  # a Monday
    # Filed Monday 3 March: Tue–Fri and Mon = 5 working days → in time.
    flags = svc.file_application(db.session, project, Day(2025, 3, 3))
    assert flags.workdays == 5 and not flags.apply_late and not project.flagged
    # Filed Tuesday 4 March: 4 working days → flagged.
    project.applied_on = None
    flags = svc.file_application(db.session, project, Day(2025, 3, 4))
    assert flags.workdays == 4 and flags.apply_late and project.apply_late and project.flagged
    # A holiday in between (data, not code) makes the Monday filing late; a worked weekend (调休) restores it.
    db.session.add(Holiday(day=Day(2025, 3, 5), name="测试假日", workday=False))
    project.applied_on = None
    assert svc.file_application(db.session, project, Day(2025, 3, 3)).apply_late
    db.session.add(Holiday(day=Day(2025, 3, 8), name="调休上班", workday=True))
    project.applied_on = None
    flags = svc.file_application(db.session, project, Day(2025, 3, 3))
    assert flags.workdays == 5 and not flags.apply_late


def test_working_days_parameter_is_data(app_ctx, world):
    from app.models import Parameter

    db.session.execute(Parameter.__table__.update().where(Parameter.key == "holding_apply_workdays")
                       .values(value="3"))
    project = make_project(world.a, starts=Day(2025, 3, 10), ends=Day(2025, 3, 10))
    assert not svc.file_application(db.session, project, Day(2025, 3, 5)).apply_late  # Thu, Fri, Mon = 3


def test_application_needs_teaching_dates_and_is_filed_once(app_ctx, world):
    project = make_project(world.a)
    project.starts_on = None
    with pytest.raises(svc.ProjectError, match="讲授时间"):
        svc.file_application(db.session, project, Day(2025, 3, 3))
    project.starts_on = Day(2025, 4, 24)
    svc.file_application(db.session, project, Day(2025, 3, 3))
    with pytest.raises(svc.ProjectError, match="已于"):
        svc.file_application(db.session, project, Day(2025, 3, 4))


# Seed 002 二 2: "各项目授予学分人数上下浮动不得超过计划人数的 20%"
def test_count_range_is_planned_plus_minus_twenty_percent():
    assert svc.count_range(100, 20) == (80, 120)
    assert svc.count_range(10, 20) == (8, 12)
    assert svc.count_range(7, 20) == (6, 8)  # 5.6 → 6 persons at least, 8.4 → 8 at most


def test_credited_count_outside_plan_is_flagged(app_ctx, world):
    project = standard_project(world.a, planned=10)
    people = list(db.session.scalars(select(Person).order_by(Person.id)))  # 5 persons of the world
    _check_in_all(project, people)
    svc.grant(db.session, project)
    db.session.commit()
    assert project.credited_count == 5 and project.count_out_of_range and project.flagged
    messages = svc.refresh_flags(db.session, project).messages(project, db.session)
    assert any("授分人数5人，超出计划人数10人上下20%（8–12人）" in m for m in messages)


def test_credited_count_inside_plan_is_not_flagged(app_ctx, world):
    project = standard_project(world.a, planned=5)
    _check_in_all(project, list(db.session.scalars(select(Person))))
    svc.grant(db.session, project)
    db.session.commit()
    assert project.credited_count == 5 and not project.count_out_of_range and not project.flagged


# Seed 002 二 3: "市级继续教育项目在项目结束一周内将参培人员数据上传 ICME系统"
def test_upload_more_than_seven_days_after_the_end_is_flagged(app_ctx, world):
    project = standard_project(world.a)  # ends 2025-04-25
    swipes = [checkins.Swipe(2, "A0000001", D(2025, 4, 24, 9, 0), "R1")]
    result = checkins.import_swipes(db.session, project, swipes, "a.csv", "inst_a", now=D(2025, 5, 2, 18, 0))
    assert not result.upload.late and not project.upload_late  # 7 days after the end: in time
    result = checkins.import_swipes(db.session, project, swipes, "b.csv", "inst_a", now=D(2025, 5, 3, 8, 0))
    assert result.upload.late and project.upload_late and project.flagged


# Issue 5 / seed 003 课题 table: 学分(总学分4.0) 小时(总小时12.0)
def test_topic_credits_and_hours_never_exceed_the_project(app_ctx, world):
    project = make_project(world.a, credits="4", hours="12")
    add_topic(project, "101", D(2025, 4, 24, 8, 30), hours="6", credits="2")
    add_topic(project, "102", D(2025, 4, 24, 14, 0), hours="3", credits="1")
    with pytest.raises(svc.ProjectError, match="课题学分合计5分，超过项目总学分4分"):
        add_topic(project, "103", D(2025, 4, 25, 8, 30), hours="3", credits="2")
    with pytest.raises(svc.ProjectError, match="课题学时合计13小时，超过项目总学时12小时"):
        add_topic(project, "104", D(2025, 4, 25, 8, 30), hours="4", credits="1")
    topic = add_topic(project, "105", D(2025, 4, 25, 8, 30), hours="3", credits="1")  # exactly 4 / 12
    # Editing a topic counts the others, not itself twice.
    topic.credits = Decimal(1)
    svc.check_topic(db.session, topic)


def test_topic_time_and_window_checks(app_ctx, world):
    project = make_project(world.a)
    with pytest.raises(svc.ProjectError, match="项目讲授时间"):
        add_topic(project, "101", D(2025, 5, 1, 8, 30))
    with pytest.raises(svc.ProjectError, match="签到结束时间必须晚于"):
        add_topic(project, "102", D(2025, 4, 24, 8, 30), window=(D(2025, 4, 24, 9), D(2025, 4, 24, 8)))


# Seed 003 授分标准 16: 参加市级继续医学教育项目 每3小时1分（上限10分）; 2: 市级…主讲人授分 每1小时2分（上限10分）,
# 主讲人分数不能超过项目分数.
def test_grant_attendees_by_hours_and_lecturer_capped_by_project(app_ctx, world):
    project = make_project(world.a, credits="4", hours="12")
    t1 = add_topic(project, "101", D(2025, 4, 24, 8, 30), hours="6", credits="2", lecturer_person_id=world.pb)
    add_topic(project, "102", D(2025, 4, 24, 14, 0), hours="3", credits="1")
    db.session.commit()
    pa, pa2 = db.session.get(Person, world.pa), db.session.get(Person, world.pa2)
    _check_in_all(project, [pa, pa2])
    report = svc.grant(db.session, project)
    db.session.commit()
    assert report.attendees == 4 and report.lecturers == 1
    credits = {(c.person_id, c.remark): c for c in db.session.scalars(select(Credit))}
    assert credits[(world.pa, "课题101")].credits == Decimal("2.00")  # 6 h → 2
    assert credits[(world.pa, "课题102")].credits == Decimal("1.00")  # 3 h → 1
    lecturer = credits[(world.pb, "课题101主讲人")]
    # 6 h × 2 = 12, capped at 10 by the standard, then at the project's 4 credits.
    assert lecturer.credits == Decimal("4.00") and lecturer.standard.name == "市级继续医学教育项目主讲人授分"
    c = credits[(world.pa, "课题101")]
    assert (c.source, c.status, c.standard.name, c.project_no, c.category) == (
        "unit", "unit_approved", "参加市级继续医学教育项目", "2025-14-03-020 (京)", "市级继续医学教育项目")
    assert c.institution_id == world.a and c.grantor_org_id == world.a and t1.lecturer_credited
    # The grant's commit brings the attendees' stored compliance results up to date (credit year 2025).
    from app.models import ComplianceResult
    stored = {r.person_id: r.total for r in db.session.scalars(
        select(ComplianceResult).where(ComplianceResult.year == 2025))}
    assert stored[world.pa] == Decimal("3.00") and stored[world.pb] == Decimal("4.00")
    # A second grant finds nothing new: once per person and topic.
    with pytest.raises(svc.ProjectError, match="没有可授分的签到记录"):
        svc.grant(db.session, project)


def test_lecturer_standard_cap_of_ten(app_ctx, world):
    project = make_project(world.a, category="国家级继续医学教育项目", credits="20", hours="12")
    add_topic(project, "101", D(2025, 4, 24, 8, 0), hours="8", credits="5", lecturer_person_id=world.pb)
    add_topic(project, "102", D(2025, 4, 25, 8, 0), hours="1", credits="1", lecturer_person_id=world.pb2)
    db.session.commit()
    report = svc.grant(db.session, project)
    db.session.commit()
    got = {c.remark: c.credits for c in db.session.scalars(select(Credit))}
    assert got == {"课题101主讲人": Decimal("10.00"), "课题102主讲人": Decimal("2.00")}  # 16 → 10; 1 h → 2
    assert report.attendees == 0 and report.lecturers == 2


def test_imported_project_gives_project_credits_once_per_person(app_ctx, world):
    # Seed 003 授分标准 4: 参加外地国家级继续医学教育项目 — 申报项目导入.
    project = make_project(world.a, category="外地国家级继续医学教育项目", credits="5", hours="12", planned=1)
    add_topic(project, "101", D(2025, 4, 24, 8, 30), hours="3")
    add_topic(project, "102", D(2025, 4, 24, 13, 30), hours="3")
    db.session.commit()
    _check_in_all(project, [db.session.get(Person, world.pa)])
    report = svc.grant(db.session, project)
    db.session.commit()
    rows = list(db.session.scalars(select(Credit)))
    assert report.attendees == 1 and len(rows) == 1
    assert (rows[0].credits, rows[0].source, rows[0].standard.name) == (
        Decimal("5.00"), "project_import", "参加外地国家级继续医学教育项目")
    assert db.session.scalar(select(CheckIn.credits).where(CheckIn.credits == 0)) == 0  # the 2nd topic: 0
    assert project.credited_count == 1 and not project.count_out_of_range


def test_same_person_twice_for_one_topic_is_a_duplicate_never_credited(app_ctx, world):
    project = standard_project(world.a)
    topic = project.topics[0]
    pa = db.session.get(Person, world.pa)
    first = checkins.check_in(db.session, topic, pa, "qr", topic.starts_at)
    again = checkins.check_in(db.session, topic, pa, "manual", topic.starts_at)
    db.session.commit()
    assert not first.duplicate and again.duplicate
    report = svc.grant(db.session, project)
    db.session.commit()
    assert report.attendees == 1
    assert db.session.scalar(select(Credit.source)) == "qr"
    assert project.duplicate_count == 1 and project.flagged
