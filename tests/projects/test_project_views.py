"""Projects pages: card-reader files (CSV and .xlsx), QR sign-in, catalogue, grants, export, data scope."""
from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
from sqlalchemy import func, select

from app.extensions import db
from app.models import Credit, Job, Person
from app.models.projects import CheckIn, Project, ProjectCatalog, SwipeProblem, Topic
from app.services.files import resolve
from tests.helpers import xlsx_bytes
from tests.projects.helpers import D, add_topic, make_project, standard_project

HEADER = ["卡号", "刷卡时间", "读卡器编号"]
# A morning topic 08:30–11:30 and an afternoon one 13:30–16:30 on 2025-04-24 (standard_project).
SWIPES = [
    ["A0000001", "2025-04-24 08:35:12", "R01"],  # 张三 → 101
    ["A0000002", "2025-04-24 09:01:00", "R01"],  # 李四 → 101
    ["A0000001", "2025-04-24 09:10:40", "R02"],  # 张三 again → duplicate of 101
    ["B0000001", "2025-04-24 13:40:00", "R01"],  # 王五 (another institution) → 102
    ["A0000002", "2025-04-24 12:15:00", "R03"],  # 李四 at lunch: outside every topic
]


def _project(app, world, **kw) -> int:
    with app.app_context():
        return standard_project(world.a, **kw).id


def _csv(rows, encoding="utf-8-sig") -> io.BytesIO:
    text = "\n".join(",".join(r) for r in [HEADER] + rows) + "\n"
    return io.BytesIO(text.encode(encoding))


def _upload(client, pk, data, name):
    return client.post(f"/projects/attendance/{pk}", data={"file": (data, name)},
                       content_type="multipart/form-data", follow_redirects=True)


def _check_outcome(app, pk):
    with app.app_context():
        rows = db.session.execute(select(Person.card_no, Topic.code, CheckIn.duplicate, CheckIn.reader_id)
                                  .join(Person, Person.id == CheckIn.person_id).join(Topic, Topic.id == CheckIn.topic_id)
                                  .where(CheckIn.project_id == pk).order_by(CheckIn.checked_at)).all()
        problems = db.session.execute(select(SwipeProblem.row, SwipeProblem.card_no, SwipeProblem.kind)
                                      .order_by(SwipeProblem.row)).all()
    assert [tuple(r) for r in rows] == [("A0000001", "101", False, "R01"), ("A0000002", "101", False, "R01"),
                                        ("A0000001", "101", True, "R02"), ("B0000001", "102", False, "R01")]
    assert [tuple(p) for p in problems] == [(6, "A0000002", "outside")]


def test_card_reader_csv_is_matched(app, world, login):
    pk = _project(app, world)
    c = login("inst_a")
    r = _upload(c, pk, _csv(SWIPES), "刷卡记录.csv")
    html = r.get_data(as_text=True)
    assert "已上传5条刷卡记录：签到3人次，重复1条，未知卡号0条，不在课题时间内1条" in html
    assert "不在任何课题的签到时间内" in html
    _check_outcome(app, pk)


def test_card_reader_gbk_csv_with_other_headers(app, world, login):
    pk = _project(app, world)
    c = login("inst_a")
    text = "IC卡号,时间,设备号\nA0000001,2025/04/24 08:40,R9\n"
    r = _upload(c, pk, io.BytesIO(text.encode("gbk")), "reader.csv")
    assert "签到1人次" in r.get_data(as_text=True)


def test_card_reader_xlsx_is_matched(app, world, login):
    pk = _project(app, world)
    c = login("inst_a")
    # Real datetimes in the cells, as card-reader software exports them.
    rows = [[card, datetime.datetime.strptime(t, "%Y-%m-%d %H:%M:%S"), reader] for card, t, reader in SWIPES]
    r = _upload(c, pk, xlsx_bytes(rows, HEADER), "刷卡记录.xlsx")
    assert "签到3人次，重复1条，未知卡号0条，不在课题时间内1条" in r.get_data(as_text=True)
    _check_outcome(app, pk)


