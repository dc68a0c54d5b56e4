"""Races in the audit review (审验, seed 001): 标记为已审 and 达标计算 twice at once on one person (was a
500 on uq_audit_result_cycle_person), two appeals of one material, two city users deciding one appeal.
No 500, one result row, one appeal, one decision with the loser told who decided first."""
import io

import pytest
from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import Attachment, ReviewLog
from app.models.audit_review import AuditAppeal, AuditResult, AuditVerdict
from app.services import roles as R
from tests.audit_review.helpers import PDF, audit_world
from tests.concurrency.harness import (
    PG_ONLY,
    no_server_error,
    post,
    race,
    repeat,
    replies,
    split,
)

pytestmark = PG_ONLY
TIMES = 5


@pytest.fixture
def aw(app, world, clock):
    import datetime

    from tests.audit_review.helpers import IN_PERIOD

    clock.at(IN_PERIOD, tick=True)  # verdicts only inside the cycle's 审验时间
    with app.app_context():
        return audit_world(world, deadline=datetime.datetime(2099, 12, 2, 17, 0))


def _no_result(app, person_id):
    with app.app_context():
        db.session.execute(delete(AuditResult).where(AuditResult.person_id == person_id))
        db.session.commit()
        db.session.remove()


def _results(app, person_id):
    with app.app_context():
        rows = [(r.reviewed, r.version, r.met) for r in db.session.scalars(
            select(AuditResult).where(AuditResult.person_id == person_id))]
        db.session.remove()
        return rows


@pytest.mark.parametrize("what", ["mark", "compute"])
def test_two_marks_or_computations_of_one_person(app, world, aw, clients, what):
    one, two = clients("expert", "expert")  # the expert in two tabs (or a double click)
    url = f"/audit-review/person/{world.pa}/{what}?cycle={aw.cycle}"
    data = {"reviewed": "1"} if what == "mark" else {}

    def once(_):
        _no_result(app, world.pa)
        rs = replies(race([lambda c=c: post(c, url, data) for c in (one, two)]))
        no_server_error(rs)
        ok = "已标记为已审" if what == "mark" else "达标计算完成"
        assert all(r.says(ok) for r in rs), [r.flashes for r in rs]  # idempotent: both done, in turn
        rows = _results(app, world.pa)
        assert len(rows) == 1
        if what == "mark":
            assert rows[0][0] is True
        else:
            assert rows[0][1] == 3 and rows[0][2] is not None  # created at 1, two computations in turn

    repeat(TIMES, once)


def _failed_verdict(app, aw) -> int:
    """王五's only credit failed by the expert, with no appeal yet (reset between races)."""
    with app.app_context():
        db.session.execute(delete(AuditAppeal))
        vid = db.session.scalar(select(AuditVerdict.id).where(AuditVerdict.credit_id == aw.pb_credit))
        db.session.execute(update(AuditVerdict).where(AuditVerdict.id == vid).values(
            verdict="failed", reason="签到记录缺失", via_appeal=False))
        db.session.commit()
        db.session.remove()
        return vid


def _judge_pb(login, world, aw):
    c = login("expert")
    r = c.post(f"/audit-review/person/{world.pb}/verdict?cycle={aw.cycle}",
               data={"decision": "failed", "only": str(aw.pb_credit), f"version_{aw.pb_credit}": "0",
                     "reason": "签到记录缺失"})
    assert r.status_code == 302


def _appeal(client, vid, reason="有签到表"):
    return post(client, f"/audit-appeals/new/{vid}", {"reason": reason, "files": (io.BytesIO(PDF), "签到表.pdf")},
                content_type="multipart/form-data")


def test_two_appeals_of_one_material(app, world, aw, login, clients):
    _judge_pb(login, world, aw)
    inst, district = clients("inst_b", "district2")

    def once(_):
        vid = _failed_verdict(app, aw)
        rs = replies(race([lambda: _appeal(inst, vid, "有签到表"), lambda: _appeal(district, vid, "有照片")]))
        (won,), (lost,) = split(rs, lambda r: r.says("已提交复审申请"))
        assert lost.says("已申请过复审"), lost.text[:500]
        with app.app_context():
            appeals = db.session.scalars(select(AuditAppeal)).all()
            assert len(appeals) == 1 and appeals[0].reason == ("有签到表", "有照片")[rs.index(won)]
            files = db.session.scalars(select(Attachment.owner_id).where(Attachment.owner_type == "audit_appeal")).all()
            assert files.count(appeals[0].id) == 1
            db.session.remove()

    repeat(TIMES, once)


