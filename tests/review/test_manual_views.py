"""Manual entry (ICME-8) and the review work list over HTTP: seed 002 附件一/附件二."""
import datetime
import io

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Credit, ManualCredit, Parameter, ReviewLog
from tests.review.helpers import PDF, PNG, form, pdf


def _enter(client, submit=True, **over):
    data = form(**over)
    data["evidence"] = pdf()
    data["submit"] = "1" if submit else "0"
    return client.post("/manual-credits/add", data=data, content_type="multipart/form-data")


def _only_credit(app):
    with app.app_context():
        return db.session.scalars(select(Credit)).one()


def test_technician_chain_unit_and_city(app, world, login):
    tech, unit, city = login("tech_a"), login("inst_a"), login("city")
    r = _enter(tech, submit=False)
    assert r.status_code == 302
    c = _only_credit(app)
    assert c.status == "draft" and c.person_id == world.pa and c.grantor_name == "中华医学会"
    # 附件一 3: "授分为必点项" — then it cannot be submitted twice.
    assert tech.post(f"/manual-credits/{c.id}/submit").status_code == 302
    r = tech.post(f"/manual-credits/{c.id}/submit", follow_redirects=True)
    assert "不能执行" in r.get_data(as_text=True)
    assert _only_credit(app).status == "submitted"
    # Unit fail needs a reason.
    page = unit.get("/credit-review/").get_data(as_text=True)
    assert "国家级心血管新进展学习班" in page and "<iframe" in page
    r = unit.post("/credit-review/review", data={"rowid": [c.id], "decision": "fail", "reason": ""},
                  follow_redirects=True)
    assert "请填写不通过原因" in r.get_data(as_text=True) and _only_credit(app).status == "submitted"
    unit.post("/credit-review/review", data={"rowid": [c.id], "decision": "fail", "reason": "证书编号与证书不一致"})
    assert _only_credit(app).status == "rejected"
    # The technician reads the reason, edits and resubmits.
    listing = tech.get("/manual-credits/").get_data(as_text=True)
    assert "证书编号与证书不一致" in listing
    assert "证书编号与证书不一致" in tech.get(f"/manual-credits/{c.id}").get_data(as_text=True)
    data = form(certificate_no="ZS2026002")
    data["submit"] = "1"
    assert tech.post(f"/manual-credits/{c.id}/edit", data=data).status_code == 302
    c = _only_credit(app)
    assert c.status == "submitted" and c.certificate_no == "ZS2026002"
    unit.post("/credit-review/review", data={"rowid": [c.id], "decision": "pass"})
    assert _only_credit(app).status == "unit_approved"
    assert "国家级心血管新进展学习班" in city.get("/credit-review/").get_data(as_text=True)
    city.post("/credit-review/review", data={"rowid": [c.id], "decision": "pass"})
    assert _only_credit(app).status == "city_approved"
    with app.app_context():
        actions = [r.action for r in db.session.scalars(select(ReviewLog).order_by(ReviewLog.id))]
    assert actions == ["save", "submit", "unit_fail", "submit", "unit_pass", "city_pass"]
    # Nothing more to edit.
    r = tech.post(f"/manual-credits/{c.id}/edit", data=form(), follow_redirects=True)
    assert "不能修改" in r.get_data(as_text=True)


def test_bad_input_and_files_refused(app, world, login):
    tech = login("tech_a")
    # A text file renamed .pdf, and a 6 MB PDF: refused, nothing written.
    for name, data in (("证书.pdf", b"just text, not a pdf" * 10), ("大文件.pdf", PDF + b"0" * (6 * 1024 * 1024))):
        payload = form()
        payload["evidence"] = (io.BytesIO(data), name)
        r = tech.post("/manual-credits/add", data=payload, content_type="multipart/form-data")
        assert r.status_code == 422
        text = r.get_data(as_text=True)
        assert "类型不正确" in text or "过大" in text
    for over, message in (({"credits": "-1"}, "学分必须大于0"), ({"credits": "abc"}, "学分必须是数字"),
                          ({"credits": "26"}, "不能超过25分"), ({"certificate_no": ""}, "请填写证书编号"),
                          ({"category": "随便写"}, "学分类别不在字典中"),
                          ({"granted_on": (datetime.date.today() + datetime.timedelta(days=3)).isoformat()},
                           "不能晚于今天")):
        r = _enter(tech, **over)
        assert r.status_code == 422 and message in r.get_data(as_text=True), over
    # Submitting needs the e-certificate.
    r = tech.post("/manual-credits/add", data={**form(), "submit": "1"})
    assert r.status_code == 422 and "请上传电子学分证书" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Credit).count() == 0 and db.session.query(Attachment).count() == 0
        assert db.session.query(ReviewLog).count() == 0


