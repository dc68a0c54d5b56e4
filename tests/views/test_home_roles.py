"""Role-aware home (issue 15 item 1): every to-do the role decides is counted and linked to its list
filtered to exactly those rows, and each role sees its own picture of the credit year.

The counts are checked against counts the test takes straight from the tables; the three wrong homes
of the issue (the expert's "暂无待办事项" with persons waiting, the district's one self-study item with a
plan, a filing and a flagged project waiting, no compliance status for the student and the secretary)
each have a test that failed before the change."""
from __future__ import annotations

import datetime
import html as htmllib
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select

from tests.audit_review.helpers import audit_world

# Inside the 2025 audit cycle of audit_world (审验时间 2025-11-01 … 12-02): a fixed instant.
IN_PERIOD = datetime.datetime(2025, 11, 20, 10, 0)


def _todos(html: str) -> dict[str, str]:
    """label → link of the 待办事项 box."""
    block = re.search(r'id="todo-list">(.*?)</ul>', html, re.DOTALL).group(1)
    return {htmllib.unescape(label): htmllib.unescape(href)
            for href, label in re.findall(r'<a href="([^"]*)">([^<]*)</a>', block)}


def _todo(todos: dict[str, str], text: str) -> tuple[int, str]:
    """(count, link) of the one to-do whose label contains ``text``."""
    hits = [(label, href) for label, href in todos.items() if text in label]
    assert len(hits) == 1, (text, todos)
    label, href = hits[0]
    return int(re.match(r"(\d+)", label).group(1)), href


@pytest.fixture
def busy(app, world, clock):
    clock.at(IN_PERIOD, tick=True)
    with app.app_context():
        return seed_busy(world)


def seed_busy(world) -> SimpleNamespace:
    """Waiting items of every kind in both districts, stored compliance results, an audit cycle (inside an
    app context, on the world's ids; commits). Also the data of the home screenshots (tests/browser)."""
    from app.extensions import db
    from app.models import (
        ComplianceResult,
        Org,
        Person,
        PracticePlan,
        RuleSet,
        SelfStudy,
    )
    from app.models.audit_review import AuditAppeal, AuditResult, AuditVerdict
    from app.services import credit_records
    from tests.projects.helpers import make_project
    from tests.supervision.helpers import add_filing

    out = audit_world(world)
    for inst, name, status in ((world.a, "计划甲待审", "pending"), (world.a2, "计划丙待审", "pending"),
                               (world.b, "计划乙待审", "pending"), (world.a, "计划甲已通过", "approved"),
                               (world.a, "计划甲不通过", "rejected")):
        org = db.session.get(Org, inst)
        db.session.add(PracticePlan(institution_id=org.id, district_id=org.district_id, name=name,
                                    plan_type="年度计划", activity_forms="手术示范", status=status))
    add_filing(world.a, "F-A-1", "pending", name="报备甲待审")
    add_filing(world.b, "F-B-1", "pending", name="报备乙待审")
    add_filing(world.a, "F-A-2", "draft", name="报备甲草稿")
    add_filing(world.a2, "F-C-1", "rejected", name="报备丙不通过")
    add_filing(world.a, "F-A-3", "returned", name="报备甲退回")
    add_filing(world.a, "F-A-4", "rejected", name="报备甲不通过")
    for inst, no, flagged in ((world.a, "FLAG-A", True), (world.b, "FLAG-B", True), (world.a, "OK-A", False)):
        make_project(inst, no=no).flagged = flagged
    for person_id, status in ((world.pa, "submitted"), (world.pa2, "draft"), (world.pc, "submitted"),
                              (world.pb, "submitted"), (world.pb2, "granted")):
        p = db.session.get(Person, person_id)
        db.session.add(SelfStudy(person_id=p.id, year=2025, district_id=p.district_id,
                                 institution_id=p.institution_id, department_id=p.department_id,
                                 status=status, data={}, submitted_by="owner"))
    # 王五 reviewed by the expert; 张三 waits. One failed verdict of 张三 with a pending appeal.
    pb = db.session.get(Person, world.pb)
    db.session.add(AuditResult(cycle_id=out.cycle, person_id=pb.id, district_id=pb.district_id,
                               institution_id=pb.institution_id, department_id=pb.department_id,
                               reviewed=True, version=1))
    pa = db.session.get(Person, world.pa)
    verdict = AuditVerdict(cycle_id=out.cycle, credit_id=out.c3, person_id=pa.id, district_id=pa.district_id,
                           institution_id=pa.institution_id, department_id=pa.department_id,
                           verdict="failed", reason="材料不全", version=1)
    db.session.add(verdict)
    db.session.flush()
    db.session.add(AuditAppeal(cycle_id=out.cycle, verdict_id=verdict.id, credit_id=out.c3, person_id=pa.id,
                               reason="补充材料", status="pending"))
    # Stored compliance results of the home's credit year.
    year = credit_records.default_year(db.session, credit_records.region(db.session)) or IN_PERIOD.year
    rule_set_id = db.session.scalar(select(RuleSet.id).order_by(RuleSet.id))
    db.session.execute(delete(ComplianceResult))  # the credits' hook judged some: replaced by known values
    for person_id, total, met in ((world.pa, 34, True), (world.pa2, 10, False), (world.pc, 30, True),
                                  (world.pb, 20, False), (world.pb2, 26, True)):
        p = db.session.get(Person, person_id)
        db.session.add(ComplianceResult(
            person_id=p.id, year=year, rule_set_id=rule_set_id, district_id=p.district_id,
            institution_id=p.institution_id, department_id=p.department_id, title_level="中级",
            total=Decimal(total), required=Decimal(25), met=met, computed_at=datetime.datetime(2025, 11, 1, 8)))
    db.session.commit()
    out.year = year
    db.session.remove()
    return out


