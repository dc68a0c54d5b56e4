"""继教项目申报 and approval (issue 16 item 9).

Seed 002 二 1: "各项目申报单位需在规定时间内完成项目申报，经市级审核、批准、取得项目编号后方可举办，未经审批举办的
项目不予授分。"  Seed 002 二 3: "…并及时在申报系统提交项目执行反馈。"
Seed 003 添加继教项目: "可查看到已申报的项目列表，选择添加此项目。"
"""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import Org
from app.models.projects import Declaration, ProjectCatalog
from app.models.review import ReviewLog
from app.models.users import CmeUser
from app.services import declarations as decl
from app.services import workflow

FORM = {"year": "2026", "name": "基层慢病规范化管理培训班", "category": "市级继续医学教育项目", "subject": "全科医学",
        "credits": "4", "hours": "12", "planned_count": "60", "starts_on": "2026-05-20", "ends_on": "2026-05-21",
        "place": "门诊楼三层学术报告厅", "leader": "张明华", "phone": "13800000000"}


def _user(name: str) -> CmeUser:
    return db.session.scalar(select(CmeUser).where(CmeUser.username == name))


def _declare(form=None, submit=True, who="inst_a") -> Declaration:
    row = decl.create(db.session, _user(who), {**FORM, **(form or {})}, submit)
    db.session.commit()
    return row


def test_city_project_is_reviewed_by_the_district_approved_by_the_city_and_numbered(app_ctx, world):
    """二 1 "经市级审核、批准、取得项目编号后方可举办": district 初审, city 批准, the number and the catalogue."""
    row = _declare()
    assert row.status == "submitted" and row.approval_no is None
    # The city cannot decide before the district has passed it.
    with pytest.raises(workflow.WorkflowError):
        decl.review(db.session, _user("city"), row, "pass")
    db.session.rollback()
    decl.review(db.session, _user("district1"), row, "pass")
    db.session.commit()
    assert row.status == "district_passed" and row.approval_no is None
    assert db.session.scalar(select(ProjectCatalog).where(ProjectCatalog.name == FORM["name"])) is None
    decl.review(db.session, _user("city"), row, "pass")
    db.session.commit()
    assert row.status == "approved" and row.approval_no == "2026-SJ-001 (京)"
    catalog = db.session.get(ProjectCatalog, row.catalog_id)
    assert (catalog.approval_no, catalog.name, catalog.category, catalog.organizer, catalog.planned_count) == (
        "2026-SJ-001 (京)", FORM["name"], "市级继续医学教育项目", "甲医院", 60)
    logs = [(entry.result, entry.actor) for entry in workflow.logs("cme_declaration", row.id)]
    assert logs == [("提交申报", "unit"), ("区级审核通过，报市级审批", "district"), ("市级批准", "city")]


def test_district_project_is_approved_by_its_district(app_ctx, world):
    row = _declare({"category": "区级继续医学教育项目"})
    decl.review(db.session, _user("district1"), row, "pass")
    db.session.commit()
    assert row.status == "approved" and row.approval_no == "2026-QJ-001 (京)"


def test_return_needs_a_reason_and_the_unit_corrects_and_submits_again(app_ctx, world):
    row = _declare()
    with pytest.raises(workflow.WorkflowError, match="原因"):
        decl.review(db.session, _user("district1"), row, "return", "")
    db.session.rollback()
    decl.review(db.session, _user("district1"), row, "return", "计划人数与场地不符")
    db.session.commit()
    assert row.status == "returned"
    decl.update_draft(db.session, _user("inst_a"), row, {**FORM, "planned_count": "40"}, submit=True)
    db.session.commit()
    assert row.status == "submitted" and row.planned_count == 40
    decl.review(db.session, _user("district1"), row, "reject", "与已有项目重复")
    db.session.commit()
    assert row.status == "rejected"
    with pytest.raises(decl.DeclarationError):
        decl.update_draft(db.session, _user("inst_a"), row, FORM, submit=True)
    db.session.rollback()


def test_declaration_fields_are_checked(app_ctx, world):
    for change, message in [({"name": ""}, "请填写项目名称"), ({"category": "国家级继续医学教育项目"}, "项目级别应为"),
                            ({"credits": "-1"}, "拟授学分"), ({"starts_on": "2026-06-01"}, "开始日期不能晚于"),
                            ({"starts_on": "2025-12-30"}, "申报年度")]:
        with pytest.raises(decl.DeclarationError, match=message):
            decl.create(db.session, _user("inst_a"), {**FORM, **change}, True)
        db.session.rollback()
    with pytest.raises(decl.DeclarationError, match="医疗机构"):
        decl.create(db.session, _user("district1"), FORM, True)
    db.session.rollback()


def test_numbers_are_sequential_and_skip_a_number_already_in_the_catalogue(app_ctx, world):
    from decimal import Decimal

    db.session.add(ProjectCatalog(approval_no="2026-SJ-002 (京)", name="已导入", category="市级继续医学教育项目",
                                  credits=Decimal(1), hours=Decimal(3), year=2026, planned_count=10))
    db.session.commit()
    numbers = []
    for i in range(3):
        row = _declare({"name": f"项目{i}"})
        decl.review(db.session, _user("district1"), row, "pass")
        decl.review(db.session, _user("city"), row, "pass")
        db.session.commit()
        numbers.append(row.approval_no)
    assert numbers == ["2026-SJ-001 (京)", "2026-SJ-003 (京)", "2026-SJ-004 (京)"]