def test_sign_in_window_widens_the_card_match(app, world, login):
    with app.app_context():
        project = make_project(world.a)
        add_topic(project, "101", D(2025, 4, 24, 8, 30), window=(D(2025, 4, 24, 8, 0), D(2025, 4, 24, 12, 0)))
        db.session.commit()
        pk = project.id
    c = login("inst_a")
    r = _upload(c, pk, _csv([["A0000001", "2025-04-24 08:05:00", "R1"], ["A0000002", "2025-04-24 07:59:00", "R1"]]),
                "a.csv")
    assert "签到1人次，重复0条，未知卡号0条，不在课题时间内1条" in r.get_data(as_text=True)


def test_bad_card_file_is_refused_whole_with_row_and_column(app, world, login):
    pk = _project(app, world)
    c = login("inst_a")
    r = _upload(c, pk, _csv([["A0000001", "2025-04-24 08:35:00", "R1"], ["", "2025-04-24 08:36:00", "R1"],
                             ["A0000002", "昨天上午", "R1"]]), "bad.csv")
    html = r.get_data(as_text=True)
    assert "共2处错误，未导入任何数据" in html
    assert "第3行“卡号”：卡号不能为空" in html and "第4行“刷卡时间”：刷卡时间“昨天上午”格式不正确" in html
    r = _upload(c, pk, io.BytesIO(b"%PDF-1.4 binary\x00\x01"), "x.csv")
    assert "只能上传刷卡机导出的CSV文件或Excel(.xlsx)文件" in r.get_data(as_text=True)
    r = _upload(c, pk, _csv([]).__class__("姓名,科室\n张三,心内科\n".encode()), "h.csv")
    assert "表头不正确，缺少列：卡号" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(CheckIn.id))) == 0


def test_grant_then_list_and_export_with_sources(app, world, login):
    pk = _project(app, world)
    c = login("inst_a")
    _upload(c, pk, _csv(SWIPES[:4]), "a.csv")
    with app.app_context():
        topic = db.session.scalar(select(Topic).where(Topic.code == "102"))
        topic_id = topic.id
    r = c.post(f"/projects/checkin/{pk}", data={"topic_id": topic_id, "card_no": "A0000002"}, follow_redirects=True)
    assert "李四已签到课题102" in r.get_data(as_text=True)
    r = c.post(f"/projects/checkin/{pk}", data={"topic_id": topic_id, "card_no": "A0000002"}, follow_redirects=True)
    assert "本次记为重复签到" in r.get_data(as_text=True)
    r = c.post(f"/projects/grant/{pk}", follow_redirects=True)
    assert "授分完成：学员4条" in r.get_data(as_text=True)
    with app.app_context():
        sources = dict(db.session.execute(select(Credit.remark, func.count()).group_by(Credit.remark)).all())
        assert sources == {"课题101": 2, "课题102": 2}
        assert set(db.session.scalars(select(Credit.source))) == {"card", "unit"}
        project = db.session.get(Project, pk)
        assert project.credited_count == 3 and project.duplicate_count == 2
    page = c.get(f"/projects/show/{pk}").get_data(as_text=True)
    assert "刷卡" in page and "手工" in page and "重复签到" in page and "已授分" in page
    r = c.get(f"/projects/attendees/{pk}.xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:6] == ("IC卡号", "姓名", "单位", "课题ID", "课题名称", "签到方式")
    assert rows[1][:6] == ("A0000001", "张三", "甲医院", "101", "课题101", "刷卡") and rows[1][9] == 1
    assert any(r[5] == "手工" and r[8] == "已授分" for r in rows[1:])
    assert any(r[8] == "重复签到" and r[9] is None for r in rows[1:])


def test_qr_sign_in_inside_and_outside_window(app, world, client, clock):
    now = clock.at()  # windows of ±1–3 h stay inside one day
    with app.app_context():
        project = make_project(world.a, starts=now.date(), ends=now.date())
        open_topic = add_topic(project, "101", now.replace(hour=0, minute=0, second=0),
                               window=(now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)))
        closed = add_topic(project, "102", now.replace(hour=0, minute=0, second=0) + datetime.timedelta(hours=3),
                           window=(now - datetime.timedelta(hours=3), now - datetime.timedelta(hours=2)))
        db.session.commit()
        token, closed_token = open_topic.qr_token, closed.qr_token
        person = db.session.get(Person, world.pa)
        last4 = person.id_number[-4:]
    r = client.get(f"/signin/{closed_token}")
    assert r.status_code == 403 and "不在签到时间内，不能签到" in r.get_data(as_text=True)
    r = client.post(f"/signin/{closed_token}", data={"card_no": "A0000001", "name": "张三", "id_last4": last4})
    assert r.status_code == 403
    assert client.get("/signin/nonexistent").status_code == 404
    bad = "9999" if last4 != "9999" else "8888"
    r = client.post(f"/signin/{token}", data={"card_no": "A0000001", "name": "张三", "id_last4": bad})
    assert r.status_code == 422 and "卡号、姓名或身份证号后4位不正确" in r.get_data(as_text=True)
    r = client.post(f"/signin/{token}", data={"card_no": "A0000001", "name": "张三", "id_last4": last4})
    assert "签到成功" in r.get_data(as_text=True)
    r = client.post(f"/signin/{token}", data={"card_no": "A0000001", "name": "张三", "id_last4": last4})
    assert "本次记为重复签到" in r.get_data(as_text=True)
    with app.app_context():
        assert [(c.source, c.duplicate) for c in db.session.scalars(select(CheckIn).order_by(CheckIn.id))] == [
            ("qr", False), ("qr", True)]
    # Guessing the last 4 digits: after 5 failures the card is locked, even with the right answer.
    with app.app_context():
        right = db.session.get(Person, world.pa2).id_number[-4:]
    wrong = [g for g in ("1111", "2222", "3333", "4444", "5555", "6666") if g != right][:5]
    for guess in wrong:
        assert client.post(f"/signin/{token}", data={"card_no": "A0000002", "name": "李四",
                                                      "id_last4": guess}).status_code == 422
    r = client.post(f"/signin/{token}", data={"card_no": "A0000002", "name": "李四", "id_last4": right})
    assert r.status_code == 429 and "验证失败次数过多" in r.get_data(as_text=True)