def _count(app, stmt) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(stmt)


def _names(app, model, column, *conditions) -> set[str]:
    from app.extensions import db

    with app.app_context():
        return set(db.session.scalars(select(column).where(*conditions)))


def _shows_exactly(client, href: str, wanted: set[str], unwanted: set[str]) -> None:
    page = client.get(href)
    assert page.status_code == 200, href
    text = page.get_data(as_text=True)
    for name in wanted:
        assert name in text, (href, name)
    for name in unwanted:
        assert name not in text, (href, name)


# ------------------------------------------------------------------------ the district (wrong home 2)
def test_district_home_counts_plans_filings_flagged_projects_and_self_study(app, world, busy, login):
    from app.models import PracticePlan, Project, SelfStudy
    from app.models.supervision import Filing

    c = login("district1")
    todos = _todos(c.get("/").get_data(as_text=True))
    d1 = world.d1
    plans = _count(app, select(func.count(PracticePlan.id)).where(PracticePlan.district_id == d1,
                                                                 PracticePlan.status == "pending"))
    filings = _count(app, select(func.count(Filing.id)).where(Filing.district_id == d1, Filing.status == "pending"))
    flagged = _count(app, select(func.count(Project.id)).where(Project.district_id == d1, Project.flagged.is_(True)))
    selfs = _count(app, select(func.count(SelfStudy.id)).where(SelfStudy.district_id == d1,
                                                              SelfStudy.status == "submitted"))
    assert (plans, filings, flagged, selfs) == (2, 1, 1, 2)
    n, href = _todo(todos, "教学活动计划待审核")
    assert n == plans
    _shows_exactly(c, href, {"计划甲待审", "计划丙待审"}, {"计划乙待审", "计划甲已通过", "计划甲不通过"})
    n, href = _todo(todos, "项目报备待审核")
    assert n == filings
    _shows_exactly(c, href, {"报备甲待审"}, {"报备乙待审", "报备甲草稿", "报备丙不通过"})
    n, href = _todo(todos, "项目有异常提示")
    assert n == flagged
    _shows_exactly(c, href, {"FLAG-A"}, {"FLAG-B", "OK-A"})
    n, href = _todo(todos, "自学计划待授分")
    assert n == selfs
    _shows_exactly(c, href, {"张三", "赵六"}, {"李四", "王五", "孙七"})