def test_second_reviewer_of_the_same_declaration_is_refused(app_ctx, world):
    """Two district users deciding at once: the guarded UPDATE lets one through, the other gets a conflict."""
    row = _declare()
    decl.review(db.session, _user("district1"), row, "pass")
    db.session.commit()
    set_committed_value(row, "status", "submitted")  # what the second reviewer's session still held
    with pytest.raises(workflow.TransitionConflict):
        workflow.apply(row, "district_return", _user("district1"), "晚了一步")
    db.session.rollback()
    assert db.session.scalar(select(Declaration.status).where(Declaration.id == row.id)) == "district_passed"
    assert db.session.scalar(select(ReviewLog.id).where(ReviewLog.owner_type == "cme_declaration",
                                                        ReviewLog.result == "区级退回")) is None


def test_execution_feedback_only_after_the_project_ended(app_ctx, world, clock):
    """二 3 "及时在申报系统提交项目执行反馈": refused before the last day has passed, accepted after."""
    row = _declare({"category": "区级继续医学教育项目"})
    decl.review(db.session, _user("district1"), row, "pass")
    db.session.commit()
    feedback = {"actual_starts_on": "2026-05-20", "actual_ends_on": "2026-05-21", "actual_count": "58",
                "feedback": "按计划举办，考核合格56人"}
    clock.at(datetime.datetime(2026, 5, 21, 17, 0))
    with pytest.raises(workflow.WorkflowError, match="项目结束后"):
        decl.file_feedback(db.session, _user("inst_a"), row, feedback)
    db.session.rollback()
    clock.at(datetime.datetime(2026, 5, 22, 9, 0))
    with pytest.raises(workflow.WorkflowError):  # only the declaring unit
        decl.file_feedback(db.session, _user("inst_b"), row, feedback)
    db.session.rollback()
    decl.file_feedback(db.session, _user("inst_a"), row, feedback)
    db.session.commit()
    assert row.status == "fed_back" and row.actual_count == 58 and row.feedback_at is not None


