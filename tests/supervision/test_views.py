"""Supervision pages (issue 6): filing, import, review, managers, phone pages, management — with scope.

Seed 003: “点击导入，下载导入项目信息模板，按模板要求填写项目信息，并进行上传。”
Seed 003: “注：附件上传支持…图片文件仅支持JPG/PDF格式，大小不超过2M”
Seed 003: “会场负责人可通过二维码，进入登陆页面。输入手机号、验证码、图形验证码，进行登录。”
Seed 003: “负责人需认真阅读承诺书后，勾选已阅读，点击‘确定’签署承诺书。”
Seed 003: “继教管理部门可看到所有督查项目，对指定项目进行‘督查评分’…可以‘导出’指定范围项目的督查情况。”
Seed 003: “单位可以在单位账号的首页中看到公布的项目。”
"""
from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Job
from app.models.supervision import (
    Feedback,
    FeedbackPhoto,
    Filing,
    SiteManager,
    SmsOutbox,
)
from app.services.files import resolve
from tests.conftest import FIXED_NOW
from tests.helpers import xlsx_bytes
from tests.supervision.helpers import (
    PHONE,
    add_filing,
    add_manager,
    all_day_hours,
    jpeg,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FIXED = "AB12"


def _form(**over):
    data = {"year": "2025", "project_no": "2025-04-04-011", "name": "脊髓背柱应用研究与手术技术培训",
            "project_type": "国家级", "organizer": "首都医科大学", "province": "北京市", "city": "北京市",
            "county": "海淀区", "starts_at": "2025-04-12T08:00", "ends_at": "2025-04-18T17:30", "sessions": "1",
            "approver": "王审批", "approval_method": "备案", "approval_no": "京继2025-1",
            "venue_name": ["第一会场"], "venue_address": ["北京市海淀区西四环北路50号"], "venue_organizer": ["三博脑科医院"],
            "venue_person": ["刘会务"], "venue_phone": [PHONE], "venue_date": ["2025-04-12"]}
    data.update(over)
    return data


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------------------------ filing (SUP-1)
def test_add_edit_submit_with_venues_and_attachment(app, world, login):
    inst = login("inst_a")
    page = inst.get("/filing/list/").data.decode()
    for label in ("项目报备", "下载导入模板", "导入", "年度", "项目编号", "项目名称", "开始时间", "结束时间", "报备状态", "项目类型"):
        assert label in page, label
    data = _form(files=(io.BytesIO(PDF), "备案表.pdf"))
    r = inst.post("/filing/add", data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.data.decode()[:500]
    with app.app_context():
        filing = db.session.scalar(select(Filing))
        assert (filing.institution_id, filing.district_id, filing.status) == (world.a, world.d1, "draft")
        assert filing.venues[0].name == "第一会场" and filing.starts_at == datetime.datetime(2025, 4, 12, 8)
        att = db.session.scalar(select(Attachment).where(Attachment.owner_type == "sup_filing"))
        pk, att_id = filing.id, att.id
    assert inst.get(f"/filing/file/{pk}/{att_id}").data == PDF
    # Two venues on edit; then submit.
    two = _form(venue_name=["第一会场", "第二会场"], venue_address=["地址一", "地址二"], venue_organizer=["", ""],
                venue_person=["", ""], venue_phone=["", ""], venue_date=["", ""])
    assert inst.post(f"/filing/edit/{pk}", data=two).status_code == 302
    assert inst.post(f"/filing/submit/{pk}").status_code == 302
    with app.app_context():
        filing = db.session.get(Filing, pk)
        assert filing.status == "pending" and [v.name for v in filing.venues] == ["第一会场", "第二会场"]
        assert [e.action for e in filing.logs] == ["提交"]
    # Submitted: no more edits or deletes by the unit.
    assert "不能修改" in inst.get(f"/filing/edit/{pk}", follow_redirects=True).data.decode()
    inst.post(f"/filing/delete/{pk}")
    with app.app_context():
        assert db.session.get(Filing, pk) is not None


def test_bad_input_and_files_are_refused_with_nothing_written(app, world, login):
    inst = login("inst_a")
    r = inst.post("/filing/add", data=_form(project_no="", ends_at="2025-04-01T08:00", venue_phone=["123"]))
    page = r.data.decode()
    assert "项目编号不能为空" in page and "结束时间必须晚于开始时间" in page and "11位手机号" in page
    fake = inst.post("/filing/add", data=_form(files=(io.BytesIO(b"plain text"), "附件.jpg")),
                     content_type="multipart/form-data")
    assert "类型不正确" in fake.data.decode()
    big = inst.post("/filing/add", data=_form(files=(io.BytesIO(PDF + b"0" * (2 * 1024 * 1024)), "大.pdf")),
                    content_type="multipart/form-data")
    assert "不能超过2MB" in big.data.decode()
    png = inst.post("/filing/add", data=_form(files=(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64), "a.png")),
                    content_type="multipart/form-data")
    assert "类型不正确" in png.data.decode()  # JPG/PDF only
    with app.app_context():
        assert _count(Filing) == 0 and _count(Attachment) == 0
        add_filing(world.b, project_no="2025-04-04-011")
        db.session.commit()
    dup = inst.post("/filing/add", data=_form())
    assert "已报备，不能重复报备" in dup.data.decode()


def _import(client, rows):
    from app.services.filing_import import COLUMNS

    return client.post("/filing/import/", data={"file": (xlsx_bytes(rows, COLUMNS), "报备.xlsx")},
                       content_type="multipart/form-data")


def _row(no, name="培训班", start="2025-05-01", end="2025-05-02", phone=PHONE):
    return [no, name, "国家级", "2025", "主办", "北京市", "北京市", "东城区", start, end, "1", "审批人", "备案", "京1",
            "第一会场", "东城区某路1号", "承办", "刘会务", phone, "2025-05-01"]


def test_import_with_bad_rows_writes_nothing(app, world, login):
    inst = login("inst_a")
    template = inst.get("/filing/import/template/")
    assert template.status_code == 200
    header = [c.value for c in next(openpyxl.load_workbook(io.BytesIO(template.data)).worksheets[0].iter_rows())]
    assert header[:3] == ["项目编号", "项目名称", "项目类型"]
    with app.app_context():
        add_filing(world.b, project_no="2025-01-06-001")
        db.session.commit()
    r = _import(inst, [_row("2025-01-01-001"), _row("2025-01-06-001"), _row("2025-01-01-001"),
                       _row("2025-01-01-004", end="2025-04-01"), _row("2025-01-01-005", phone="12")])
    assert r.status_code == 302
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == "filing_import"))
        assert job.status == "failed", job.message
        assert "未导入任何数据" in job.message and "第3行“项目编号”" in job.message
        assert _count(Filing) == 1  # only the other unit's filing
        report = openpyxl.load_workbook(resolve(app.config["JOB_FILES_DIR"], job.result_path)).active
        cells = [[c.value for c in row] for row in report.iter_rows(min_row=2)]
        assert [3, "项目编号", "项目编号2025-01-06-001已报备，不能重复报备"] in cells
        assert [4, "项目编号", "项目编号与第2行重复"] in cells
        assert [5, "结束时间", "结束时间必须晚于开始时间"] in cells
        assert [6, "负责人联系电话", "负责人联系电话应为11位手机号"] in cells
    page = inst.get(f"/filing/list/?job={job.id}").data.decode()
    assert "cme-job" in page
    ok = _import(inst, [_row("2025-01-01-001"), _row("2025-01-01-002", start="2025-05-01 14:00")])
    assert ok.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(Filing).where(Filing.institution_id == world.a).order_by(Filing.project_no)).all()
        assert [(f.project_no, f.status, len(f.venues)) for f in rows] == [("2025-01-01-001", "draft", 1),
                                                                           ("2025-01-01-002", "draft", 1)]
        assert rows[1].starts_at == datetime.datetime(2025, 5, 1, 14, 0)
        assert rows[0].ends_at == datetime.datetime(2025, 5, 2, 23, 59, 59)