def test_city_home_counts_every_district_and_the_pending_appeals(app, world, busy, login):
    from app.models import PracticePlan, Project
    from app.models.audit_review import AuditAppeal
    from app.models.supervision import Filing

    c = login("city")
    todos = _todos(c.get("/").get_data(as_text=True))
    n, href = _todo(todos, "教学活动计划待审核")
    assert n == _count(app, select(func.count(PracticePlan.id)).where(PracticePlan.status == "pending")) == 3
    _shows_exactly(c, href, {"计划甲待审", "计划丙待审", "计划乙待审"}, {"计划甲已通过", "计划甲不通过"})
    n, href = _todo(todos, "项目报备待审核")
    assert n == _count(app, select(func.count(Filing.id)).where(Filing.status == "pending")) == 2
    _shows_exactly(c, href, {"报备甲待审", "报备乙待审"}, {"报备甲草稿", "报备丙不通过"})
    n, href = _todo(todos, "项目有异常提示")
    assert n == _count(app, select(func.count(Project.id)).where(Project.flagged.is_(True))) == 2
    _shows_exactly(c, href, {"FLAG-A", "FLAG-B"}, {"OK-A"})
    n, href = _todo(todos, "审验复审申请待复审")
    assert n == _count(app, select(func.count(AuditAppeal.id)).where(AuditAppeal.status == "pending")) == 1
    assert "status=pending" in href
    _shows_exactly(c, href, {"张三"}, {"王五", "李四"})


# ------------------------------------------------------------------------ the expert (wrong home 1)
def test_expert_home_counts_the_allocated_persons_not_yet_reviewed(app, world, busy, login):
    from app.models import CmeUser
    from app.models.audit import AuditAllocation, AuditExpert
    from app.models.audit_review import AuditResult

    c = login("expert")
    html = c.get("/").get_data(as_text=True)
    assert "暂无待办事项" not in html
    expert_user = _count(app, select(CmeUser.id).where(CmeUser.username == "expert"))
    mine = (select(AuditAllocation.person_id).join(AuditExpert, AuditExpert.id == AuditAllocation.expert_id)
            .where(AuditExpert.user_id == expert_user, AuditAllocation.cycle_id == busy.cycle))
    reviewed = select(AuditResult.person_id).where(AuditResult.cycle_id == busy.cycle, AuditResult.reviewed.is_(True))
    waiting = _count(app, select(func.count()).select_from(
        mine.where(AuditAllocation.person_id.not_in(reviewed)).subquery()))
    allocated = _count(app, select(func.count()).select_from(mine.subquery()))
    assert (allocated, waiting) == (2, 1)
    n, href = _todo(_todos(html), "名学员待审验")
    assert n == waiting
    _shows_exactly(c, href, {"张三"}, {"王五", "李四"})
    # The audit dashboard: allocated / reviewed / computed.
    assert re.search(r'id="audit-total">2<', html) and re.search(r'id="audit-reviewed">1<', html)
    assert re.search(r'id="audit-computed">0<', html) and re.search(r'id="audit-pending">1<', html)


# ------------------------------------------------------------ the student and the secretary (wrong home 3)
def test_student_sees_the_progress_of_the_credit_year(app, world, busy, login):
    html = login("tech_a").get("/").get_data(as_text=True)
    box = re.search(r'id="home-progress">(.*?)id="todo-list"', html, re.DOTALL).group(1)
    assert re.search(r"<strong>34</strong> / 25", box) and "已达标" in box
    html = login("tech_b").get("/").get_data(as_text=True)
    box = re.search(r'id="home-progress">(.*?)id="todo-list"', html, re.DOTALL).group(1)
    assert re.search(r"<strong>20</strong> / 25", box) and "未达标" in box and "还差 5 学分" in box


@pytest.mark.parametrize("user,org_column,org", [("sec_a", "department_id", "a_dept"),
                                                 ("inst_a", "institution_id", "a"),
                                                 ("district1", "district_id", "d1"), ("city", None, None)])
def test_compliance_of_the_people_in_scope(app, world, busy, login, user, org_column, org):
    from app.models import ComplianceResult

    cond = [ComplianceResult.year == busy.year]
    if org_column:
        cond.append(getattr(ComplianceResult, org_column) == getattr(world, org))
    total = _count(app, select(func.count(ComplianceResult.id)).where(*cond))
    met = _count(app, select(func.count(ComplianceResult.id)).where(*cond, ComplianceResult.met.is_(True)))
    html = login(user).get("/").get_data(as_text=True)
    assert f'id="share-met">{met}<' in html and f'id="share-total">{total}<' in html, (user, met, total)
    assert total > 0
    # 查看未达标的 n 人 opens the compliance list of exactly those people.
    href = htmllib.unescape(re.search(r'<a href="([^"]*)">查看未达标的 (\d+) 人', html).group(1))
    assert re.search(r'>查看未达标的 (\d+) 人', html).group(1) == str(total - met)
    names = {"张三": True, "李四": False, "赵六": True, "王五": False, "孙七": True}
    with app.app_context():
        from app.extensions import db
        from app.models import Person
        shown = {db.session.get(Person, r.person_id).name for r in db.session.scalars(
            select(ComplianceResult).where(*cond, ComplianceResult.met.is_(False)))}
        db.session.remove()
    assert len(shown) == total - met and all(not names[n] for n in shown)
    _shows_exactly(login(user), href, shown, {n for n in names if names[n]} | ({"王五"} - shown))


