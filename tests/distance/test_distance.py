"""Distance education (远程继续医学教育, issue 16.11), with real .xlsx files.

Seed 002 一 4: "各远程继续医学教育机构 … 须及时向市继教办备案远程继续医学教育项目";
二 4: "须提前向市继教办备案并提交远程继续医学教育项目课程安排，经市级继教办审核批准后方可举办。项目结束后及时
提交学习记录、学员信息及考核资料，经市级审核后授予相应学分，不得直接向学员授予学分";
三 4: "远程机构负责定期将学员学习情况反馈至市继教办，经市级审核后，系统统一授予学分".
"""
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ComplianceResult, Credit, Job, Org
from app.models.distance import DistanceProject, DistanceRecord, DistanceUpload
from app.services import roles as R
from app.services.files import resolve
from tests.helpers import PASSWORD, xlsx_bytes

HEADER = ["IC卡号", "姓名", "学习学时", "完成日期", "考核结果"]
PROJECT = {"code": "YC2025-001", "name": "基层慢病管理网络课程", "category": "市级继续医学教育项目", "credits": "5",
           "hours": "15", "starts_on": "2025-03-01", "ends_on": "2025-08-31", "courses": "高血压；糖尿病"}


@pytest.fixture
def distance_world(app, world, clock):
    """Two distance-education institutions (one per district) with a login each; Beijing 2025 in force."""
    from app.cli import add_user

    clock.at(datetime.datetime(2025, 9, 10, 10, 0), tick=True)
    with app.app_context():
        ids = {}
        for key, district, code in (("da", world.d1, "TDA"), ("db", world.d2, "TDB")):
            org = Org(kind="institution", name=f"远程教育中心{code}", code=code, inst_type="其他",
                      parent=db.session.get(Org, district))
            db.session.add(org)
            db.session.flush()
            add_user(f"dist_{key}", R.DISTANCE_INSTITUTION, last_name=org.name, first_name="", password=PASSWORD,
                     org=org)
            ids[key] = org.id
        db.session.commit()
    return ids


def _file(client, **over):
    return client.post("/distance/projects/add", data={**PROJECT, **over})


def _approved_project(login, app) -> int:
    _file(login("dist_da"))
    with app.app_context():
        pid = db.session.scalar(select(DistanceProject.id).where(DistanceProject.code == PROJECT["code"]))
    login("city").post(f"/distance/projects/{pid}/review", data={"decision": "pass"})
    return pid


def _upload(client, pid, rows, header=HEADER):
    return client.post(f"/distance/uploads/upload/{pid}", data={"file": (xlsx_bytes(rows, header), "学习记录.xlsx")},
                       content_type="multipart/form-data")


def test_filed_approved_uploaded_reviewed_and_granted(app, world, distance_world, login):
    da = login("dist_da")
    r = _file(da)
    assert r.status_code == 302
    with app.app_context():
        project = db.session.scalar(select(DistanceProject))
        assert (project.status, project.institution_id) == ("pending", distance_world["da"])
        pid = project.id
    # 二 4 "经市级继教办审核批准后方可举办": no upload before the city approves.
    r = _upload(da, pid, [["A0000001", "张三", 15, "2025-08-20", "合格"]])
    assert "项目备案经市级审核批准后才能上传学习记录" in da.get(f"/distance/projects/{pid}").get_data(as_text=True) \
        or r.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(DistanceUpload.id))) == 0
    # The institution cannot approve its own filing.
    da.post(f"/distance/projects/{pid}/review", data={"decision": "pass"})
    with app.app_context():
        assert db.session.get(DistanceProject, pid).status == "pending"
    city = login("city")
    assert "基层慢病管理网络课程" in city.get("/distance/projects/").get_data(as_text=True)
    city.post(f"/distance/projects/{pid}/review", data={"decision": "pass"})
    with app.app_context():
        assert db.session.get(DistanceProject, pid).status == "approved"
    rows = [["A0000001", "张三", 15, datetime.datetime(2025, 8, 20), "合格"],
            ["A0000002", "李四", "12.5", "2025-08-21", "合格"],
            ["B0000001", "王五", 15, "2025-08-22", "不合格"]]
    r = _upload(da, pid, rows)
    assert r.status_code == 302 and "job=" in r.headers["Location"]
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "distance_import"))
        assert job.status == "finished", job.message
        upload = db.session.scalar(select(DistanceUpload))
        assert (upload.status, upload.rows, upload.institution_id) == ("pending", 3, distance_world["da"])
        uid = upload.id
        # 二 4 "不得直接向学员授予学分": nothing granted before the city's review.
        assert db.session.scalar(select(func.count(Credit.id))) == 0
    assert "待市级审核" in da.get(f"/distance/uploads/{uid}").get_data(as_text=True)
    export = da.get(f"/distance/uploads/{uid}/export")
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    assert [c.value for c in sheet[1]][:3] == ["行号", "IC卡号", "姓名"] and sheet.max_row == 4
    # 三 4 "经市级审核后，系统统一授予学分": the city passes; the 合格 learners get the project's credits.
    r = city.post(f"/distance/uploads/{uid}/review", data={"decision": "pass"}, follow_redirects=True)
    assert "已为 2 名考核合格的学员授予学分" in r.get_data(as_text=True)
    with app.app_context():
        credits = list(db.session.scalars(select(Credit).order_by(Credit.id)))
        assert len(credits) == 2
        assert {(c.source, c.status, c.credits, c.project_no, c.category) for c in credits} == {
            ("distance", "city_approved", Decimal("5.00"), "YC2025-001", "市级继续医学教育项目")}
        assert {c.person_id for c in credits} == {world.pa, world.pa2}
        assert credits[0].standard_id is not None and credits[0].rule_set_id is not None
        assert db.session.get(DistanceUpload, uid).credited == 2
        assert db.session.scalar(select(func.count(DistanceRecord.id)).where(DistanceRecord.credit_id.is_not(None))) == 2
        # The commit's compliance hook judged the two learners (Beijing 2025: year 2025).
        stored = db.session.scalar(select(ComplianceResult).where(ComplianceResult.person_id == world.pa,
                                                                  ComplianceResult.year == 2025))
        assert stored is not None and Decimal(str(stored.total)) == Decimal(5)
    # Decided once: a second decision is refused and grants nothing more.
    r = city.post(f"/distance/uploads/{uid}/review", data={"decision": "pass"}, follow_redirects=True)
    assert "该批学习记录已审核，不能重复审核" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Credit.id))) == 2


