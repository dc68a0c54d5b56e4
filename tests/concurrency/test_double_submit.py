"""Double submits (issue 13 item 3): two posts of one rendered form — the same submit token — released
together on PostgreSQL against the real endpoints. The work is done once: one record, one log row, the files
of that record on disk and no other file in the folder; the second click gets the first one's page.

Every form here stores files or creates records and carries ``{{ submit_token() }}`` (views/submit.once).
"""
from __future__ import annotations

import datetime
import io
import os
import re
import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Credit, Job, OperationLog
from app.models.activities import GrantDraft
from app.models.audit_review import AuditAppeal, AuditVerdict
from app.models.practice import PracticePlan
from app.models.selfstudy import SelfStudy
from app.models.submissions import FormSubmission
from app.models.supervision import Feedback, FeedbackPhoto, Filing
from app.services import attachments
from tests.activities.helpers import PDF, standard_id
from tests.concurrency.harness import PG_ONLY, Reply, no_server_error, race, replies
from tests.concurrency.harness import post as harness_post
from tests.helpers import xlsx_bytes

pytestmark = PG_ONLY
REPEAT = "该表单已提交，未重复处理"


# ------------------------------------------------------------------------------------------ helpers
def token() -> str:
    return uuid.uuid4().hex


def twice(clients, url: str, payload) -> list[Reply]:
    """The same form (``payload()`` → a fresh dict with the same token, file streams new) posted by two
    clients at one instant."""
    outcomes = race([lambda c=c: harness_post(c, url, payload(), content_type="multipart/form-data")
                     for c in clients])
    rs = replies(outcomes)
    no_server_error(rs)
    return rs


def the_second_gets_the_first(rs: list[Reply], done: str) -> None:
    """One reply did the work (its message ``done``); the other was told so and sent to the same page."""
    first = [r for r in rs if not r.says(REPEAT)]
    second = [r for r in rs if r.says(REPEAT)]
    assert len(first) == 1 and len(second) == 1, [(r.status, r.flashes) for r in rs]
    assert first[0].says(done), first[0].flashes
    assert second[0].says(done), second[0].flashes  # the first one's message, repeated
    assert second[0].location == first[0].location, (first[0].location, second[0].location)


def folder_files(app) -> set[str]:
    with app.app_context():
        base = attachments.folder()
    if not os.path.isdir(base):
        return set()
    return {os.path.join(base, n) for n in os.listdir(base)}


def row_files(app, owner_type: str | None = None) -> set[str]:
    with app.app_context():
        base = attachments.folder()
        query = select(Attachment.path)
        if owner_type:
            query = query.where(Attachment.owner_type == owner_type)
        paths = {os.path.join(base, p) for p in db.session.scalars(query)}
        db.session.remove()
    return paths


def files_match_rows(app, before: set[str], owner_types: tuple[str, ...], expected: int) -> None:
    """Exactly ``expected`` attachment rows of ``owner_types`` were added, each with its file on disk, and
    no other file appeared in the folder."""
    new_files = folder_files(app) - before
    rows = set().union(*(row_files(app, t) for t in owner_types))
    assert len(rows) == expected, rows
    assert all(os.path.isfile(p) for p in rows), rows
    assert new_files == rows, (new_files - rows, rows - new_files)


def count(app, model, *where) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
    return n


def logs(app, module: str, action: str) -> int:
    """The action's own log rows (oplog.record: no target), not the per-row change log."""
    return count(app, OperationLog, OperationLog.module == module, OperationLog.action == action,
                 OperationLog.status.is_(True), OperationLog.target.is_(None))


# -------------------------------------------------------------------------------------------- forms
def test_wizard_save_and_submit(app, world, login):
    """向导 保存并提交: one credit, one 授分 log, the evidence of the draft once."""
    owner = login("inst_a")
    r = owner.post("/activities/degree/new")
    draft = int(re.search(r"/wizard/(\d+)/1", r.headers["Location"]).group(1))
    with app.app_context():
        assert owner.post(f"/activities/wizard/{draft}/1",
                          data={"standard_id": standard_id(8), "action": "next"}).status_code == 302
    owner.post(f"/activities/wizard/{draft}/2", data={"action": "add", "person_id": [world.pa]})
    before = folder_files(app)
    t = token()
    rs = twice([owner, login("inst_a")], f"/activities/wizard/{draft}/3", lambda: {
        "_submit_token": t, "amount": "4", "hours": "300", "activity_form": "满三个月学习时间", "subject": "内科学",
        "activity_date": "2025-05-10", "content": "在职研究生", "action": "submit",
        "evidence": (io.BytesIO(PDF), "成绩单.pdf")})
    the_second_gets_the_first(rs, "已为1人授予学分")
    assert not any(r.says("不能重复提交") or r.says("已有相同的学分记录") for r in rs)
    assert count(app, Credit) == 1
    assert logs(app, "可授学分的继续医学教育活动", "授分") == 1
    with app.app_context():
        assert db.session.get(GrantDraft, draft).status == "submitted"
    files_match_rows(app, before, ("grant_draft", "credit"), 1)
    assert count(app, FormSubmission, FormSubmission.token == t) == 1