def test_qr_sign_in_as_logged_in_technician(app, world, login, clock):
    now = clock.at()
    with app.app_context():
        project = make_project(world.a, starts=now.date(), ends=now.date())
        topic = add_topic(project, "101", now.replace(hour=0, minute=0, second=0),
                          window=(now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)))
        db.session.commit()
        token = topic.qr_token
    c = login("tech_a")
    assert "本人签到" in c.get(f"/signin/{token}").get_data(as_text=True)
    r = c.post(f"/signin/{token}", data={"as_me": "1"})
    assert "签到成功" in r.get_data(as_text=True) and "张三" in r.get_data(as_text=True)


def test_topic_pages_enforce_the_limits(app, world, login):
    with app.app_context():
        pk = make_project(world.a, credits="4", hours="12").id
        db.session.commit()
    c = login("inst_a")
    form = {"project": pk, "code": "101", "name": "布病临床诊疗", "lecturer": "王医生", "lecturer_unit": "地坛医院",
            "lecturer_title": "主任医师", "credits": "3", "hours": "9", "place": "会议室",
            "starts_at": "2025-04-24 08:30:00", "ends_at": "2025-04-24 17:30:00", "signin_from": "", "signin_to": "",
            "description": "", "lecturer_card": "B0000001"}
    r = c.post("/topics/add", data=form, follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        topic = db.session.scalar(select(Topic))
        assert topic is not None and topic.lecturer_person_id == world.pb and topic.qr_token
    r = c.post("/topics/add", data={**form, "code": "102", "credits": "2", "hours": "3"}, follow_redirects=True)
    assert "课题学分合计5分，超过项目总学分4分" in r.get_data(as_text=True)
    r = c.post("/topics/add", data={**form, "code": "103", "credits": "1", "hours": "4"}, follow_redirects=True)
    assert "课题学时合计13小时，超过项目总学时12小时" in r.get_data(as_text=True)
    r = c.post("/topics/add", data={**form, "code": "104", "credits": "1", "hours": "1", "lecturer_card": "NOPE"},
               follow_redirects=True)
    assert "主讲教师IC卡号“NOPE”不存在" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Topic.id))) == 1


