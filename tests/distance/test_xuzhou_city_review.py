"""Xuzhou: card-swipe and QR grants wait for the city (issue 16.6).

Seed 002 三 3: "市级继续医学教育项目学分实行刷卡授予 … 刷卡记录需在项目结束一周内上传 ICME 系统，经市级审核
通过后授予学分" — under the Xuzhou 2024 rule set a project grant keeps the swipe / QR source, the credit
waits at 单位审核通过, the transcript says "待市级审核，暂不计入", and only the city's pass makes it count.
"""
import datetime
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Credit, Parameter, Person, ReviewLog
from tests.projects.helpers import D, add_topic, make_project


def _xuzhou_grant(world):
    from app.services import checkin, projects

    region = db.session.scalar(select(Parameter).where(Parameter.key == "region"))
    if region is None:
        db.session.add(Parameter(key="region", name="所在地区", value="徐州市"))
    else:
        region.value = "徐州市"
    project = make_project(world.a, no="XZ2024-0301", starts=datetime.date(2024, 4, 24), ends=datetime.date(2024, 4, 24))
    topic = add_topic(project, "101", D(2024, 4, 24, 8, 30))
    checkin.check_in(db.session, topic, db.session.get(Person, world.pa), "card", D(2024, 4, 24, 8, 35))
    checkin.check_in(db.session, topic, db.session.get(Person, world.pa2), "qr", D(2024, 4, 24, 8, 40))
    db.session.commit()
    projects.grant(db.session, project)
    db.session.commit()
    return project


def test_swipe_grant_waits_for_the_city_then_counts(app, world, login, clock):
    from app.services import credit_records

    clock.at(datetime.datetime(2024, 5, 6, 9, 0))
    with app.app_context():
        _xuzhou_grant(world)
        credits = {c.person_id: c for c in db.session.scalars(select(Credit))}
        assert {c.source for c in credits.values()} == {"card", "qr"}  # the grant kept the check-in's source
        assert {c.status for c in credits.values()} == {"unit_approved"}
        person = db.session.get(Person, world.pa)
        data = credit_records.transcript(db.session, person, 2024)
        assert data.rule_set.code == "XZ2024" and data.evaluation.total == 0
        (line,) = data.evaluation.lines
        assert "待市级审核，暂不计入" in line.note
        ids = [c.id for c in credits.values()]
    transcript = login("city").get(f"/transcript/{world.pa}?year=2024").get_data(as_text=True)
    assert "待市级审核，暂不计入" in transcript
    assert "手工录入、补录、刷卡、扫码学分经市级审核通过后计入" in transcript
    page = login("city").get("/grant-review/").get_data(as_text=True)
    assert "XZ2024-0301" in page and "张三" in page and "李四" in page
    # The city's home counts them as waiting (issue 15.1), linked to this review list.
    from tests.views.test_home_roles import _todo, _todos

    assert _todo(_todos(login("city").get("/").get_data(as_text=True)), "刷卡/扫码学分待市级审核") == (
        len(ids), "/grant-review/")
    # The unit that uploaded the swipes cannot pass them; nor can a guessed POST of another role.
    r = login("inst_a").post("/grant-review/review", data={"rowid": ids, "decision": "pass"})
    assert r.status_code in (302, 403)
    with app.app_context():
        assert {c.status for c in db.session.scalars(select(Credit))} == {"unit_approved"}
    c = login("city")
    r = c.post("/grant-review/review", data={"rowid": [ids[0]], "decision": "fail", "reason": ""})
    with app.app_context():
        assert db.session.get(Credit, ids[0]).status == "unit_approved"  # a failure needs its reason
    c.post("/grant-review/review", data={"rowid": [credits[world.pa].id], "decision": "pass"})
    c.post("/grant-review/review", data={"rowid": [credits[world.pa2].id], "decision": "fail",
                                         "reason": "代刷卡，不予授分"})
    with app.app_context():
        passed = db.session.get(Credit, credits[world.pa].id)
        failed = db.session.get(Credit, credits[world.pa2].id)
        assert (passed.status, failed.status) == ("city_approved", "rejected")
        assert db.session.scalar(select(ReviewLog.reason).where(ReviewLog.owner_id == failed.id,
                                                                ReviewLog.action == "city_fail")) == "代刷卡，不予授分"
        data = credit_records.transcript(db.session, db.session.get(Person, world.pa), 2024)
        assert data.evaluation.total == Decimal(passed.credits) and data.evaluation.lines[0].note == "计入"
        assert data.stored is not None and Decimal(str(data.stored.total)) == Decimal(passed.credits)
    # Passed once: a second pass of the same credit is refused (it left the list).
    r = c.post("/grant-review/review", data={"rowid": [credits[world.pa].id], "decision": "pass"},
               follow_redirects=True)
    assert "未做任何修改" in r.get_data(as_text=True)


def test_beijing_grant_is_counted_at_once(app, world, clock):
    """Beijing as today: the same grant under Beijing 2025 counts at 单位审核通过, source 项目导入 kept."""
    from app.services import checkin, counting, grant_review, projects

    clock.at(datetime.datetime(2025, 5, 6, 9, 0))
    with app.app_context():
        project = make_project(world.a, category="外地省市级继续医学教育项目")
        topic = add_topic(project, "101", D(2025, 4, 24, 8, 30))
        checkin.check_in(db.session, topic, db.session.get(Person, world.pa), "card", D(2025, 4, 24, 8, 35))
        db.session.commit()
        projects.grant(db.session, project)
        db.session.commit()
        (credit,) = db.session.scalars(select(Credit))
        assert (credit.source, credit.status) == ("project_import", "unit_approved")
        assert db.session.scalars(select(Credit.id).where(
            counting.pending_city_sql(grant_review.policies(db.session)))).all() == []