def test_row_and_column_errors_import_nothing(app, world, distance_world, login):
    pid = _approved_project(login, app)
    bad = [["A0000001", "张三", 15, "2025-08-20", "合格"],
           ["X9999999", "无名", 15, "2025-08-20", "合格"],  # unknown card
           ["A0000002", "李四四", 15, "2025-08-20", "合格"],  # name does not match the card
           ["B0000001", "王五", 16, "2025-08-20", "合格"],  # more hours than the project's 15
           ["B0000002", "孙七", 10, "2025-09-20", "良好"],  # after the project; not 合格/不合格
           ["A0000001", "张三", 15, "2025-08-20", "合格"]]  # the same learner twice
    _upload(login("dist_da"), pid, bad)
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "distance_import"))
        assert job.status == "failed" and "共6处错误，未导入任何数据" in job.message
        report = openpyxl.load_workbook(resolve(app.config["JOB_FILES_DIR"], job.result_path)).active
        found = {(r[0], r[1]) for r in report.iter_rows(min_row=2, values_only=True)}
        assert found == {(3, "IC卡号"), (4, "姓名"), (5, "学习学时"), (6, "完成日期"), (6, "考核结果"), (7, "IC卡号")}
        assert db.session.scalar(select(func.count(DistanceUpload.id))) == 0
        assert db.session.scalar(select(func.count(DistanceRecord.id))) == 0
    # A workbook without the template's columns is refused as a whole.
    _upload(login("dist_da"), pid, [["A0000001", "张三"]], header=["IC卡号", "姓名"])
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "distance_import").order_by(Job.created_at.desc()))
        assert job.status == "failed" and "缺少列：学习学时、完成日期、考核结果" in job.message


def test_rejection_needs_a_reason_and_frees_the_learners(app, world, distance_world, login):
    pid = _approved_project(login, app)
    rows = [["A0000001", "张三", 15, "2025-08-20", "合格"]]
    da = login("dist_da")
    _upload(da, pid, rows)
    with app.app_context():
        uid = db.session.scalar(select(DistanceUpload.id))
    city = login("city")
    r = city.post(f"/distance/uploads/{uid}/review", data={"decision": "fail", "reason": " "}, follow_redirects=True)
    assert "请填写不通过原因" in r.get_data(as_text=True)
    city.post(f"/distance/uploads/{uid}/review", data={"decision": "fail", "reason": "缺少考核资料"})
    with app.app_context():
        upload = db.session.get(DistanceUpload, uid)
        assert (upload.status, upload.reason) == ("rejected", "缺少考核资料")
        assert db.session.scalar(select(func.count(Credit.id))) == 0
    # After a rejection the learner may be sent again (a corrected file); while that upload waits, not.
    _upload(da, pid, [["A0000001", "张三", 14, "2025-08-20", "合格"]])
    with app.app_context():
        assert db.session.scalar(select(func.count(DistanceUpload.id))) == 2
    _upload(da, pid, [["A0000001", "张三", 13, "2025-08-20", "合格"]])
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "distance_import").order_by(Job.created_at.desc()))
        assert job.status == "failed" and "该学员在本项目中已上传过学习记录" in job.message
        assert db.session.scalar(select(func.count(DistanceUpload.id))) == 2