def test_catalogue_search_adopt_details_and_application(app, world, login, clock):
    clock.at(datetime.datetime(2026, 3, 18, 10, 30), tick=True)  # applied_on is today's date
    with app.app_context():
        db.session.add_all([
            ProjectCatalog(approval_no="2025-CS-12", name="测试班12", category="国家级继续医学教育项目",
                           subject="儿科护理学", credits=Decimal(1), hours=Decimal(3), year=2025, planned_count=50),
            ProjectCatalog(approval_no="2024-CS-01", name="旧班", category="市级继续医学教育项目",
                           subject="遗传学", credits=Decimal(2), hours=Decimal(6), year=2024, planned_count=50)])
        db.session.commit()
        cid = db.session.scalar(select(ProjectCatalog.id).where(ProjectCatalog.approval_no == "2025-CS-12"))
    c = login("inst_a")
    html = c.get("/project-catalog/list/?_flt_0_year=2025").get_data(as_text=True)
    assert "测试班12" in html and "旧班" not in html and "添加此项目" in html
    html = c.get("/project-catalog/list/?_flt_0_approval_no=2024-CS").get_data(as_text=True)
    assert "旧班" in html and "测试班12" not in html
    r = c.post(f"/project-catalog/adopt/{cid}")
    assert r.status_code == 302 and "/projects/edit/" in r.location
    pk = int(r.location.rstrip("/").split("/")[-1])
    r = c.post(f"/project-catalog/adopt/{cid}", follow_redirects=True)
    assert "已添加，不能重复添加" in r.get_data(as_text=True)
    r = c.post(f"/projects/edit/{pk}", data={"starts_on": "2099-01-05", "ends_on": "2099-01-06", "major": "儿科学",
                                             "assessment": "笔试", "activity_form": "继续医学教育项目",
                                             "description": "讲授儿科护理新进展"}, follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        p = db.session.get(Project, pk)
        assert (p.major, p.assessment, p.starts_on) == ("儿科学", "笔试", datetime.date(2099, 1, 5))
    r = c.post(f"/projects/apply/{pk}", follow_redirects=True)
    assert "已提交举办申请" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, pk).applied_on == datetime.date(2026, 3, 18)
    # The other unit sees the catalogue row but not inst_a's project.
    cb = login("inst_b")
    assert "测试班12" in cb.get("/project-catalog/list/").get_data(as_text=True)
    assert "测试班12" not in cb.get("/projects/list/").get_data(as_text=True)


def test_catalogue_import_job_all_or_nothing(app, world, login):
    c = login("city")
    header = ["审批编号", "项目名称", "学分类别", "学科", "总学分", "总学时", "年度", "主办单位", "计划人数"]
    good = ["2025-14-03-020 (京)", "儿科护理学习班", "市级", "儿科护理学", 4, 12, 2025, "儿童医院", 100]
    bad = [good, ["2025-14-03-020 (京)", "重复", "省级", "不存在的学科", -1, 3, 25, "", "很多"]]
    r = c.post("/project-catalog/import/", data={"file": (xlsx_bytes(bad, header), "a.xlsx")},
               content_type="multipart/form-data")
    assert r.status_code == 302
    with app.app_context():
        job = db.session.scalar(select(Job).order_by(Job.created_at.desc()))
        assert job.status == "failed" and "未导入任何数据" in job.message
        assert "第3行“审批编号”：审批编号与第2行重复" in job.message
        report = openpyxl.load_workbook(resolve(app.config["JOB_FILES_DIR"], job.result_path)).active
        reasons = [tuple(r) for r in report.iter_rows(min_row=2, values_only=True)]
        columns = {r[1] for r in reasons}
        assert {"审批编号", "学分类别", "学科", "总学分", "年度", "计划人数"} <= columns
        assert all(r[0] == 3 for r in reasons)
        assert db.session.scalar(select(func.count(ProjectCatalog.id))) == 0
    second = ["2025-CS-13", "测试班13", "重点监控项目", "", 1, 3, 2025, "", 20]
    r = c.post("/project-catalog/import/", data={"file": (xlsx_bytes([good, second], header), "b.xlsx")},
               content_type="multipart/form-data")
    with app.app_context():
        job = db.session.scalar(select(Job).order_by(Job.created_at.desc()))
        assert job.status == "finished" and job.message == "导入成功，共2个项目"
        row = db.session.scalar(select(ProjectCatalog).where(ProjectCatalog.approval_no == "2025-14-03-020 (京)"))
        assert (row.category, row.credits, row.planned_count) == ("市级继续医学教育项目", Decimal("4.00"), 100)
    assert c.get("/project-catalog/import/template/").status_code == 200
    # Units cannot import.
    assert login("inst_a").post("/project-catalog/import/", data={}).status_code in (302, 403)