# ------------------------------------------------------------------------------------ review (SUP-2)
def test_review_pass_fail_return_and_delete_rules(app, world, login):
    with app.app_context():
        a = add_filing(world.a, project_no="P-A-1", status="pending")
        a2 = add_filing(world.a, project_no="P-A-2", status="pending")
        b = add_filing(world.b, project_no="P-B-1", status="pending")
        draft = add_filing(world.a, project_no="P-A-3")
        db.session.commit()
        a, a2, b, draft = a.id, a2.id, b.id, draft.id
    d1, d2 = login("district1"), login("district2")
    page = d1.get("/filingreview/list/").data.decode()
    assert "P-A-1" in page and "P-B-1" not in page and "P-A-3" not in page  # other district, unsubmitted draft
    assert "申报单位" in page and "报备状态" in page
    assert d2.get(f"/filingreview/show/{a}").status_code == 404
    assert d2.post(f"/filingreview/review/{a}", data={"result": "pass"}).status_code == 404
    assert d2.post(f"/filingreview/return/{a}", data={"reason": "x"}).status_code == 404
    d2.post(f"/filingreview/delete/{a}")
    r = d1.post(f"/filingreview/review/{a2}", data={"result": "fail", "reason": ""}, follow_redirects=True)
    assert "请填写原因" in r.data.decode()
    d1.post(f"/filingreview/review/{a2}", data={"result": "fail", "reason": "批准文号缺失"})
    d1.post(f"/filingreview/review/{a}", data={"result": "pass"})
    with app.app_context():
        assert db.session.get(Filing, a2).status == "rejected"
        filing = db.session.get(Filing, a)
        assert filing.status == "approved" and len(filing.periods) == 2
        assert [e.action for e in filing.logs] == ["通过"]
    show = d1.get(f"/filingreview/show/{a}").data.decode()
    assert "日志" in show and "通过" in show and "退回" in show
    # 退回, then neither side can delete it.
    d1.post(f"/filingreview/return/{a}", data={"reason": "会场变更"})
    d1.post(f"/filingreview/delete/{a}")
    login("inst_a").post(f"/filing/delete/{a}")
    with app.app_context():
        filing = db.session.get(Filing, a)
        assert filing is not None and filing.status == "returned" and filing.periods == []
        assert [e.action for e in filing.logs] == ["通过", "退回"]
    # The unit fixes and resubmits the returned filing; deleting a pending one is the reviewer's.
    inst = login("inst_a")
    assert inst.post(f"/filing/submit/{a}").status_code == 302
    d1.post(f"/filingreview/delete/{b}")
    with app.app_context():
        assert db.session.get(Filing, a).status == "pending"
        assert db.session.get(Filing, b) is not None
    d1.post(f"/filingreview/delete/{a2}")
    with app.app_context():
        assert db.session.get(Filing, a2) is None