# ------------------------------------------------------------------------------------------ screens
def test_unit_declares_on_the_screen_and_the_district_and_city_approve(app, world, login):
    unit = login("inst_a")
    r = unit.get("/declarations/add")
    assert r.status_code == 200 and "项目负责人" in r.get_data(as_text=True)
    r = unit.post("/declarations/add", data={**FORM, "submit": "1"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "已提交申报，等待区级审核" in html and "待区级审核" in html
    r = unit.post("/declarations/add", data={**FORM, "leader": "", "submit": "1"})
    assert r.status_code == 422 and "请填写项目负责人" in r.get_data(as_text=True)
    with app.app_context():
        pk = db.session.scalar(select(Declaration.id))
    district = login("district1")
    html = district.get("/declaration-review/").get_data(as_text=True)
    assert FORM["name"] in html and "项目申报审核" in html
    r = district.post(f"/declarations/review/{pk}", data={"decision": "pass"}, follow_redirects=True)
    assert "审核完成" in r.get_data(as_text=True)
    city = login("city")
    assert FORM["name"] in city.get("/declaration-review/").get_data(as_text=True)
    r = city.post(f"/declarations/review/{pk}", data={"decision": "pass"}, follow_redirects=True)
    assert "已批准，项目编号2026-SJ-001 (京)" in r.get_data(as_text=True)
    # The approved project is in the catalogue the units adopt from (seed 003 添加此项目).
    html = unit.get("/project-catalog/list/?_flt_0_approval_no=2026-SJ-001").get_data(as_text=True)
    assert "2026-SJ-001 (京)" in html
    # Filters and the Excel export of the list.
    assert FORM["name"] in unit.get("/declarations/?status=approved&year=2026").get_data(as_text=True)
    assert FORM["name"] not in unit.get("/declarations/?status=returned").get_data(as_text=True)
    r = unit.get("/declarations/export.xlsx?status=approved")
    assert r.status_code == 200 and r.data[:2] == b"PK"


def test_another_institution_cannot_read_or_change_a_declaration_by_its_id(app, world, login):
    with app.app_context():
        row = _declare()
        pk = row.id
    other = login("inst_b")
    assert other.get(f"/declarations/show/{pk}").status_code == 404
    assert other.get(f"/declarations/edit/{pk}").status_code == 404
    assert other.post(f"/declarations/feedback/{pk}", data={"feedback": "x"}).status_code == 404
    assert FORM["name"] not in other.get("/declarations/").get_data(as_text=True)
    # Nor the other district's reviewer.
    outsider = login("district2")
    assert outsider.get(f"/declarations/show/{pk}").status_code == 404
    assert outsider.post(f"/declarations/review/{pk}", data={"decision": "pass"}).status_code == 404
    with app.app_context():
        assert db.session.get(Declaration, pk).status == "submitted"
        assert db.session.get(Org, world.a).name == "甲医院"


def test_demo_shows_a_declared_project_waiting_for_approval(app, world, login, clock):
    """Issue 16 "Done when": the demo shows a declared project waiting for approval."""
    from types import SimpleNamespace

    from app.demo.declarations import declarations
    from app.models.projects import PracticeActivity
    from app.services import practice_activities

    now = clock.at()
    with app.app_context():
        users = SimpleNamespace(hospital=_user("inst_a"), district=_user("district1"), admin=_user("city"))
        counts = declarations(db.session, users, db.session.get(Org, world.a), now)
        db.session.commit()
        statuses = sorted(db.session.scalars(select(Declaration.status)))
        assert counts["declarations"] == 4
        assert statuses == ["approved", "district_passed", "returned", "submitted"]
        activity = db.session.scalar(select(PracticeActivity))
        assert practice_activities.in_window(activity, now)
    # The city's and the district's review lists show what waits for them; every new page answers 200.
    assert "基层医疗机构高血压规范化诊疗培训班" in login("city").get("/declaration-review/").get_data(as_text=True)
    assert "社区护理适宜技术推广班" in login("district1").get("/declaration-review/").get_data(as_text=True)
    for user in ("inst_a", "district1", "city"):
        c = login(user)
        for page in ("/declarations/", "/project-signin-window/", "/practice-activities/list/"):
            assert c.get(page).status_code == 200, (user, page)
        with app.app_context():
            pk = db.session.scalar(select(Declaration.id).where(Declaration.status == "approved"))
        html = c.get(f"/declarations/show/{pk}").get_data(as_text=True)
        assert "2026-QJ-001 (京)" in html
        assert ("提交执行反馈" in html) == (user == "inst_a")


def test_declarations_are_submitted_only_inside_the_set_period(app_ctx, world, clock):
    """二 1 "各项目申报单位需在规定时间内完成项目申报": the city sets the period (parameter declaration_window);
    outside it a declaration can be saved but not submitted."""
    from app.models import Parameter

    row = db.session.scalar(select(Parameter).where(Parameter.key == "declaration_window"))
    if row is None:
        row = Parameter(key="declaration_window", name="继教项目申报时间", value="")
        db.session.add(row)
    row.value = "09-01~11-30"
    db.session.commit()
    clock.at(datetime.datetime(2026, 3, 18, 10, 0))
    with pytest.raises(decl.DeclarationError, match="不在规定的项目申报时间内（09-01至11-30）"):
        decl.create(db.session, _user("inst_a"), {**FORM, "year": "2027", "starts_on": "2027-05-20",
                                                  "ends_on": "2027-05-21"}, True)
    db.session.rollback()
    draft = decl.create(db.session, _user("inst_a"), {**FORM, "year": "2027", "starts_on": "2027-05-20",
                                                      "ends_on": "2027-05-21"}, False)
    db.session.commit()
    assert draft.status == "draft"
    clock.at(datetime.datetime(2026, 9, 10, 10, 0))
    decl.update_draft(db.session, _user("inst_a"), draft, {**FORM, "year": "2027", "starts_on": "2027-05-20",
                                                           "ends_on": "2027-05-21"}, submit=True)
    db.session.commit()
    assert draft.status == "submitted"
    row = db.session.scalar(select(Parameter).where(Parameter.key == "declaration_window"))
    row.value = ""
    db.session.commit()


def test_home_to_dos_count_the_declarations_each_reviewer_decides(app, world, login):
    """Issue 15.1: every waiting kind on the deciding role's home — the district's 待区级审核, the city's
    待市级审批, the unit's returned ones — counted as in the database and linked to the list."""
    from tests.views.test_home_roles import _todo, _todos

    with app.app_context():
        _declare()
        second, third = _declare({"name": "第二个项目"}), _declare({"name": "第三个项目"})
        decl.review(db.session, _user("district1"), second, "pass")
        decl.review(db.session, _user("district1"), third, "return", "请补充课程安排")
        db.session.commit()
        waiting = {s: db.session.scalar(select(db.func.count(Declaration.id)).where(Declaration.status == s))
                   for s in ("submitted", "district_passed", "returned")}
    assert waiting == {"submitted": 1, "district_passed": 1, "returned": 1}
    count, link = _todo(_todos(login("district1").get("/").get_data(as_text=True)), "继教项目申报待区级审核")
    assert (count, link) == (waiting["submitted"], "/declaration-review/")
    count, link = _todo(_todos(login("city").get("/").get_data(as_text=True)), "继教项目申报待市级审批")
    assert (count, link) == (waiting["district_passed"], "/declaration-review/")
    count, link = _todo(_todos(login("inst_a").get("/").get_data(as_text=True)), "继教项目申报被退回")
    assert count == waiting["returned"] and link.startswith("/declarations/") and "status=returned" in link
    # Another institution has none of them waiting.
    assert not [label for label in _todos(login("inst_b").get("/").get_data(as_text=True)) if "申报" in label]
