"""Races in the credit review chain (seed 002 附件一): two reviewers of one unit pass / fail the same
manual credit at the same instant through 单位学分审核; one decides, the other is told who decided
first; one review-log row, the winner's status."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Credit, ReviewLog
from app.services import roles as R
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split
from tests.review.helpers import form, pdf

pytestmark = PG_ONLY
TIMES = 5
PASS = {"decision": "pass"}
FAIL = {"decision": "fail", "reason": "证书编号与电子证书不一致"}


def _submitted(app, tech) -> int:
    """A manual credit the technician entered and submitted (授分), over HTTP."""
    data = {**form(certificate_no=f"ZS{id(tech) % 10**6}"), "evidence": pdf(), "submit": "1"}
    assert tech.post("/manual-credits/add", data=data, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        return db.session.scalar(select(func.max(Credit.id)))


def _state(app, credit_id: int):
    with app.app_context():
        status = db.session.get(Credit, credit_id).status
        logs = list(db.session.scalars(select(ReviewLog).where(
            ReviewLog.owner_type == "credit", ReviewLog.owner_id == credit_id,
            ReviewLog.action.in_(("unit_pass", "unit_fail", "city_pass", "city_fail")))))
        db.session.remove()
        return status, [(x.action, x.user_name) for x in logs]


def _race(app, tech, reviewers, decisions, names, done_status):
    def once(_):
        cid = _submitted(app, tech)
        rs = replies(race([lambda c=c, d=d: post(c, "/credit-review/review", {"rowid": [cid], **d})
                           for c, d in zip(reviewers, decisions)]))
        (won,), (lost,) = split(rs, lambda r: r.says("已审核"))
        i = rs.index(won)
        status, logs = _state(app, cid)
        assert status == done_status[i], (status, won.flashes)
        assert logs == [({"pass": "unit_pass", "fail": "unit_fail"}[decisions[i]["decision"]], names[i])]
        # The loser hears that someone else decided first, what and who.
        label = {"unit_approved": "单位审核通过", "rejected": "已退回"}
        assert lost.says("已由他人先", names[i]), lost.flashes
        assert "当前状态为" in lost.text and (label.get(status, "") in lost.text or "不通过" in lost.text), lost.text

    repeat(TIMES, once)


def test_unit_pass_against_fail(app, world, add_user, clients):
    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    tech, first, second = clients("tech_a", "inst_a", "inst_a_2")
    _race(app, tech, [first, second], [PASS, FAIL], ["inst_a", "inst_a_2"], ["unit_approved", "rejected"])


def test_unit_pass_against_pass(app, world, add_user, clients):
    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    tech, first, second = clients("tech_a", "inst_a", "inst_a_2")
    _race(app, tech, [first, second], [PASS, PASS], ["inst_a", "inst_a_2"], ["unit_approved", "unit_approved"])


def test_city_pass_against_fail(app, world, add_user, clients):
    """市级审核 of a manual credit the unit passed: two city users pass and fail it at once."""
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    tech, unit, first, second = clients("tech_a", "inst_a", "city", "city_2")

    def once(_):
        cid = _submitted(app, tech)
        assert post(unit, "/credit-review/review", {"rowid": [cid], **PASS}).says("已审核通过")
        rs = replies(race([lambda c=c, d=d: post(c, "/credit-review/review", {"rowid": [cid], **d})
                           for c, d in zip((first, second), (PASS, FAIL))]))
        (won,), (lost,) = split(rs, lambda r: r.says("已审核"))
        w = rs.index(won)
        with app.app_context():
            status = db.session.get(Credit, cid).status
            logs = db.session.scalars(select(ReviewLog.action).where(
                ReviewLog.owner_type == "credit", ReviewLog.owner_id == cid,
                ReviewLog.action.in_(("city_pass", "city_fail")))).all()
            db.session.remove()
        assert status == ("city_approved", "rejected")[w] and logs == [("city_pass", "city_fail")[w]]
        assert lost.says("已由他人先", ("city", "city_2")[w], "当前状态为"), lost.flashes

    repeat(TIMES, once)
