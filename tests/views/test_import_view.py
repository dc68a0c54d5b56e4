"""Personnel import page (SYS-3 via JOB-1): upload checks, job status and the owner-only report."""
from __future__ import annotations

import base64
import datetime
import io
import os
import zipfile

import openpyxl

from app.services import idcard
from tests.helpers import xlsx_bytes

COLUMNS = ["IC卡号", "姓名", "身份证号", "单位", "科室", "职称", "专业", "联系电话"]
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def number(n: int) -> str:
    return idcard.make("330102", datetime.date(1975, 6, 1) + datetime.timedelta(days=n), 300 + n)


def upload(client, content: bytes, name: str = "人员.xlsx"):
    return client.post("/persons/import/", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def job_id_of(response) -> str:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert "/persons/import/?job=" in location, location
    return location.rsplit("=", 1)[1]


def counts(app):
    from app.extensions import db
    from app.models import Job, Person

    with app.app_context():
        return db.session.query(Person).count(), db.session.query(Job).count()


def uploads_dir(app) -> list[str]:
    folder = os.path.join(app.config["JOB_FILES_DIR"], "uploads")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def import_logs(app) -> list[tuple[bool, str, str]]:
    from app.extensions import db
    from app.models import OperationLog

    with app.app_context():
        return [(r.status, r.operator, r.message) for r in db.session.query(OperationLog)
                .filter_by(module="人员管理", action="导入").order_by(OperationLog.id)]


GOOD = [
    ["V0000001", "陈一", number(1), "甲医院", "心内科", "主治医师", "心内科", "13900000001"],
    ["V0000002", "陈二", number(2), "甲医院", "骨科", "", "", ""],
]


def test_upload_runs_the_job_and_status_reports_finished(app, world, login):
    c = login("inst_a")
    persons, jobs = counts(app)
    job_id = job_id_of(upload(c, xlsx_bytes(GOOD, COLUMNS).getvalue()))
    status = c.get(f"/jobs/{job_id}/status").get_json()
    assert status["status"] == "finished", status
    assert status["done"] == status["total"] == 2 and status["percent"] == 100
    assert status["message"] == "导入成功，共2人" and status["has_file"] is False
    assert counts(app) == (persons + 2, jobs + 1)
    assert uploads_dir(app) == []  # the upload is removed once imported

    page = c.get(f"/persons/import/?job={job_id}").get_data(as_text=True)
    assert f'data-status-url="/jobs/{job_id}/status"' in page
    assert import_logs(app) == [(True, "inst_a", "导入成功，共2人")]
    # No result file for a good import.
    assert c.get(f"/jobs/{job_id}/download").status_code == 404


def test_bad_file_fails_with_report_for_its_owner_only(app, world, login):
    c = login("inst_a")
    persons, _ = counts(app)
    rows = GOOD + [["V0000003", "陈三", number(3), "乙医院", "", "", "", ""],
                   ["V0000001", "陈四", number(4), "甲医院", "", "护士长", "", ""]]
    job_id = job_id_of(upload(c, xlsx_bytes(rows, COLUMNS).getvalue()))
    status = c.get(f"/jobs/{job_id}/status").get_json()
    assert status["status"] == "failed"
    assert status["message"] == ("共3处错误，未导入任何数据。"
                                 "第4行“单位”：单位“乙医院”不存在或不在管辖范围内")
    assert status["has_file"] is True
    assert counts(app)[0] == persons

    r = c.get(f"/jobs/{job_id}/download")
    assert r.status_code == 200
    assert "attachment" in r.headers["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0]
    assert [list(row) for row in ws.iter_rows(values_only=True)] == [
        ["行号", "列", "错误原因"],
        [4, "单位", "单位“乙医院”不存在或不在管辖范围内"],
        [5, "IC卡号", "IC卡号与第2行重复"],
        [5, "职称", "职称“护士长”不在字典中"],
    ]
    assert import_logs(app)[-1][:2] == (False, "inst_a")

    for other in ("inst_b", "city"):  # even the city admin cannot read someone else's job
        o = login(other)
        assert o.get(f"/jobs/{job_id}/status").status_code == 404
        assert o.get(f"/jobs/{job_id}/download").status_code == 404
        page = o.get(f"/persons/import/?job={job_id}").get_data(as_text=True)
        assert job_id not in page
    assert c.get("/jobs/nosuchjob/status").status_code == 404


def _refused(app, c, content: bytes, name: str, reason: str) -> None:
    before_counts, before_files, before_logs = counts(app), uploads_dir(app), len(import_logs(app))
    r = upload(c, content, name)
    assert r.status_code == 302 and r.headers["Location"].endswith("/persons/import/")
    assert reason in c.get("/persons/import/").get_data(as_text=True)
    assert counts(app) == before_counts  # no job row, no person
    assert uploads_dir(app) == before_files  # nothing stored
    logs = import_logs(app)
    assert len(logs) == before_logs + 1
    assert logs[-1] == (False, "inst_a", f"上传被拒绝：{reason}")


def test_files_that_are_not_xlsx_are_refused_before_storing(app, world, login):
    c = login("inst_a")
    wrong_type = "文件类型不正确，只能上传Excel(.xlsx)文件"
    csv = "IC卡号,姓名,身份证号,单位\nV1,某人,110101199003071234,甲医院\n".encode()
    _refused(app, c, csv, "人员.xlsx", wrong_type)
    _refused(app, c, PNG, "人员.xlsx", wrong_type)
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:  # an Office file, but not a workbook
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    _refused(app, c, docx.getvalue(), "人员.xlsx", wrong_type)
    _refused(app, c, b"", "人员.xlsx", "文件为空")


def test_missing_file_is_refused(app, world, login):
    c = login("inst_a")
    persons, jobs = counts(app)
    r = c.post("/persons/import/", data={}, content_type="multipart/form-data")
    assert r.status_code == 302
    assert "请选择要上传的文件" in c.get("/persons/import/").get_data(as_text=True)
    assert counts(app) == (persons, jobs)


def test_file_over_the_size_limit_is_refused(app, world, login):
    content = xlsx_bytes(GOOD, COLUMNS).getvalue()
    saved = app.config["IMPORT_MAX_BYTES"]
    app.config["IMPORT_MAX_BYTES"] = 2048
    try:
        assert len(content) > 2048
        _refused(app, login("inst_a"), content, "人员.xlsx", "文件过大，不能超过2KB")
    finally:
        app.config["IMPORT_MAX_BYTES"] = saved
    assert app.config["IMPORT_MAX_BYTES"] == 10 * 1024 * 1024


def test_page_states_the_configured_size_limit(app, world, login):
    c = login("inst_a")
    assert "Excel文件（.xlsx，不超过10MB）" in c.get("/persons/import/").get_data(as_text=True)
    saved = app.config["IMPORT_MAX_BYTES"]
    app.config["IMPORT_MAX_BYTES"] = 5 * 1024 * 1024
    try:
        html = c.get("/persons/import/").get_data(as_text=True)
        assert "Excel文件（.xlsx，不超过5MB）" in html and "10MB" not in html
    finally:
        app.config["IMPORT_MAX_BYTES"] = saved


def test_roles_without_import_cannot_upload(app, world, login):
    persons, jobs = counts(app)
    for username in ("sec_a", "tech_a"):
        c = login(username)
        assert upload(c, xlsx_bytes(GOOD, COLUMNS).getvalue()).status_code == 403
        assert c.get("/persons/import/").status_code == 403
        assert c.get("/persons/import/template/").status_code == 403
    assert counts(app) == (persons, jobs)
    assert uploads_dir(app) == []


def test_my_jobs_page_lists_only_own_jobs(app, world, login):
    c = login("inst_a")
    good = job_id_of(upload(c, xlsx_bytes(GOOD, COLUMNS).getvalue()))
    bad = job_id_of(upload(c, xlsx_bytes([["V9", "某人"]], ["IC卡号", "姓名"]).getvalue()))
    mine = c.get("/jobs/").get_data(as_text=True)
    assert "导入成功，共2人" in mine and "已完成" in mine
    assert "表头不正确，缺少列：身份证号、单位、科室、职称、专业、联系电话" in mine and "失败" in mine
    assert f"/jobs/{good}/download" not in mine  # a good import leaves no file to download
    assert f"/jobs/{bad}/download" not in mine  # a wrong header has no row report either
    other = login("inst_b").get("/jobs/").get_data(as_text=True)
    assert "导入成功，共2人" not in other and "表头不正确" not in other
