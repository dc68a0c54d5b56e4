"""Idempotent forms one after the other, on both backends (the simultaneous case: tests/concurrency/
test_double_submit.py): every form with files carries a token; a resent token gets the first page; a refused
submit leaves its token free; another user's token does nothing; the same import file twice is one job."""
from __future__ import annotations

import datetime
import io
import re
import uuid

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Credit, Job
from app.models.submissions import FormSubmission
from tests.activities.helpers import PDF
from tests.concurrency.test_double_submit import _persons_xlsx
from tests.helpers import xlsx_bytes
from tests.review.helpers import form

TOKEN = re.compile(r'name="_submit_token" value="([0-9a-f]{32})"')


def _count(app, model) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return n


def _flashes(client) -> str:
    with client.session_transaction() as s:
        return " ".join(m for _c, m in s.pop("_flashes", []))


@pytest.mark.parametrize("user, url", [
    ("inst_a", "/manual-credits/add"), ("inst_a", "/practiceplan/add"), ("inst_a", "/filing/add"),
    ("inst_a", "/filing/list/"), ("inst_a", "/persons/import/"), ("city", "/project-catalog/list/"),
    ("inst_a", "/activities/degree/new")])
def test_form_pages_carry_a_fresh_token(app, world, login, user, url):
    c = login(user)
    first, second = c.get(url).get_data(as_text=True), c.get(url).get_data(as_text=True)
    assert TOKEN.search(first) and TOKEN.search(second), url
    assert TOKEN.search(first).group(1) != TOKEN.search(second).group(1)


def _manual(client, token, **over):
    return client.post("/manual-credits/add", data={**form(**over), "_submit_token": token, "submit": "1",
                                                    "evidence": (io.BytesIO(PDF), "证书.pdf")},
                       content_type="multipart/form-data")


def test_the_same_token_again_gets_the_first_page(app, world, login):
    c = login("tech_a")
    t = uuid.uuid4().hex
    first = _manual(c, t)
    assert first.status_code == 302 and "学分已提交审核" in _flashes(c)
    again = _manual(c, t)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    said = _flashes(c)
    assert "学分已提交审核" in said and "该表单已提交，未重复处理" in said
    assert _count(app, Credit) == 1
    with app.app_context():
        sub = db.session.scalar(select(FormSubmission))
        assert (sub.token, sub.endpoint, sub.result_url) == (t, "ManualCreditView.add", first.headers["Location"])
        db.session.remove()
    # A new rendering of the form (a new token) is a new entry.
    assert _manual(login("tech_a"), uuid.uuid4().hex, certificate_no="ZS2026002", content="另一次学习").status_code == 302
    assert _count(app, Credit) == 2


def test_a_refused_submit_leaves_its_token_free(app, world, login):
    c = login("tech_a")
    t = uuid.uuid4().hex
    refused = _manual(c, t, credits="")
    assert refused.status_code == 422 and _count(app, FormSubmission) == 0
    assert TOKEN.search(refused.get_data(as_text=True)).group(1) != t  # the page carries a new one
    assert _manual(c, t).status_code == 302  # the same token (an old tab) still does the work once
    assert _count(app, Credit) == 1


def test_another_users_token_does_nothing(app, world, login):
    t = uuid.uuid4().hex
    assert _manual(login("tech_a"), t).status_code == 302
    other = login("tech_b")
    r = _manual(other, t)
    assert r.status_code == 302 and "表单已失效" in _flashes(other)
    assert _count(app, Credit) == 1