def test_other_institution_guesses_ids(app, world, login):
    with app.app_context():
        f = add_filing(world.a, status="approved")
        manager = add_manager(f)
        from app.services import attachments

        att = attachments.store_bytes(PDF, "pdf", "通知.pdf", "sup_notice", f.id)
        db.session.commit()
        pk, mid, att_id, venue = f.id, manager.id, att.id, f.venues[0].id
    other = login("inst_b")
    assert "科学安全" not in other.get("/filing/list/").data.decode()
    for url in (f"/filing/show/{pk}", f"/filing/edit/{pk}", f"/filing/file/{pk}/{att_id}", f"/filing/manager/{mid}/qr.png",
                f"/filing/manager/{mid}/sheet"):
        assert other.get(url).status_code == 404, url
    for url in (f"/filing/submit/{pk}", f"/filing/manager/{mid}/regenerate", f"/filing/venue/{venue}/manager",
                f"/filing/doc/{pk}/notice", f"/filing/delete/{pk}", f"/filing/attach/{pk}/{att_id}/delete"):
        assert other.post(url, data={"name": "x", "phone": "13900000000"}).status_code in (302, 404), url
    assert other.post("/filing/action_post", data={"action": "muldelete", "rowid": [str(pk)]}).status_code == 404
    with app.app_context():
        m = db.session.get(SiteManager, mid)
        assert (m.name, m.phone) == ("刘会务", PHONE) and db.session.get(Filing, pk) is not None
        assert db.session.get(Attachment, att_id) is not None
    # The technician and the site-manager role have no filing pages at all.
    assert login("tech_a").get("/filing/list/").status_code in (302, 403)
    assert login("inst_a").get(f"/filing/manager/{mid}/qr.png").data[:4] == b"\x89PNG"


