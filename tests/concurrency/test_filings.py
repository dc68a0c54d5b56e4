"""Races on a pending project filing (项目报备, 督查): two reviewers of the district pass, fail or
return it at the same instant. One decides; the other is told who did first; one review entry in
the filing's log, the winner's status, the half-day periods (督查时段) made once by a pass."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.supervision import Filing, FilingLog, Period
from app.services import roles as R
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split
from tests.supervision.helpers import add_filing

pytestmark = PG_ONLY
TIMES = 5
PASS = ("/filingreview/review/{}", {"result": "pass"}, "已审核：通过", "approved", "通过")
FAIL = ("/filingreview/review/{}", {"result": "fail", "reason": "批准文号缺失"}, "已审核：不通过", "rejected", "不通过")
RETURN = ("/filingreview/return/{}", {"reason": "会场信息有误"}, "已退回", "returned", "退回")


@pytest.mark.parametrize("actions", [(PASS, FAIL), (PASS, PASS), (PASS, RETURN)], ids=["pass-fail", "pass-pass",
                                                                                      "pass-return"])
def test_two_reviewers_of_one_filing(app, world, add_user, clients, actions):
    add_user("district1_2", R.DISTRICT_ADMIN, org_id=world.d1)
    players = clients("district1", "district1_2")
    names = ["district1", "district1_2"]

    def once(i):
        with app.app_context():
            fid = add_filing(world.a, project_no=f"2025-14-03-{i:03d}", status="pending").id
            db.session.commit()
            db.session.remove()
        rs = replies(race([lambda c=c, a=a: post(c, a[0].format(fid), a[1]) for c, a in zip(players, actions)]))
        (won,), (lost,) = split(rs, lambda r: r.says(actions[rs.index(r)][2]))
        w = rs.index(won)
        assert lost.says("已由他人先", "当前状态", names[w]), lost.flashes
        with app.app_context():
            filing = db.session.get(Filing, fid)
            logs = [(x.action, x.operator) for x in db.session.scalars(select(FilingLog).where(
                FilingLog.filing_id == fid))]
            periods = db.session.scalar(select(func.count(Period.id)).where(Period.filing_id == fid))
            assert filing.status == actions[w][3]
            assert logs == [(actions[w][4], names[w])]
            assert (periods > 0) == (actions[w][3] == "approved")
            db.session.remove()

    repeat(TIMES, once)


def test_two_units_file_one_project_number(app, world, clients):
    """报备 of the same 项目编号 by two institutions at the same instant (项目编号 never filed twice): one
    filing; the other sees the form again with the number refused (was a unique-key 500)."""
    from tests.supervision.helpers import PHONE

    players = clients("inst_a", "inst_b")

    def once(i):
        data = {"year": "2025", "project_no": f"2025-04-04-{i + 11:03d}", "name": "脊髓背柱应用研究与手术技术培训",
                "project_type": "国家级", "organizer": "首都医科大学", "province": "北京市", "city": "北京市",
                "county": "海淀区", "starts_at": "2025-04-12T08:00", "ends_at": "2025-04-18T17:30", "sessions": "1",
                "approver": "王审批", "approval_method": "备案", "approval_no": "京继2025-1",
                "venue_name": ["第一会场"], "venue_address": ["北京市海淀区西四环北路50号"],
                "venue_organizer": ["三博脑科医院"], "venue_person": ["刘会务"], "venue_phone": [PHONE],
                "venue_date": ["2025-04-12"]}
        rs = replies(race([lambda c=c: post(c, "/filing/add", data) for c in players]))
        (_won,), (lost,) = split(rs, lambda r: r.status == 302)
        assert lost.says("不能重复报备"), (lost.status, lost.text[:300])
        with app.app_context():
            assert db.session.scalar(select(func.count(Filing.id)).where(Filing.project_no == data["project_no"])) == 1
            db.session.remove()

    repeat(TIMES, once)
