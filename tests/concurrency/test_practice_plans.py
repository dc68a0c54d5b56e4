"""Races on a pending practice plan (教学活动计划, seed 003 计划审核): two reviewers of the district pass
and fail it at the same instant through the review page. One decides (workflow.PRACTICE_PLAN), the
other is told who did first; one review entry in the plan's 审核日志, the winner's status."""
import io

from sqlalchemy import func, select

from app.extensions import db
from app.models.practice import PracticePlan, PracticePlanLog
from app.services import roles as R
from tests.activities.helpers import PDF
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split

pytestmark = PG_ONLY
TIMES = 5


def _pending_plan(app, inst, i: int) -> int:
    data = {"name": f"2025年第{i + 1}季度计划", "plan_type": "季度计划", "activity_forms": ["手术示范"], "remark": "",
            "plan_file": (io.BytesIO(PDF), "计划.pdf")}
    assert inst.post("/practiceplan/add", data=data, content_type="multipart/form-data").status_code == 302
    with app.app_context():
        pid = db.session.scalar(select(func.max(PracticePlan.id)))
        db.session.remove()
        return pid


def test_pass_against_fail(app, world, add_user, clients):
    add_user("district1_2", R.DISTRICT_ADMIN, org_id=world.d1)
    inst, first, second = clients("inst_a", "district1", "district1_2")
    names = ["district1", "district1_2"]
    decisions = [{"result": "pass", "reason": ""}, {"result": "fail", "reason": "缺少月度安排"}]

    def once(i):
        pid = _pending_plan(app, inst, i)
        rs = replies(race([lambda c=c, d=d: post(c, f"/practiceplanreview/review/{pid}", d)
                           for c, d in zip((first, second), decisions)]))
        (won,), (lost,) = split(rs, lambda r: r.says("已审核"))
        w = rs.index(won)
        with app.app_context():
            plan = db.session.get(PracticePlan, pid)
            logs = [(x.action, x.operator) for x in db.session.scalars(select(PracticePlanLog).where(
                PracticePlanLog.plan_id == pid, PracticePlanLog.action != "提交"))]
            assert plan.status == ("approved", "rejected")[w]
            assert logs == [(("通过", "不通过")[w], names[w])]
            db.session.remove()
        assert lost.says("已由他人先", names[w], "当前状态为"), lost.flashes

    repeat(TIMES, once)