def test_district_and_city_see_compliance_by_institution(app, world, busy, login):
    def rows(html):
        block = re.search(r'id="home-by-institution">(.*?)</table>', html, re.DOTALL).group(1)
        return [(name, int(m), int(t)) for name, m, t in re.findall(
            r'cme-bar-name">([^<]*)</td>.*?cme-bar-num">(\d+) / (\d+)</td>', block, re.DOTALL)]

    assert rows(login("district1").get("/").get_data(as_text=True)) == [("甲医院", 1, 2), ("丙社区卫生服务中心", 1, 1)]
    assert rows(login("city").get("/").get_data(as_text=True)) == [
        ("乙医院", 1, 2), ("甲医院", 1, 2), ("丙社区卫生服务中心", 1, 1)]  # ties by name
    # Not for the institution or the secretary (their own share only).
    assert 'id="home-by-institution"' not in login("inst_a").get("/").get_data(as_text=True)


# ------------------------------------------------------------ every role: no to-do it cannot open
@pytest.mark.parametrize("user", ["inst_a", "sec_a", "tech_a", "site", "district2"])
def test_other_roles_count_only_what_they_decide(app, world, busy, login, user):
    from app.models import SelfStudy

    todos = _todos(login(user).get("/").get_data(as_text=True))
    # The secretary does not grant self-study (roles: only institutions and districts do).
    scope_of = {"inst_a": SelfStudy.institution_id == world.a, "district2": SelfStudy.district_id == world.d2}
    if user in scope_of:
        n, href = _todo(todos, "自学计划待授分")
        assert n == _count(app, select(func.count(SelfStudy.id)).where(scope_of[user],
                                                                      SelfStudy.status == "submitted"))
        wanted, unwanted = ({"张三"}, {"李四", "赵六", "王五"}) if user == "inst_a" else ({"王五"}, {"孙七", "张三"})
        _shows_exactly(login(user), href, wanted, unwanted)
    else:
        assert not any("待授分" in label for label in todos)
    for other in ("教学活动计划待审核", "项目报备待审核", "项目有异常提示", "审验复审申请待复审", "名学员待审验"):
        if user == "district2" and other in ("教学活动计划待审核", "项目报备待审核", "项目有异常提示"):
            continue
        assert not any(other in label for label in todos), (user, other, todos)
    if user == "district2":
        assert _todo(todos, "教学活动计划待审核")[0] == 1 and _todo(todos, "项目报备待审核")[0] == 1
        assert _todo(todos, "项目有异常提示")[0] == 1


def test_institution_home_counts_what_was_sent_back_to_it(app, world, busy, login):
    from app.models import PracticePlan
    from app.models.supervision import Filing

    c = login("inst_a")
    todos = _todos(c.get("/").get_data(as_text=True))
    n, href = _todo(todos, "教学活动计划未通过审核")
    assert n == _count(app, select(func.count(PracticePlan.id)).where(PracticePlan.institution_id == world.a,
                                                                     PracticePlan.status == "rejected")) == 1
    _shows_exactly(c, href, {"计划甲不通过"}, {"计划甲待审", "计划甲已通过", "计划丙待审"})
    for text, status, wanted, unwanted in (
            ("项目报备审核不通过", "rejected", {"报备甲不通过"}, {"报备丙不通过", "报备甲退回", "报备甲待审"}),
            ("项目报备被退回", "returned", {"报备甲退回"}, {"报备甲不通过", "报备甲草稿", "报备甲待审"})):
        n, href = _todo(todos, text)
        assert n == _count(app, select(func.count(Filing.id)).where(Filing.institution_id == world.a,
                                                                   Filing.status == status)) == 1
        _shows_exactly(c, href, wanted, unwanted)