# ------------------------------------------------------------------------------------ managers, phone
@pytest.fixture
def fixed_captcha(app):
    app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=0)  # several logins of one phone
    yield FIXED
    app.config.pop("SUP_CAPTCHA_FIXED", None)
    app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)


def _sms(app, phone=PHONE) -> str:
    with app.app_context():
        text = db.session.scalar(select(SmsOutbox.text).where(SmsOutbox.phone == phone).order_by(SmsOutbox.id.desc()))
    return re.search(r"验证码(\d{6})", text).group(1)


def _phone_login(app, code, phone=PHONE):
    c = app.test_client()
    assert c.get("/m/captcha.png").mimetype == "image/png"
    r = c.post("/m/sms", data={"code": code, "phone": phone, "captcha": FIXED})
    assert r.status_code == 200, r.json
    r = c.post("/m/login", data={"code": code, "phone": phone, "captcha": FIXED, "sms_code": _sms(app, phone)})
    return c, r


def test_manager_code_qr_and_regenerate_refuses_the_old_code(app, world, login, fixed_captcha):
    with app.app_context():
        f = add_filing(world.a, status="approved")
        db.session.commit()
        venue = f.venues[0].id
    inst = login("inst_a")
    r = inst.post(f"/filing/venue/{venue}/manager", data={"name": "刘会务", "phone": PHONE}, follow_redirects=True)
    assert "登录码" in r.data.decode()
    with app.app_context():
        manager = db.session.scalar(select(SiteManager))
        old, mid = manager.login_code, manager.id
    sheet = inst.get(f"/filing/manager/{mid}/sheet").data.decode()
    assert old in sheet and f"/m/login?code={old}" in sheet
    phone, r = _phone_login(app, old)
    assert r.status_code == 302 and r.location.endswith("/m/")
    assert phone.get("/m/", follow_redirects=False).location.endswith("/m/letter")
    inst.post(f"/filing/manager/{mid}/regenerate")
    with app.app_context():
        new = db.session.get(SiteManager, mid).login_code
    assert new != old
    # The session opened with the old code ends at once; the old code is refused for SMS and login.
    assert phone.get("/m/letter").location.endswith("/m/login")
    c = app.test_client()
    c.get("/m/captcha.png")
    r = c.post("/m/sms", data={"code": old, "phone": PHONE, "captcha": FIXED})
    assert r.status_code == 422 and "登录码无效" in r.json["message"]
    r = c.post("/m/login", data={"code": old, "phone": PHONE, "captcha": FIXED, "sms_code": "123456"})
    assert "登录码无效" in r.data.decode()
    _, r = _phone_login(app, new)
    assert r.status_code == 302


def test_captcha_and_wrong_phone_are_refused(app, world, fixed_captcha):
    with app.app_context():
        manager = add_manager(add_filing(world.a, status="approved"))
        db.session.commit()
        code = manager.login_code
    c = app.test_client()
    c.get("/m/captcha.png")
    assert "图形验证码不正确" in c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": "XXXX"}).json["message"]
    c.get("/m/captcha.png")  # one try per image (issue 17.3)
    assert "手机号" in c.post("/m/sms", data={"code": code, "phone": "13900000000", "captcha": FIXED}).json["message"]
    with app.app_context():
        assert _count(SmsOutbox) == 0