def test_manual_credit_form(app, world, login):
    """手工录入学分 提交: one credit with its one certificate."""
    from tests.review.helpers import form

    before = folder_files(app)
    t = token()
    rs = twice([login("tech_a"), login("tech_a")], "/manual-credits/add", lambda: {
        **form(), "_submit_token": t, "submit": "1", "evidence": (io.BytesIO(PDF), "证书.pdf")})
    the_second_gets_the_first(rs, "学分已提交审核")
    assert count(app, Credit) == 1
    assert logs(app, "手工录入学分", "新增") == 1
    files_match_rows(app, before, ("credit",), 1)


def test_self_study_form(app, world, login):
    """有计划的自学 提交 (the unit fills for 张三): one form, one syllabus file, one log."""
    before = folder_files(app)
    t = token()
    rs = twice([login("inst_a"), login("inst_a")], f"/selfstudy/form/{world.pa}", lambda: {
        "_submit_token": t, "submit": "1", "s1_graduate": "3", "s5_role": "主编",
        "s1_syllabus": (io.BytesIO(PDF), "大纲.pdf")})
    the_second_gets_the_first(rs, "自学计划已提交")
    assert count(app, SelfStudy) == 1
    assert logs(app, "有计划的自学", "提交") == 1
    files_match_rows(app, before, ("self_study",), 1)


def test_practice_plan_upload(app, world, login):
    """计划上传 提交: one plan with its one plan file."""
    before = folder_files(app)
    t = token()
    rs = twice([login("inst_a"), login("inst_a")], "/practiceplan/add", lambda: {
        "_submit_token": t, "name": "2025年第二季度计划", "plan_type": "季度计划",
        "activity_forms": ["手术示范", "教学病例讨论"], "remark": "备注", "plan_file": (io.BytesIO(PDF), "计划.pdf")})
    the_second_gets_the_first(rs, "计划已提交")
    assert count(app, PracticePlan) == 1
    assert count(app, OperationLog, OperationLog.target.like("practice_plan:%"), OperationLog.action == "新增") == 1
    files_match_rows(app, before, ("practice_plan",), 1)


def _filing_form(t: str) -> dict:
    return {"_submit_token": t, "year": "2025", "project_no": "2025-04-04-011", "name": "脊髓背柱应用研究与手术技术培训",
            "project_type": "国家级", "organizer": "首都医科大学", "province": "北京市", "city": "北京市",
            "county": "海淀区", "starts_at": "2025-04-12T08:00", "ends_at": "2025-04-18T17:30", "sessions": "1",
            "approver": "王审批", "approval_method": "备案", "approval_no": "京继2025-1",
            "venue_name": ["第一会场"], "venue_address": ["北京市海淀区西四环北路50号"], "venue_organizer": ["三博脑科医院"],
            "venue_person": ["刘会务"], "venue_phone": ["13800000001"], "venue_date": ["2025-04-12"],
            "files": (io.BytesIO(PDF), "备案表.pdf")}


def test_filing_form(app, world, login):
    """项目报备 保存: one filing (not "项目编号已报备"), its one attachment."""
    before = folder_files(app)
    t = token()
    rs = twice([login("inst_a"), login("inst_a")], "/filing/add", lambda: _filing_form(t))
    the_second_gets_the_first(rs, "已保存")
    assert not any(r.says("不能重复报备") for r in rs)
    assert count(app, Filing) == 1
    assert logs(app, "项目督查", "保存") == 1
    files_match_rows(app, before, ("sup_filing",), 1)


def test_filing_document_upload(app, world, login):
    """通知公告 upload of a filing: one document, not two (the second would replace the first's file)."""
    from tests.supervision.helpers import add_filing

    with app.app_context():
        pk = add_filing(world.a, status="approved").id
        db.session.commit()
        db.session.remove()
    before = folder_files(app)
    t = token()
    rs = twice([login("inst_a"), login("inst_a")], f"/filing/doc/{pk}/notice", lambda: {
        "_submit_token": t, "file": (io.BytesIO(PDF), "通知.pdf")})
    the_second_gets_the_first(rs, "已上传通知公告")
    assert logs(app, "项目督查", "上传通知公告") == 1
    files_match_rows(app, before, ("sup_notice",), 1)


@pytest.fixture
def phone(app):
    app.config.update(SUP_CAPTCHA_FIXED="AB12", SUP_SMS_INTERVAL_SECONDS=0)
    yield "AB12"
    app.config.pop("SUP_CAPTCHA_FIXED", None)
    app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)


def phone_login(app, code: str):
    from app.models.supervision import SmsOutbox
    from tests.supervision.helpers import PHONE

    c = app.test_client()
    c.get("/m/captcha.png")
    assert c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": "AB12"}).status_code == 200
    with app.app_context():
        sms = db.session.scalar(select(SmsOutbox.text).order_by(SmsOutbox.id.desc()))
        db.session.remove()
    r = c.post("/m/login", data={"code": code, "phone": PHONE, "captcha": "AB12",
                                 "sms_code": re.search(r"验证码(\d{6})", sms).group(1)})
    assert r.status_code == 302
    c.post("/m/letter", data={"agree": "1"})
    return c


