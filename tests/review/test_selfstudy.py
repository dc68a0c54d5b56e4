"""Planned self-study (ICME-7), seed 003 part 01 "增加有计划的自学学分录入"."""
import io

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Credit, ReviewLog, SelfStudy, SelfStudyDelegation
from tests.review.helpers import PDF


def _delegate(client, org_id, mode):
    return client.post("/selfstudy/delegation/set", data={"rowid": [org_id], "mode": mode})


def test_delegation_form_and_grant(app, world, login):
    tech, inst, district, inst_b = login("tech_a"), login("inst_a"), login("district1"), login("inst_b")
    # "分级下放上传权限": the institution hands its department to 学员上传; its own row is the district's.
    page = inst.get("/selfstudy/delegation/").get_data(as_text=True)
    assert "心内科" in page and "乙医院" not in page
    r = _delegate(inst, world.a, "person")
    assert "主管部门设置" in inst.get("/selfstudy/delegation/").get_data(as_text=True) or r.status_code == 302
    with app.app_context():
        assert db.session.query(SelfStudyDelegation).count() == 0
    # A guessed department of institution B: refused, nothing written.
    _delegate(inst, world.b_dept, "person")
    with app.app_context():
        assert db.session.query(SelfStudyDelegation).count() == 0
    # Default 机构上传: the technician cannot fill.
    r = tech.post(f"/selfstudy/form/{world.pa}", data={"s1_graduate": "3", "submit": "1"})
    assert r.status_code == 422 and "机构上传" in r.get_data(as_text=True)
    _delegate(inst, world.a_dept, "person")
    assert _delegate(district, world.a, "institution").status_code == 302
    with app.app_context():
        assert dict(db.session.execute(select(SelfStudyDelegation.org_id, SelfStudyDelegation.mode)).tuples().all()) \
            == {world.a_dept: "person", world.a: "institution"}
    # 学员上传: the technician fills the seven sections; bad counts refused, then save-and-submit.
    form_page = tech.get(f"/selfstudy/form/{world.pa}").get_data(as_text=True)
    for title in ("授课或带教", "参与专业考试命题", "开展健康宣教", "发表论文", "出版著作", "承担教学和科研课题",
                  "传染病相关文章及传染病相关著作"):
        assert title in form_page
    r = tech.post(f"/selfstudy/form/{world.pa}", data={"s1_graduate": "-2", "submit": "1"})
    assert r.status_code == 422 and "研究生授课带教" in r.get_data(as_text=True)
    r = tech.post(f"/selfstudy/form/{world.pa}", data={"submit": "1", "s1_graduate": "3", "s5_role": "主编",
                                                       "s1_syllabus": (io.BytesIO(b"text" * 20), "大纲.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 422 and "类型不正确" in r.get_data(as_text=True)
    r = tech.post(f"/selfstudy/form/{world.pa}", data={"submit": "1", "s1_graduate": "3", "s5_role": "主编",
                                                       "s1_syllabus": (io.BytesIO(PDF), "大纲.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    with app.app_context():
        ss = db.session.scalars(select(SelfStudy)).one()
        att = db.session.scalars(select(Attachment)).one()
        assert ss.status == "submitted" and ss.data["fields"]["s1_graduate"] == 3
        assert ss.data["files"]["s1_syllabus"] == [att.id]
        ss_id, att_id = ss.id, att.id
    # Submitted: no more edits.
    assert tech.post(f"/selfstudy/form/{world.pa}", data={"s1_graduate": "4"}).status_code == 422
    # The supervisor's list; B sees nothing of A and cannot grant or preview by guessing ids.
    listing = inst.get("/selfstudy/").get_data(as_text=True)
    assert "A0000001" in listing and "待授分" in listing
    assert "A0000001" not in inst_b.get("/selfstudy/").get_data(as_text=True)
    assert inst_b.get(f"/selfstudy/{ss_id}").status_code == 404
    assert inst_b.post(f"/selfstudy/{ss_id}/grant", data={"credits": "5"}).status_code == 404
    assert inst_b.get(f"/selfstudy/file/{att_id}").status_code == 404
    assert login("tech_b").get(f"/selfstudy/form/{world.pa}").status_code == 404
    assert inst.get(f"/selfstudy/file/{att_id}").headers["Content-Disposition"].startswith("inline")
    # The technician cannot grant.
    assert tech.post(f"/selfstudy/{ss_id}/grant", data={"credits": "5"}).status_code in (302, 403)
    # 授分 through the rule engine: the policy caps 有计划的自学 at 10 (Beijing 2025 category_limits).
    r = district.post(f"/selfstudy/{ss_id}/grant", data={"credits": "12"}, follow_redirects=True)
    assert "已授予 10 学分" in r.get_data(as_text=True)
    with app.app_context():
        credit = db.session.scalars(select(Credit)).one()
        ss = db.session.get(SelfStudy, ss_id)
        assert credit.credits == 10 and credit.category == "有计划的自学" and credit.status == "unit_approved"
        assert ss.status == "granted" and ss.credit_id == credit.id
        assert [r.action for r in db.session.scalars(select(ReviewLog).where(ReviewLog.owner_type == "self_study")
                                                     .order_by(ReviewLog.id))] == ["save", "submit", "grant"]
    # Granted once only.
    district.post(f"/selfstudy/{ss_id}/grant", data={"credits": "5"})
    with app.app_context():
        assert db.session.query(Credit).count() == 1
    assert "已授分" in inst.get("/selfstudy/").get_data(as_text=True)


def test_institution_upload(app, world, login):
    inst = login("inst_a")
    r = inst.post("/selfstudy/fill", data={"card_no": "A0000002", "year": "2026"})
    assert r.status_code == 302 and f"/selfstudy/form/{world.pa2}" in r.headers["Location"]
    assert inst.post("/selfstudy/fill", data={"card_no": "B0000001"}).status_code == 302  # refused with a flash
    r = inst.post(f"/selfstudy/form/{world.pa2}?year=2026", data={"s3_articles": "2", "s3_article_media": "健康报",
                                                                 "submit": "0"})
    assert r.status_code == 302
    with app.app_context():
        ss = db.session.scalars(select(SelfStudy)).one()
        assert ss.status == "draft" and ss.submitted_by == "unit"
    # Empty submit refused.
    r = login("inst_a").post(f"/selfstudy/form/{world.pb}?year=2026", data={"submit": "1"})
    assert r.status_code == 404
