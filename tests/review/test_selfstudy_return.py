"""Self-study 退回 (services/workflow.py SELF_STUDY "return": submitted → returned, reason required):
the supervisor returns a submitted form with a reason, the filler reads it and submits again."""
from sqlalchemy import select

from app.extensions import db
from app.models import ReviewLog, SelfStudy


def _status(app, ss_id):
    with app.app_context():
        return db.session.get(SelfStudy, ss_id).status


def _submitted(app, world, login):
    """学员上传 in 心内科, 张三 submits; returns the form's id."""
    inst, tech = login("inst_a"), login("tech_a")
    assert inst.post("/selfstudy/delegation/set", data={"rowid": [world.a_dept], "mode": "person"}).status_code == 302
    r = tech.post(f"/selfstudy/form/{world.pa}", data={"submit": "1", "s1_graduate": "3"})
    assert r.status_code == 302
    with app.app_context():
        return db.session.scalar(select(SelfStudy.id))


def test_return_with_reason_then_resubmit(app, world, login):
    ss_id = _submitted(app, world, login)
    inst, tech = login("inst_a"), login("tech_a")
    listing = inst.get("/selfstudy/").get_data(as_text=True)
    assert f"/selfstudy/{ss_id}/return" in listing and "退回原因（必填）" in listing and "确定退回" in listing
    detail = inst.get(f"/selfstudy/{ss_id}", follow_redirects=True).get_data(as_text=True)
    assert 'id="btn-return"' in detail and "confirm(" in detail
    # The reason is required: refused, nothing changed, nothing logged.
    r = inst.post(f"/selfstudy/{ss_id}/return", data={"reason": "  "}, follow_redirects=True)
    assert "请填写退回原因" in r.get_data(as_text=True) and _status(app, ss_id) == "submitted"
    r = inst.post(f"/selfstudy/{ss_id}/return", data={"reason": "缺少教学大纲原件扫描件"}, follow_redirects=True)
    assert "自学计划已退回" in r.get_data(as_text=True) and _status(app, ss_id) == "returned"
    with app.app_context():
        log = db.session.scalars(select(ReviewLog).where(ReviewLog.owner_type == "self_study")
                                 .order_by(ReviewLog.id.desc())).first()
        assert (log.action, log.result, log.reason, log.to_status) == ("return", "退回", "缺少教学大纲原件扫描件",
                                                                     "returned")
    # Returned once only; no grant of a returned form.
    r = inst.post(f"/selfstudy/{ss_id}/return", data={"reason": "再退"}, follow_redirects=True)
    assert "不能执行" in r.get_data(as_text=True)
    r = inst.post(f"/selfstudy/{ss_id}/grant", data={"credits": "5"}, follow_redirects=True)
    assert "不能执行" in r.get_data(as_text=True) and _status(app, ss_id) == "returned"
    # The supervisor's list shows the status and the reason.
    listing = inst.get("/selfstudy/").get_data(as_text=True)
    assert "已退回" in listing and "缺少教学大纲原件扫描件" in listing
    # The technician sees the reason on their form, edits and submits again.
    page = tech.get("/selfstudy/mine", follow_redirects=True).get_data(as_text=True)
    assert 'id="return-reason"' in page and "缺少教学大纲原件扫描件" in page and 'id="btn-save-submit"' in page
    assert tech.post(f"/selfstudy/form/{world.pa}", data={"submit": "1", "s1_graduate": "4"}).status_code == 302
    assert _status(app, ss_id) == "submitted"
    # Then the grant goes through.
    r = inst.post(f"/selfstudy/{ss_id}/grant", data={"credits": "4"}, follow_redirects=True)
    assert "已授予 4 学分" in r.get_data(as_text=True)
    with app.app_context():
        actions = [x.action for x in db.session.scalars(select(ReviewLog).where(
            ReviewLog.owner_type == "self_study").order_by(ReviewLog.id))]
    assert actions == ["save", "submit", "return", "submit", "grant"]


def test_return_scope_by_guessed_ids(app, world, login):
    ss_id = _submitted(app, world, login)
    # Another institution, another district, a secretary without the permission and the technician:
    # nothing returned.
    assert login("inst_b").post(f"/selfstudy/{ss_id}/return", data={"reason": "x"}).status_code == 404
    assert login("district2").post(f"/selfstudy/{ss_id}/return", data={"reason": "x"}).status_code == 404
    assert login("sec_b").post(f"/selfstudy/{ss_id}/return", data={"reason": "x"}).status_code in (302, 403, 404)
    assert login("tech_a").post(f"/selfstudy/{ss_id}/return", data={"reason": "x"}).status_code in (302, 403)
    assert login("tech_b").post(f"/selfstudy/{ss_id}/return", data={"reason": "x"}).status_code in (302, 403, 404)
    assert _status(app, ss_id) == "submitted"
    # The technician's page has no return button; the own district may return.
    page = login("tech_a").get("/selfstudy/mine", follow_redirects=True).get_data(as_text=True)
    assert 'id="btn-return"' not in page
    r = login("district1").post(f"/selfstudy/{ss_id}/return", data={"reason": "材料不全"})
    assert r.status_code == 302 and _status(app, ss_id) == "returned"
    # An over-long reason is refused in Chinese.
    tech = login("tech_a")
    assert tech.post(f"/selfstudy/form/{world.pa}", data={"submit": "1", "s1_graduate": "2"}).status_code == 302
    r = login("inst_a").post(f"/selfstudy/{ss_id}/return", data={"reason": "长" * 501}, follow_redirects=True)
    assert "不能超过500个字" in r.get_data(as_text=True) and _status(app, ss_id) == "submitted"