def test_flag_list_for_city_and_district(app, world, login):
    with app.app_context():
        p = standard_project(world.a)
        p.applied_on = datetime.date(2025, 4, 23)
        from app.services import projects as svc

        svc.refresh_flags(db.session, p)
        standard_project(world.b, no="2025-14-03-021 (京)")
        db.session.commit()
        assert p.flagged and p.apply_late
        pk = p.id
    html = login("city").get("/projects-flagged/list/").get_data(as_text=True)
    assert "2025-14-03-020 (京)" in html and "2025-14-03-021" not in html
    assert "2025-14-03-020 (京)" in login("district1").get("/projects-flagged/list/").get_data(as_text=True)
    assert "2025-14-03-020" not in login("district2").get("/projects-flagged/list/").get_data(as_text=True)
    assert "2025-14-03-021" in login("city").get("/projects/list/").get_data(as_text=True)
    page = login("district1").get(f"/projects/show/{pk}").get_data(as_text=True)
    assert "举办申请于2025-04-23提交，距开始日期2025-04-24仅1个工作日，少于规定的5个工作日" in page


def test_other_institution_cannot_reach_rows_by_guessed_ids(app, world, login):
    with app.app_context():
        project = standard_project(world.a)
        pk, tid = project.id, project.topics[0].id
        db.session.commit()
    cb = login("inst_b")
    for url in (f"/projects/show/{pk}", f"/projects/edit/{pk}", f"/projects/attendees/{pk}.xlsx",
                f"/topics/show/{tid}", f"/topics/edit/{tid}", f"/topics/qr/{tid}.png"):
        assert cb.get(url).status_code == 404, url
    for url, data in ((f"/projects/delete/{pk}", {}), (f"/topics/delete/{tid}", {}),
                      (f"/projects/apply/{pk}", {}), (f"/projects/grant/{pk}", {}),
                      (f"/projects/checkin/{pk}", {"topic_id": tid, "card_no": "B0000001"}),
                      (f"/projects/attendance/{pk}", {"file": (_csv(SWIPES), "a.csv")}),
                      (f"/projects/edit/{pk}", {"description": "改"}),
                      ("/topics/action_post", {"action": "muldelete", "rowid": [str(tid)]})):
        r = cb.post(url, data=data, content_type="multipart/form-data")
        assert r.status_code == 404, url
    # Adding a topic under a guessed project id of another unit is refused.
    r = cb.post("/topics/add", data={"project": pk, "code": "999", "name": "x", "lecturer": "x", "credits": "1",
                                     "hours": "1", "starts_at": "2025-04-24 08:00:00",
                                     "ends_at": "2025-04-24 09:00:00"}, follow_redirects=True)
    assert "添加课题" in r.get_data(as_text=True)  # the form again (project not among the choices), nothing saved
    # Lists and exports do not show A's rows; district 2 neither; district 1 reads but cannot write.
    assert "2025-14-03-020" not in cb.get("/projects/list/").get_data(as_text=True)
    assert "课题101" not in cb.get("/topics/list/").get_data(as_text=True)
    ws = openpyxl.load_workbook(io.BytesIO(cb.get("/projects/export/").data)).active
    assert ws.max_row == 1
    d2 = login("district2")
    assert d2.get(f"/projects/show/{pk}").status_code == 404
    d1 = login("district1")
    assert d1.get(f"/projects/show/{pk}").status_code == 200
    assert d1.post(f"/projects/grant/{pk}").status_code in (302, 403)
    with app.app_context():
        assert db.session.scalar(select(func.count(Topic.id))) == 2
        assert db.session.scalar(select(func.count(CheckIn.id))) == 0
        assert db.session.get(Project, pk).description is None
    # The technician has no admin side at all.
    assert login("tech_b").get(f"/topics/qr/{tid}.png").status_code in (302, 403)