@pytest.mark.parametrize("hour", ["00:05", "11:59", "12:01", "23:59"])
def test_phone_pages_letter_feedback_and_past_period(app, world, login, fixed_captcha, clock, hour):
    """The phone pages at four instants of one day: the current half day is open, yesterday's morning
    is locked, whatever the hour (the filing runs from yesterday 00:00 to tomorrow 23:59:59)."""
    now = clock.at(datetime.datetime.combine(FIXED_NOW.date(), datetime.time.fromisoformat(hour)))
    midnight = datetime.datetime.combine(now.date(), datetime.time())
    with app.app_context():
        all_day_hours()
        f = add_filing(world.a, status="approved", starts_at=midnight - datetime.timedelta(days=1),
                       ends_at=midnight + datetime.timedelta(days=2, seconds=-1))
        manager = add_manager(f)
        other = add_filing(world.b, project_no="P-B-9", status="approved")
        db.session.commit()
        code = manager.login_code
        periods = {p.label: p.id for p in f.periods}
        assert len(periods) == 6
        past = periods[f"{(now - datetime.timedelta(days=1)).date():%Y-%m-%d}上午"]
        current = periods[f"{now.date():%Y-%m-%d}{'上午' if now.hour < 12 else '下午'}"]
        foreign = other.periods[0].id
    c, r = _phone_login(app, code)
    letter = c.get("/m/letter").data.decode()
    assert "承诺书" in letter and "郑重承诺" in letter and "我已阅读以上承诺内容并知晓" in letter
    assert c.post(f"/m/period/{current}/lecturer", data={"op": "add"}).status_code == 403  # letter first
    c.post("/m/letter", data={})
    with app.app_context():
        assert db.session.get(SiteManager, manager.id).letter_accepted_at is None
    c.post("/m/letter", data={"agree": "1"})
    with app.app_context():
        assert db.session.get(SiteManager, manager.id).letter_accepted_at is not None
    home = c.get("/m/").data.decode()
    assert "已过期" in home and "进行中" in home and "通知公告" in home
    taken = now.replace(microsecond=0)
    for slot, n, data in (("venue", 0, jpeg(taken)), ("backdrop", 0, jpeg(taken, None, None)),
                          ("scene", 0, jpeg(taken - datetime.timedelta(days=3))), ("lecturer", 1, jpeg(taken))):
        r = c.post(f"/m/period/{current}/photo", data={"slot": slot, "lecturer_no": str(n), "browser_time": "",
                                                       "photo": (io.BytesIO(data), f"{slot}.jpg")},
                   content_type="multipart/form-data")
        assert r.status_code == 302, r.data.decode()[:300]
    assert c.post(f"/m/period/{current}/submit").status_code == 302
    with app.app_context():
        fb = db.session.scalar(select(Feedback))
        assert fb.submitted_at is not None and len(fb.photos) == 4
        flags = {p.slot: p.flags for p in fb.photos}
        assert flags["venue"] is None and flags["backdrop"] == "无位置信息"
        assert flags["scene"] == "拍摄时间不在督查时段内"
        photo = fb.photos[0]
        original = db.session.get(Attachment, photo.original_id)
        stamped = db.session.get(Attachment, photo.stamped_id)
        assert original.size != stamped.size and stamped.kind == "jpg"
        photo_id = photo.id
    page = c.get(f"/m/period/{current}").data.decode()
    assert page.count('class="photo-item"') == 4
    assert c.get(f"/m/photo/{photo_id}").mimetype == "image/jpeg"
    # The past period is read-only and a forged POST is refused; another project's period does not exist.
    past_page = c.get(f"/m/period/{past}")
    assert past_page.status_code == 200 and "已过期的督查时间段不能补报" in past_page.data.decode()
    assert 'type="file"' not in past_page.data.decode()
    forged = c.post(f"/m/period/{past}/photo", data={"slot": "venue", "photo": (io.BytesIO(jpeg(taken)), "v.jpg")},
                    content_type="multipart/form-data")
    assert forged.status_code == 403
    assert c.post(f"/m/period/{past}/submit").status_code == 403
    assert c.get(f"/m/period/{foreign}").status_code == 404
    assert c.post(f"/m/period/{foreign}/photo", data={"slot": "venue"}).status_code == 404
    with app.app_context():
        assert _count(FeedbackPhoto) == 4
    # The site manager cannot open the back office's supervision pages or others' photos there.
    assert c.get("/supervision/").status_code in (302, 403)
    assert c.get("/filing/list/").status_code in (302, 403)
    # The unit sees the photos; another district does not.
    inst = login("inst_a")
    assert inst.get(f"/supervision/photo/{photo_id}").mimetype == "image/jpeg"
    assert login("district2").get(f"/supervision/photo/{photo_id}").status_code == 404
    assert login("inst_b").get(f"/supervision/photo/{photo_id}?original=1").status_code == 404