def test_closed_year(app, world, login, clock):
    clock.at()  # 2026-03-18: after 01-01, so closing on 01-01 refuses this year's entries
    tech, unit = login("tech_a"), login("inst_a")
    last_year = datetime.date.today().replace(year=datetime.date.today().year - 1, month=6, day=1).isoformat()
    r = _enter(tech, granted_on=last_year)
    assert r.status_code == 422 and "截止" in r.get_data(as_text=True)
    # The parameter decides: closing this year's entry yesterday refuses this year's entries too.
    with app.app_context():
        db.session.scalars(select(Parameter).where(Parameter.key == "credit_year_closes")).one().value = "01-01"
        db.session.commit()
    assert _enter(tech).status_code == 422
    # The unit's late entry needs the unit certificate, then goes to the city.
    data = {**form(granted_on=last_year), "card_no": "A0000001", "evidence": pdf()}
    r = unit.post("/manual-credits/add", data=data, content_type="multipart/form-data")
    assert r.status_code == 422 and "单位证明" in r.get_data(as_text=True)
    data = {**form(granted_on=last_year), "card_no": "A0000001", "evidence": pdf(),
            "unit_certificate": (io.BytesIO(PNG), "单位证明.png")}
    assert unit.post("/manual-credits/add", data=data, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        c = db.session.scalars(select(Credit)).one()
        m = db.session.scalar(select(ManualCredit))
        assert c.status == "unit_approved" and c.source == "unit" and m.late and m.needs_city
        assert db.session.scalar(select(ReviewLog.action)) == "late_enter"
    # A unit cannot enter for another unit's person.
    data = {**form(), "card_no": "B0000001", "evidence": pdf()}
    r = unit.post("/manual-credits/add", data=data, content_type="multipart/form-data")
    assert r.status_code == 422 and "管理范围内没有" in r.get_data(as_text=True)
    assert "补录" in login("city").get("/credit-review/").get_data(as_text=True)


def test_other_institution_cannot_see_pass_or_preview(app, world, login):
    tech_a, inst_b, tech_b = login("tech_a"), login("inst_b"), login("tech_b")
    assert _enter(tech_a).status_code == 302
    with app.app_context():
        cid = db.session.scalar(select(Credit.id))
        att = db.session.scalar(select(Attachment.id))
    # Institution B: not in its list, show 404, file 404, single and bulk review refused.
    assert "国家级心血管新进展学习班" not in inst_b.get("/credit-review/").get_data(as_text=True)
    assert inst_b.get(f"/manual-credits/{cid}").status_code == 404
    assert inst_b.get(f"/manual-credits/file/{att}").status_code == 404
    assert tech_b.get(f"/manual-credits/file/{att}").status_code == 404
    assert tech_b.post(f"/manual-credits/{cid}/submit").status_code in (403, 404)
    r = inst_b.post("/credit-review/review", data={"rowid": [cid], "decision": "pass"}, follow_redirects=True)
    assert "不在您待审核范围内" in r.get_data(as_text=True)
    # Bulk with one own credit and one guessed: the whole batch is refused.
    with app.app_context():
        from app.models.users import CmeUser
        from app.services import workflow
        from tests.review.test_workflow import _credit
        own = _credit(world.pb)
        workflow.created(own, db.session.scalar(select(CmeUser).where(CmeUser.username == "tech_b")), "save")
        db.session.add(ManualCredit(credit_id=own.id, year=own.granted_on.year))
        own.status = "submitted"
        db.session.commit()
        own_id = own.id
    inst_b.post("/credit-review/review", data={"rowid": [own_id, cid], "decision": "fail", "reason": "x"})
    with app.app_context():
        assert {c.status for c in db.session.scalars(select(Credit))} == {"submitted"}
    # The technician may not pass; the district has no review list.
    assert tech_a.post("/credit-review/review", data={"rowid": [cid], "decision": "pass"}).status_code in (302, 403)
    assert _only_status(app, cid) == "submitted"
    # Own institution's reviewer previews inline.
    r = login("inst_a").get(f"/manual-credits/file/{att}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("inline")


def _only_status(app, cid):
    with app.app_context():
        return db.session.get(Credit, cid).status