def test_feedback_photo_upload(app, world, phone, clock):
    """现场反馈 photo: one photo row, its original and stamped copy, nothing else on disk."""
    from tests.conftest import FIXED_NOW
    from tests.supervision.helpers import add_filing, add_manager, all_day_hours, jpeg

    now = clock.at(FIXED_NOW, tick=True)
    midnight = datetime.datetime.combine(now.date(), datetime.time())
    with app.app_context():
        all_day_hours()
        f = add_filing(world.a, status="approved", starts_at=midnight - datetime.timedelta(days=1),
                       ends_at=midnight + datetime.timedelta(days=2, seconds=-1))
        manager = add_manager(f)
        db.session.commit()
        code = manager.login_code
        current = next(p.id for p in f.periods
                       if p.label == f"{now.date():%Y-%m-%d}{'上午' if now.hour < 12 else '下午'}")
        db.session.remove()
    a, b = phone_login(app, code), phone_login(app, code)
    before = folder_files(app)
    t = token()
    data = jpeg(now.replace(microsecond=0))
    rs = twice([a, b], f"/m/period/{current}/photo", lambda: {
        "_submit_token": t, "slot": "venue", "lecturer_no": "0", "browser_time": "",
        "photo": (io.BytesIO(data), "venue.jpg")})
    the_second_gets_the_first(rs, "照片已上传")
    assert count(app, Feedback) == 1 and count(app, FeedbackPhoto) == 1
    files_match_rows(app, before, ("sup_photo", "sup_photo_stamped"), 2)


def test_appeal_form(app, world, login, clock):
    """复审申请: one appeal with its one new evidence file, one log."""
    from tests.audit_review.helpers import IN_PERIOD, audit_world

    clock.at(IN_PERIOD, tick=True)  # verdicts only inside the cycle's 审验时间
    with app.app_context():
        aw = audit_world(world, deadline=datetime.datetime.now() + datetime.timedelta(days=3))
    expert = login("expert")
    assert expert.post(f"/audit-review/person/{world.pb}/verdict?cycle={aw.cycle}",
                       data={"decision": "failed", "only": str(aw.pb_credit), f"version_{aw.pb_credit}": "0",
                             "reason": "签到记录缺失"}).status_code == 302
    with app.app_context():
        vid = db.session.scalar(select(AuditVerdict.id).where(AuditVerdict.credit_id == aw.pb_credit))
        db.session.remove()
    before = folder_files(app)
    t = token()
    rs = twice([login("inst_b"), login("inst_b")], f"/audit-appeals/new/{vid}", lambda: {
        "_submit_token": t, "reason": "有签到表", "files": (io.BytesIO(PDF), "签到表.pdf")})
    the_second_gets_the_first(rs, "已提交复审申请")
    assert not any(r.says("该材料已申请过复审") for r in rs)
    assert count(app, AuditAppeal) == 1
    assert logs(app, "审验", "申请复审") + logs(app, "审验结果", "申请复审") + logs(app, "学分审验", "申请复审") == 1
    files_match_rows(app, before, ("audit_appeal",), 1)


def test_rule_set_copy(app, world, login):
    """复制到下一年: one draft copy, one log row."""
    from app.models import RuleSet

    with app.app_context():
        bj = db.session.scalar(select(RuleSet.id).where(RuleSet.code == "BJ2025"))
        db.session.remove()
    t = token()
    rs = twice([login("city"), login("city")], f"/rulesets/copy/{bj}", lambda: {"_submit_token": t})
    first = [r for r in rs if not r.says(REPEAT)]
    assert len(first) == 1 and rs[0].location == rs[1].location, [(r.location, r.flashes) for r in rs]
    assert count(app, RuleSet, RuleSet.code == "BJ2026") == 1
    assert logs(app, "授分规则", "复制") == 1


PERSON_COLUMNS = ["IC卡号", "姓名", "身份证号", "单位", "科室", "职称", "专业", "联系电话"]


def _persons_xlsx() -> bytes:
    from tests.helpers import make_id_number

    return xlsx_bytes([["V0000001", "陈一", make_id_number(7001), "甲医院", "心内科", "主治医师", "心内科", "13900000001"],
                       ["V0000002", "陈二", make_id_number(7002), "甲医院", "骨科", "", "", ""]],
                      PERSON_COLUMNS).getvalue()


def test_person_import_upload(app, world, login):
    """人员导入: the double-clicked upload starts one job (no second job failing with "已存在")."""
    content = _persons_xlsx()
    t = token()
    rs = twice([login("inst_a"), login("inst_a")], "/persons/import/", lambda: {
        "_submit_token": t, "file": (io.BytesIO(content), "人员.xlsx")})
    assert rs[0].location == rs[1].location and "job=" in rs[0].location, [r.location for r in rs]
    assert count(app, Job) == 1
    with app.app_context():
        job = db.session.scalar(select(Job))
        assert job.status == "finished", job.message
        db.session.remove()