# ------------------------------------------------------------------------------------ management (SUP-7)
def test_overview_score_publish_home_and_export(app, world, login):
    now = datetime.datetime.now()
    with app.app_context():
        f = add_filing(world.a, status="approved", starts_at=datetime.datetime(2025, 4, 22),
                       ends_at=datetime.datetime(2025, 4, 23, 17, 30))
        manager = add_manager(f)
        b = add_filing(world.b, project_no="P-B-2", status="approved", name="乙医院项目")
        first = f.periods[0]
        db.session.add(Feedback(period_id=first.id, manager_id=manager.id, filing_id=f.id, district_id=f.district_id,
                                institution_id=f.institution_id, submitted_at=now))
        db.session.commit()
        pk, bpk = f.id, b.id
    d1 = login("district1")
    page = d1.get("/supervision/").data.decode()
    assert "科学安全" in page and "乙医院项目" not in page
    assert "1/4（25%）" in page and "1次" in page
    detail = d1.get(f"/supervision/{pk}").data.decode()
    assert "2025-04-22上午" in detail and "督查评分" in detail
    assert login("district2").get(f"/supervision/{pk}").status_code == 404
    assert login("district2").post(f"/supervision/score/{pk}", data={"score": "合格"}).status_code == 404
    assert login("inst_a").post(f"/supervision/score/{pk}", data={"score": "合格"}).status_code in (302, 403)
    r = d1.post("/supervision/publish", data={"ids": [str(pk)], "action": "publish"}, follow_redirects=True)
    assert "尚未督查评分" in r.data.decode()
    d1.post(f"/supervision/score/{pk}", data={"score": "不存在"})
    d1.post(f"/supervision/score/{pk}", data={"score": "基本合格", "comment": "照片不全"})
    assert d1.post("/supervision/publish", data={"ids": [str(pk), str(bpk)]}).status_code == 404  # B not in D1
    d1.post("/supervision/publish", data={"ids": [str(pk)], "action": "publish"})
    with app.app_context():
        filing = db.session.get(Filing, pk)
        assert (filing.score, filing.score_comment, filing.published) == ("基本合格", "照片不全", True)
        assert db.session.get(Filing, bpk).published is False
    assert "督查结果公布" in login("inst_a").get("/").data.decode()
    home_b = login("inst_b").get("/").data.decode()
    assert "科学安全" not in home_b
    r = d1.get("/supervision/export?start=2025-01-01&end=2025-12-31")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["项目督查汇总", "时段明细"]
    rows = [[c.value for c in row] for row in wb["项目督查汇总"].iter_rows()]
    assert rows[0][:3] == ["项目编号", "项目名称", "项目类型"] and len(rows) == 2
    assert rows[1][0] == "2025-14-03-020" and rows[1][7] == 1 and rows[1][10] == "1/4" and rows[1][12] == "基本合格"
    periods = [[c.value for c in row] for row in wb["时段明细"].iter_rows(min_row=2)]
    assert [p[2] for p in periods] == ["2025-04-22上午", "2025-04-22下午", "2025-04-23上午", "2025-04-23下午"]
    assert periods[0][3] == "已提交" and periods[1][3] == "已过期"
    empty = openpyxl.load_workbook(io.BytesIO(d1.get("/supervision/export?start=2026-01-01&end=2026-02-01").data))
    assert len(list(empty["项目督查汇总"].iter_rows())) == 1