def test_pages_render_for_each_role(app, world, login):
    with app.app_context():
        project = standard_project(world.a)
        pk, tid = project.id, project.topics[0].id
        db.session.commit()
    pages = {"inst_a": ["/project-catalog/list/", "/projects/list/", f"/projects/show/{pk}", f"/projects/edit/{pk}",
                        "/topics/list/", f"/topics/show/{tid}", f"/topics/edit/{tid}", f"/topics/qr/{tid}.png",
                        f"/topics/add?_flt_0_project={pk}", "/projects/export/"],
             "city": ["/project-catalog/list/", "/project-catalog/add", "/projects/list/", f"/projects/show/{pk}",
                      "/projects-flagged/list/", "/holidays/list/", "/holidays/add", "/topics/list/"],
             "district1": ["/project-catalog/list/", "/projects/list/", f"/projects/show/{pk}",
                           "/projects-flagged/list/", f"/topics/show/{tid}"]}
    for user, urls in pages.items():
        c = login(user)
        for url in urls:
            r = c.get(url)
            assert r.status_code == 200, (user, url, r.status_code)
    c = login("inst_a")
    assert c.get(f"/topics/qr/{tid}.png").data[:8] == b"\x89PNG\r\n\x1a\n"
    html = c.get(f"/projects/show/{pk}?_l_=en").get_data(as_text=True)
    assert "Check-in and credits" in html and "Review and grant" in html
    # Units may not open the holiday list or add catalogue rows; the district cannot grant or edit.
    assert c.get("/holidays/list/").status_code in (302, 403)
    assert c.get("/project-catalog/add").status_code in (302, 403)
    assert login("district1").get(f"/projects/edit/{pk}").status_code in (302, 403)


def test_delete_rules_and_holidays(app, world, login):
    with app.app_context():
        pk = standard_project(world.a).id
        other = standard_project(world.a, no="2025-14-03-022 (京)")
        other_pk, other_topic = other.id, other.topics[0].id
        db.session.commit()
    c = login("inst_a")
    # A file of unknown cards is refused whole (issue 17.6): the project can still go.
    _upload(c, pk, _csv([["X0000001", "2025-04-24 08:40:00", "R1"]]), "a.csv")
    r = c.post(f"/projects/delete/{pk}", follow_redirects=True)
    assert r.status_code == 200
    _upload(c, other_pk, _csv([["A0000001", "2025-04-24 08:40:00", "R1"]]), "b.csv")
    r = c.post(f"/topics/delete/{other_topic}", follow_redirects=True)
    assert "课题已有签到记录，不能删除" in r.get_data(as_text=True)
    r = c.post(f"/projects/delete/{other_pk}", follow_redirects=True)
    assert "项目已有签到记录，不能删除" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, pk) is None and db.session.get(Project, other_pk) is not None
        assert db.session.scalar(select(func.count(Topic.id))) == 2
    city = login("city")
    r = city.post("/holidays/add", data={"day": "2025-10-01", "name": "国庆节"}, follow_redirects=True)
    assert r.status_code == 200
    r = city.post("/holidays/add", data={"day": "2025-09-28", "name": "国庆调休", "workday": "y"},
                  follow_redirects=True)
    from app.models.projects import Holiday

    with app.app_context():
        assert {(h.name, h.workday) for h in db.session.scalars(select(Holiday))} == {("国庆节", False),
                                                                                     ("国庆调休", True)}


def test_city_keeps_the_catalogue_by_form(app, world, login):
    c = login("city")
    form = {"approval_no": "2025-14-03-030 (京)", "name": "布病临床诊疗学习班", "category": "市级继续医学教育项目",
            "subject": "感染性疾病", "credits": "4", "hours": "12", "year": "2025", "organizer": "地坛医院",
            "planned_count": "100"}
    r = c.post("/project-catalog/add", data={**form, "approval_no": "第一期"}, follow_redirects=True)
    assert "审批编号格式不正确" in r.get_data(as_text=True)
    r = c.post("/project-catalog/add", data={**form, "planned_count": "0"}, follow_redirects=True)
    assert "计划人数必须大于0" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(ProjectCatalog.id))) == 0
    c.post("/project-catalog/add", data=form, follow_redirects=True)
    with app.app_context():
        row = db.session.scalar(select(ProjectCatalog))
        assert (row.approval_no, row.subject, row.planned_count) == ("2025-14-03-030 (京)", "感染性疾病", 100)
        pk = row.id
    r = c.post(f"/project-catalog/edit/{pk}", data={**form, "credits": "-1"}, follow_redirects=True)
    assert "总学分必须大于0" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ProjectCatalog, pk).credits == Decimal("4.00")
    # Once a unit added it, the catalogue row stays.
    a = login("inst_a")
    a.post(f"/project-catalog/adopt/{pk}")
    r = c.post(f"/project-catalog/delete/{pk}", follow_redirects=True)
    assert "已有单位添加了该项目，不能删除" in r.get_data(as_text=True)