def test_same_file_again_within_ten_minutes_shows_the_first_job(app, world, login):
    """The same workbook uploaded again (another rendering of the form, so another token) by the same user
    within ten minutes: the first job's progress page, in Chinese; after ten minutes it is a new import."""
    c = login("inst_a")
    persons = _persons_xlsx()

    def upload(data):
        r = c.post("/persons/import/", data={"_submit_token": uuid.uuid4().hex, "file": (io.BytesIO(data), "人员.xlsx")},
                   content_type="multipart/form-data")
        assert r.status_code == 302, r.status_code
        return r.headers["Location"], _flashes(c)

    first, _ = upload(persons)
    again, said = upload(persons)
    assert again == first and "未重复导入" in said, said
    assert _count(app, Job) == 1
    # A failed import does not hold the file back: after fixing the database the same file runs again.
    bad = xlsx_bytes([["2025-04-04-011"]], ["项目编号"]).getvalue()
    bad_first, _ = upload(bad)
    bad_again, said = upload(bad)
    assert bad_again != bad_first and "未重复导入" not in said
    # Ten minutes later the same file is a new import.
    with app.app_context():
        db.session.execute(Job.__table__.update().values(created_at=Job.created_at - datetime.timedelta(minutes=11)))
        db.session.commit()
        db.session.remove()
    later, said = upload(persons)
    assert later != first and "未重复导入" not in said


def test_flask_appbuilder_add_forms_are_idempotent_too(app, world, login):
    """通知公告 新增 (a Flask-AppBuilder form): its widget carries the token, a double click adds one notice."""
    from app.models import Notice

    c = login("district1")
    t = TOKEN.search(c.get("/notices/add").get_data(as_text=True)).group(1)
    data = {"title": "东城区通知", "content": "正文", "published": "y", "_submit_token": t}
    first, again = c.post("/notices/add", data=data), c.post("/notices/add", data=data)
    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert "该表单已提交，未重复处理" in _flashes(c)
    assert _count(app, Notice) == 1


def test_a_users_tokens_older_than_thirty_days_go(app, world, login, clock):
    clock.at(datetime.datetime(2026, 3, 18, 10, 30), tick=True)
    c = login("tech_a")
    with app.app_context():
        from app.models import CmeUser

        uid = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "tech_a"))
        db.session.add_all([FormSubmission(token="a" * 32, user_id=uid, created_at=datetime.datetime(2026, 2, 15)),
                            FormSubmission(token="b" * 32, user_id=uid, created_at=datetime.datetime(2026, 2, 20))])
        db.session.commit()
        db.session.remove()
    assert _manual(c, uuid.uuid4().hex, granted_on="2026-03-01").status_code == 302
    with app.app_context():
        tokens = set(db.session.scalars(select(FormSubmission.token)))
        assert "a" * 32 not in tokens and "b" * 32 in tokens and len(tokens) == 2  # the 33-day-old one went
        db.session.remove()



def test_files_of_a_refused_submit_are_deleted_with_its_transaction(app, world, login):
    """保存并提交 stores the evidence, then the grant is refused (张三 already has this credit from another
    draft): the transaction rolls back and the files it wrote go with it — no file without a row."""
    import os

    from app.models import Attachment
    from app.services import attachments
    from tests.activities.helpers import standard_id

    c = login("inst_a")

    def draft() -> int:
        d = int(re.search(r"/wizard/(\d+)/1", c.post("/activities/degree/new").headers["Location"]).group(1))
        with app.app_context():
            c.post(f"/activities/wizard/{d}/1", data={"standard_id": standard_id(8), "action": "next"})
        c.post(f"/activities/wizard/{d}/2", data={"action": "add", "person_id": [world.pa]})
        return d

    def submit(d: int):
        return c.post(f"/activities/wizard/{d}/3", data={
            "amount": "4", "hours": "300", "activity_form": "满三个月学习时间", "subject": "内科学",
            "activity_date": "2025-05-10", "content": "在职研究生", "action": "submit",
            "evidence": [(io.BytesIO(PDF), "成绩单.pdf"), (io.BytesIO(PDF), "学位证.pdf")]},
            content_type="multipart/form-data")

    first, second = draft(), draft()
    with app.app_context():
        folder = attachments.folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    assert submit(first).status_code == 302 and "已为1人授予学分" in _flashes(c)
    refused = submit(second)
    assert refused.status_code == 422 and "已有相同的学分记录" in refused.get_data(as_text=True)
    with app.app_context():
        rows = {os.path.basename(p) for p in db.session.scalars(select(Attachment.path))}
        db.session.remove()
    # Issue 15.3: the refused draft keeps its two files as evidence (the first draft's two and the refused
    # draft's two); still no file without a row.
    assert len(rows) == 4 and set(os.listdir(folder)) - before == rows
