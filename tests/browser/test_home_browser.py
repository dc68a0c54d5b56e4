"""The role-aware home in Chromium at 1366×768 (issue 15 item 1): the district's and the expert's homes
list every waiting item with its count, each link opens its list, the pictures fit; screenshots are kept
in the test's tmp dir (printed)."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from tests.views.test_home_roles import IN_PERIOD, seed_busy


def _world(app) -> SimpleNamespace:
    from app.extensions import db
    from app.models import Org, Person

    with app.app_context():
        people = dict(db.session.execute(select(Person.card_no, Person.id)).all())
        orgs = dict(db.session.execute(select(Org.code, Org.id)).all())
        db.session.remove()
    return SimpleNamespace(pa=people["A0000001"], pa2=people["A0000002"], pc=people["C0000001"],
                           pb=people["B0000001"], pb2=people["B0000002"], city=orgs["T00"], d1=orgs["T01"],
                           d2=orgs["T02"], a=orgs["TA"], a2=orgs["TC"], b=orgs["TB"], a_dept=orgs["TA1"],
                           a_dept2=orgs["TA2"], a2_dept=orgs["TC1"], b_dept=orgs["TB1"])


def _busy(app) -> tuple[SimpleNamespace, SimpleNamespace]:
    """(world, busy): the waiting items of tests/views/test_home_roles on a fresh world (each test of this
    module seeds its own)."""
    from app.extensions import db
    from tests import helpers

    with app.app_context():
        helpers.reset_data()
        helpers.build_world()
        db.session.remove()
    world = _world(app)
    with app.app_context():
        return world, seed_busy(world)


def _fits(page) -> None:
    """No horizontal scroll at 1366 px."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the home scrolls sideways"


def test_district_and_expert_homes_at_1366(browser_app, page, login_as, clock, tmp_path):
    clock.at(IN_PERIOD, tick=True)
    _busy(browser_app)
    page.set_viewport_size({"width": 1366, "height": 768})

    login_as("district1")
    page.goto("/")
    todos = page.locator("#todo-list a").all_inner_texts()
    for text in ("2 份教学活动计划待审核", "1 个项目报备待审核", "1 个项目有异常提示", "2 份自学计划待授分"):
        assert text in todos, todos
    assert page.locator("#share-met").inner_text() == "2" and page.locator("#share-total").inner_text() == "3"
    assert page.locator("#home-by-institution tr").count() == 2
    _fits(page)
    shot = tmp_path / "home-district-1366.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    with page.expect_navigation():
        page.locator("#todo-list a", has_text="教学活动计划待审核").click()
    body = page.locator("body").inner_text()
    assert "计划甲待审" in body and "计划丙待审" in body and "计划甲已通过" not in body
    page.goto("/")
    with page.expect_navigation():
        page.locator("#todo-list a", has_text="项目报备待审核").click()
    body = page.locator("body").inner_text()
    assert "报备甲待审" in body and "报备甲草稿" not in body

    page.context.clear_cookies()
    login_as("expert")
    page.goto("/")
    assert page.locator("#todo-list a").all_inner_texts() == ["1 名学员待审验"]
    assert [page.locator(f"#audit-{k}").inner_text() for k in ("total", "reviewed", "computed", "pending")] == \
        ["2", "1", "0", "1"]
    _fits(page)
    shot = tmp_path / "home-expert-1366.png"
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    with page.expect_navigation():
        page.locator("#todo-list a").click()
    rows = page.locator("#audit-persons tbody tr").all_inner_texts()
    assert len(rows) == 1 and "张三" in rows[0], rows


def _count(app, query) -> int:
    from app.extensions import db

    with app.app_context():
        n = db.session.scalar(query)
        db.session.remove()
    return n


def test_city_institution_secretary_and_student_homes_at_1366(browser_app, page, login_as, clock, tmp_path):
    """Issue 15.1 for the other office roles: every to-do the role decides, its count as the database
    has it, the role's own picture, nothing wider than the laptop's screen; a screenshot each."""
    from sqlalchemy import func

    from app.models import ComplianceResult, PracticePlan, Project, SelfStudy
    from app.models.audit_review import AuditAppeal
    from app.models.supervision import Filing

    clock.at(IN_PERIOD, tick=True)
    w, busy = _busy(browser_app)
    page.set_viewport_size({"width": 1366, "height": 768})
    app = browser_app
    pending = {
        "教学活动计划待审核": _count(app, select(func.count(PracticePlan.id)).where(PracticePlan.status == "pending")),
        "项目报备待审核": _count(app, select(func.count(Filing.id)).where(Filing.status == "pending")),
        "项目有异常提示": _count(app, select(func.count(Project.id)).where(Project.flagged.is_(True))),
        "审验复审申请待复审": _count(app, select(func.count(AuditAppeal.id)).where(AuditAppeal.status == "pending")),
    }
    expected = {
        "city": {text: n for text, n in pending.items() if n},
        "inst_a": {"自学计划待授分": _count(app, select(func.count(SelfStudy.id)).where(
            SelfStudy.institution_id == w.a, SelfStudy.status == "submitted")),
            "教学活动计划未通过审核": _count(app, select(func.count(PracticePlan.id)).where(
                PracticePlan.institution_id == w.a, PracticePlan.status == "rejected"))},
    }
    share_of = {"city": [], "inst_a": [ComplianceResult.institution_id == w.a],
                "sec_a": [ComplianceResult.department_id == w.a_dept]}
    for user in ("city", "inst_a", "sec_a", "tech_a"):
        page.context.clear_cookies()
        login_as(user)
        page.goto("/")
        shown = {}
        for text in page.locator("#todo-list a").all_inner_texts():
            number, _, label = text.partition(" ")
            shown[label] = int(number)
        for label, n in expected.get(user, {}).items():
            assert [v for k, v in shown.items() if label in k] == [n], (user, label, shown)
        if user in share_of:
            cond = [ComplianceResult.year == busy.year, *share_of[user]]
            total = _count(app, select(func.count(ComplianceResult.id)).where(*cond))
            met = _count(app, select(func.count(ComplianceResult.id)).where(*cond, ComplianceResult.met.is_(True)))
            assert (page.locator("#share-met").inner_text(), page.locator("#share-total").inner_text()) == (
                str(met), str(total)), user
        else:  # the student: this credit year's progress against the requirement
            assert "/ 25" in page.locator("#home-progress").inner_text()
        _fits(page)
        shot = tmp_path / f"home-{user}-1366.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
    assert not page.js_errors