def test_an_institution_sees_only_its_own(app, world, distance_world, login):
    pid = _approved_project(login, app)
    _upload(login("dist_da"), pid, [["A0000001", "张三", 15, "2025-08-20", "合格"]])
    with app.app_context():
        uid = db.session.scalar(select(DistanceUpload.id))
    other = login("dist_db")
    assert "基层慢病管理网络课程" not in other.get("/distance/projects/").get_data(as_text=True)
    assert "基层慢病管理网络课程" not in other.get("/distance/uploads/").get_data(as_text=True)
    # Guessed ids of the other institution: 404, nothing uploaded or exported.
    assert other.get(f"/distance/projects/{pid}").status_code == 404
    assert other.get(f"/distance/uploads/{uid}").status_code == 404
    assert other.get(f"/distance/uploads/{uid}/export").status_code == 404
    r = _upload(other, pid, [["A0000002", "李四", 15, "2025-08-20", "合格"]])
    assert r.status_code == 404
    assert other.post(f"/distance/projects/{pid}/delete").status_code in (403, 404, 302)
    with app.app_context():
        assert db.session.get(DistanceProject, pid) is not None
        assert db.session.scalar(select(func.count(DistanceUpload.id))) == 1
    # The owner sees both; a hospital's admin has no distance-education pages at all.
    own = login("dist_da")
    assert own.get("/", follow_redirects=True).status_code == 200  # the role's home page
    assert "基层慢病管理网络课程" in own.get("/distance/uploads/").get_data(as_text=True)
    assert login("inst_a").get("/distance/projects/").status_code in (302, 403)
    # The institution cannot pass its own upload (no permission; the service refuses a non-city scope too).
    own.post(f"/distance/uploads/{uid}/review", data={"decision": "pass"})
    with app.app_context():
        assert db.session.get(DistanceUpload, uid).status == "pending"
        from app.services import distance
        from app.services.scope import Scope

        with pytest.raises(distance.DistanceError):
            distance.review_upload(db.session, Scope("institution", org_id=distance_world["da"]), None,
                                   db.session.get(DistanceUpload, uid), True, region="北京市")


def test_filing_form_refuses_bad_values_and_template_downloads(app, world, distance_world, login):
    da = login("dist_da")
    r = _file(da, code="", credits="0", category="发表论文", starts_on="2025-09-01", ends_on="2025-08-01")
    text = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "请填写项目编号" in text and "项目学分必须是大于0" in text and "学分类别须为当前授分规则中的项目导入类别" in text
    assert "开始日期不能晚于结束日期" in text
    tpl = da.get("/distance/uploads/template")
    assert tpl.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(tpl.data)).active
    assert [c.value for c in sheet[1]] == HEADER
    _file(da)
    with app.app_context():
        pid = db.session.scalar(select(DistanceProject.id))
    r = da.post(f"/distance/projects/{pid}/delete", follow_redirects=True)
    assert "项目备案已删除" in r.get_data(as_text=True)


def test_the_city_home_counts_the_distance_filings_and_uploads_waiting(app, world, distance_world, login):
    """Issue 15.1: the city's home lists every waiting kind it decides, counted as in the database."""
    from tests.views.test_home_roles import _todo, _todos

    _file(login("dist_da"), code="YC2025-009", name="待审核的备案")
    pid = _approved_project(login, app)
    assert _upload(login("dist_da"), pid, [["A0000001", "张三", 15, "2025-08-20", "合格"]]).status_code == 302
    with app.app_context():
        filed = db.session.scalar(select(db.func.count(DistanceProject.id)).where(DistanceProject.status == "pending"))
        uploaded = db.session.scalar(select(db.func.count(DistanceUpload.id)).where(DistanceUpload.status == "pending"))
    assert (filed, uploaded) == (1, 1)
    todos = _todos(login("city").get("/").get_data(as_text=True))
    count, link = _todo(todos, "远程教育项目待审核")
    assert count == filed and link.startswith("/distance/projects/") and "status=pending" in link
    count, link = _todo(todos, "远程教育学习记录待审核授分")
    assert count == uploaded and link.startswith("/distance/uploads/") and "status=pending" in link