def test_two_city_users_decide_one_appeal(app, world, aw, login, add_user, clients):
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    _judge_pb(login, world, aw)
    inst, first, second = clients("inst_b", "city", "city_2")
    names = ["city", "city_2"]
    decisions = [{"decision": "accept", "reason": "签到表属实"}, {"decision": "reject", "reason": "签到表不清晰"}]

    def once(_):
        vid = _failed_verdict(app, aw)
        assert _appeal(inst, vid).says("已提交复审申请")
        with app.app_context():
            appeal_id = db.session.scalar(select(AuditAppeal.id))
            db.session.remove()
        rs = replies(race([lambda c=c, d=d: post(c, f"/audit-appeals/decide/{appeal_id}", d)
                           for c, d in zip((first, second), decisions)]))
        (won,), (lost,) = split(rs, lambda r: r.says("复审结论已保存"))
        w = rs.index(won)
        assert lost.says("已由他人先", names[w], "当前状态为"), lost.flashes
        with app.app_context():
            appeal = db.session.get(AuditAppeal, appeal_id)
            verdict = db.session.get(AuditVerdict, vid)
            logs = db.session.scalars(select(ReviewLog.user_name).where(
                ReviewLog.owner_type == "audit_appeal", ReviewLog.owner_id == appeal_id)).all()
            assert appeal.status == ("accepted", "rejected")[w] and logs == [names[w]]
            assert verdict.verdict == ("passed", "failed")[w]
            db.session.remove()

    repeat(TIMES, once)


def test_judging_waits_for_a_closing_cycle(app, world, aw, clients):
    """关闭 (an UPDATE of the cycle row, still uncommitted) against 标记为已审: the mark waits for the
    close and is then refused — never written into a closed cycle (it read "open" before: no lock)."""
    import threading
    import time

    from app.models.audit import AuditCycle

    (expert,) = clients("expert")
    out = {}
    with app.app_context():
        db.session.execute(update(AuditCycle).where(AuditCycle.id == aw.cycle).values(status="closed"))
        worker = threading.Thread(target=lambda: out.update(reply=post(
            expert, f"/audit-review/person/{world.pa}/mark?cycle={aw.cycle}", {"reviewed": "1"})))
        worker.start()
        time.sleep(1.5)  # the request reaches the cycle check while the close is still open
        db.session.commit()
        db.session.remove()
    worker.join(60)
    reply = out["reply"]
    no_server_error([reply])
    assert reply.says("已关闭"), reply.flashes
    assert _results(app, world.pa) == []


def test_two_verdicts_on_one_credit(app, world, aw, clients):
    """专家审核: the expert in two tabs passes and fails the same credit, both from version 0 (and then
    from the version both saw). One verdict stands; the other is told who decided what and when."""
    one, two = clients("expert", "expert")
    credits = [aw.c1, aw.c2, aw.c3, aw.c4, aw.c1]

    def once(i):
        cid = credits[i]
        with app.app_context():
            seen = db.session.scalar(select(AuditVerdict.version).where(AuditVerdict.credit_id == cid)) or 0
            db.session.remove()
        url = f"/audit-review/person/{world.pa}/verdict?cycle={aw.cycle}"
        base = {"only": str(cid), f"version_{cid}": str(seen)}
        decisions = [{**base, "decision": "passed"}, {**base, "decision": "failed", "reason": "无学分证书"}]
        rs = replies(race([lambda c=c, d=d: post(c, url, d) for c, d in zip((one, two), decisions)]))
        (won,), (lost,) = split(rs, lambda r: r.says("条学分审核为"))
        assert lost.says("审核冲突", "已被expert于", "审核为"), lost.flashes
        with app.app_context():
            v = db.session.scalar(select(AuditVerdict).where(AuditVerdict.credit_id == cid))
            assert v.verdict == ("passed", "failed")[rs.index(won)] and v.version == seen + 1
            db.session.remove()

    repeat(TIMES, once)
