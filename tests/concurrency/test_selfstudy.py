"""Races on a submitted self-study form (有计划的自学, seed 003): the institution and the district
grant (授分) or return (退回) it at the same instant. One decides; the other is told who did first;
one credit at most, one log row, the winner's status."""
from sqlalchemy import select

from app.extensions import db
from app.models import Credit, ReviewLog, SelfStudy
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split

pytestmark = PG_ONLY
TIMES = 5
GRANT = ("grant", {"credits": "5"}, "已授予", "granted")
RETURN = ("return", {"reason": "证明材料不全"}, "已退回", "returned")


def _submitted(app, inst, person_id: int, year: int) -> int:
    r = inst.post(f"/selfstudy/form/{person_id}?year={year}", data={"s1_graduate": "3", "submit": "1"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    with app.app_context():
        ss_id = db.session.scalar(select(SelfStudy.id).where(SelfStudy.person_id == person_id, SelfStudy.year == year))
        db.session.remove()
        return ss_id


def _race(app, world, inst, players, actions, names):
    def once(i):
        ss_id = _submitted(app, inst, world.pa, 2026 - i)
        rs = replies(race([lambda c=c, a=a: post(c, f"/selfstudy/{ss_id}/{a[0]}", a[1])
                           for c, a in zip(players, actions)]))
        (won,), (lost,) = split(rs, lambda r: r.says(actions[rs.index(r)][2]))
        w = rs.index(won)
        with app.app_context():
            ss = db.session.get(SelfStudy, ss_id)
            logs = [(x.action, x.user_name) for x in db.session.scalars(select(ReviewLog).where(
                ReviewLog.owner_type == "self_study", ReviewLog.owner_id == ss_id,
                ReviewLog.action.in_(("grant", "return"))))]
            credits = db.session.scalars(select(Credit.id).where(Credit.source == "self_study",
                                                                 Credit.person_id == world.pa)).all()
            assert ss.status == actions[w][3]
            assert logs == [(actions[w][0], names[w])]
            granted = db.session.scalars(select(SelfStudy.credit_id).where(
                SelfStudy.person_id == world.pa, SelfStudy.credit_id.is_not(None))).all()
            assert sorted(credits) == sorted(granted)  # one credit per granted form, none more
            db.session.remove()
        assert lost.says("已由他人先", names[w], "当前状态为"), lost.flashes

    repeat(TIMES, once)


def test_grant_against_grant(app, world, clients):
    inst, district = clients("inst_a", "district1")
    _race(app, world, inst, [inst, district], [GRANT, GRANT], ["inst_a", "district1"])


def test_grant_against_return(app, world, clients):
    inst, district = clients("inst_a", "district1")
    _race(app, world, inst, [inst, district], [GRANT, RETURN], ["inst_a", "district1"])