def test_sms_outbox_is_the_city_admins_only(app, world, login):
    assert login("city").get("/supervision/sms").status_code == 200
    for user in ("district1", "inst_a"):
        assert login(user).get("/supervision/sms").status_code in (302, 403)


def test_notice_and_schedule_for_the_managers_only_of_that_project(app, world, login, fixed_captcha):
    with app.app_context():
        f = add_filing(world.a, status="approved")
        manager = add_manager(f)
        other = add_filing(world.b, project_no="P-B-7", status="approved")
        from app.services import attachments

        foreign = attachments.store_bytes(PDF, "pdf", "乙通知.pdf", "sup_notice", other.id)
        db.session.commit()
        pk, code, foreign_id = f.id, manager.login_code, foreign.id
    inst = login("inst_a")
    r = inst.post(f"/filing/doc/{pk}/schedule", data={"file": (io.BytesIO(PDF), "项目日程.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    refused = inst.post(f"/filing/doc/{pk}/notice", data={"file": (io.BytesIO(b"MZ\x90\x00"), "通知.pdf")},
                        content_type="multipart/form-data", follow_redirects=True)
    assert "类型不正确" in refused.data.decode()
    with app.app_context():
        schedule = db.session.scalar(select(Attachment).where(Attachment.owner_type == "sup_schedule"))
        schedule_id = schedule.id
    c, _ = _phone_login(app, code)
    c.post("/m/letter", data={"agree": "1"})
    home = c.get("/m/").data.decode()
    assert "项目日程" in home and f"/m/doc/{schedule_id}" in home
    download = c.get(f"/m/doc/{schedule_id}")
    assert download.data == PDF and "attachment" in download.headers["Content-Disposition"]
    assert c.get(f"/m/doc/{foreign_id}").status_code == 404
    # The unit sees when the letter was accepted.
    assert re.search(r'class="letter-at">\d{4}-\d{2}-\d{2}', inst.get(f"/filing/show/{pk}").data.decode())


def test_bulk_delete_refuses_a_returned_filing_and_lists_sort(app, world, login):
    with app.app_context():
        returned = add_filing(world.a, project_no="P-R-1", status="returned")
        draft = add_filing(world.a, project_no="P-D-1")
        db.session.commit()
        ids = [str(returned.id), str(draft.id)]
    inst = login("inst_a")
    r = inst.post("/filing/action_post", data={"action": "muldelete", "rowid": ids}, follow_redirects=True)
    assert "已退回的项目不能删除" in r.data.decode()
    with app.app_context():
        assert _count(Filing) == 2  # all or nothing
    for column in ("name", "starts_at", "status"):
        assert inst.get(f"/filing/list/?_oc_FilingView={column}&_od_FilingView=asc").status_code == 200
    assert login("district1").get("/filingreview/list/?_oc_FilingReviewView=ends_at&_od_FilingReviewView=desc"
                                  ).status_code == 200


def test_overview_and_export_do_not_query_per_project(app, world, login):
    """City scale: the list page and the export run the same statements for 2 or 8 projects."""
    from sqlalchemy import event

    def statements(client, url, filings):
        with app.app_context():
            for i in range(filings):
                add_filing(world.a if i % 2 else world.a2, project_no=f"N1-{filings}-{i}", status="approved")
            db.session.commit()
        seen = []

        def listen(conn, cursor, statement, *args):
            seen.append(statement)

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", listen)
            try:
                assert client.get(url).status_code == 200
            finally:
                event.remove(db.engine, "before_cursor_execute", listen)
            db.session.query(Filing).delete()
            db.session.commit()
        return len(seen)

    city = login("city")
    for url in ("/supervision/", "/supervision/export"):
        assert statements(city, url, 2) == statements(city, url, 8), url