# ------------------------------------------------------------------------ 现场会务负责人
def test_site_manager_home_counts_the_current_period_without_feedback(app, world, login, clock):
    """The period going on now whose 现场反馈 is not submitted is the manager's to-do; once submitted, or for a
    period of another manager, it is not."""
    clock.at(IN_PERIOD, tick=True)
    from app.extensions import db
    from app.models import CmeUser
    from app.models.supervision import Feedback, Period
    from tests.supervision.helpers import add_filing, add_manager, all_day_hours

    with app.app_context():
        all_day_hours()
        mine = add_filing(world.a, "S-1", "approved", name="现场甲")
        other = add_filing(world.b, "S-2", "approved", name="现场乙")
        manager = add_manager(mine)
        manager.user_id = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "site"))
        add_manager(other, phone="13900000002")
        db.session.commit()
        manager_id, filing_id = manager.id, mine.id
        db.session.remove()

    def expected() -> int:
        now = datetime.datetime.now()
        submitted = select(Feedback.period_id).where(Feedback.manager_id == manager_id,
                                                     Feedback.submitted_at.is_not(None))
        return _count(app, select(func.count(Period.id)).where(
            Period.filing_id == filing_id, Period.starts_at <= now, Period.ends_at >= now,
            Period.id.not_in(submitted)))

    c = login("site")
    n, href = _todo(_todos(c.get("/").get_data(as_text=True)), "督查时段待提交现场反馈")
    assert n == expected() == 1
    assert href == "/m/"
    with app.app_context():
        period = db.session.scalar(select(Period).where(Period.filing_id == filing_id,
                                                        Period.starts_at <= datetime.datetime.now(),
                                                        Period.ends_at >= datetime.datetime.now()))
        db.session.add(Feedback(period_id=period.id, manager_id=manager_id, filing_id=filing_id,
                                submitted_at=datetime.datetime.now()))
        db.session.commit()
        db.session.remove()
    assert expected() == 0
    assert not any("督查时段" in label for label in _todos(c.get("/").get_data(as_text=True)))
    # The manager's periods are nobody else's to-do.
    assert not any("督查时段" in label for label in _todos(login("inst_a").get("/").get_data(as_text=True)))


# ------------------------------------------------------------------------ one query per box
def _more_waiting(app, world, n: int, start: int) -> None:
    """``n`` more waiting items of each kind in 甲医院 (plans, filings, flagged projects, self-study forms,
    compliance results of new persons)."""
    from app.extensions import db
    from app.models import ComplianceResult, Org, PracticePlan, RuleSet, SelfStudy
    from tests import helpers
    from tests.projects.helpers import make_project
    from tests.supervision.helpers import add_filing

    with app.app_context():
        inst = db.session.get(Org, world.a)
        rule_set_id = db.session.scalar(select(RuleSet.id).order_by(RuleSet.id))
        year = db.session.scalar(select(ComplianceResult.year).limit(1))
        for i in range(start, start + n):
            db.session.add(PracticePlan(institution_id=inst.id, district_id=inst.district_id, name=f"多计划{i}",
                                        plan_type="年度计划", activity_forms="手术示范", status="pending"))
            add_filing(world.a, f"M-{i}", "pending", name=f"多报备{i}")
            make_project(world.a, no=f"MANY-{i}").flagged = True
            dept = Org(kind="department", name=f"多科{i}", code=f"TM{i:03d}", parent=inst)
            db.session.add(dept)
            db.session.flush()
            person = helpers.add_person(inst, dept, f"多人{i}", f"M{i:07d}")
            db.session.add(SelfStudy(person_id=person.id, year=2025, district_id=person.district_id,
                                     institution_id=person.institution_id, department_id=person.department_id,
                                     status="submitted", data={}, submitted_by="owner"))
            db.session.add(ComplianceResult(
                person_id=person.id, year=year, rule_set_id=rule_set_id, district_id=person.district_id,
                institution_id=person.institution_id, department_id=person.department_id, title_level="中级",
                total=Decimal(i), required=Decimal(25), met=i % 2 == 0))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("user", ["city", "district1", "inst_a", "sec_a", "expert", "tech_a", "site"])
def test_home_statements_do_not_grow_with_the_waiting_rows(app, world, busy, login, user):
    from tests.views.test_list_scale import _statements

    c = login(user)
    _more_waiting(app, world, 1, 0)
    one = _statements(app, c, "/")
    _more_waiting(app, world, 12, 1)
    many = _statements(app, c, "/")
    # Not more statements (the student's first page may load its person once more: the identity map).
    assert len(many) <= len(one), (user, len(one), len(many), many)
    if user in ("city", "district1"):
        assert _todo(_todos(c.get("/").get_data(as_text=True)), "教学活动计划待审核")[0] == (
            16 if user == "city" else 15)
