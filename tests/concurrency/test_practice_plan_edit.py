"""Race: the institution saves an edit of its pending practice plan (教学活动计划) at the instant a
district reviewer passes the version the review page showed (issue 13). Either the pass wins and the
edit is refused (the plan is decided), or the edit wins and the pass is refused because the plan
changed since it was shown — never a pass of content the reviewer did not see."""
import io
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models.practice import PracticePlan, PracticePlanLog
from tests.activities.helpers import PDF
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split

pytestmark = PG_ONLY
TIMES = 5


def _pending_plan(app, inst, i: int) -> int:
    data = {"name": f"2025年第{i + 1}季度计划", "plan_type": "季度计划", "activity_forms": ["手术示范"],
            "remark": "", "plan_file": (io.BytesIO(PDF), "计划.pdf")}
    r = inst.post("/practiceplan/add", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    inst.get(r.headers["Location"])  # shows (and so consumes) the add's flash: the race reads only its own
    with app.app_context():
        pid = db.session.scalar(select(func.max(PracticePlan.id)))
        db.session.remove()
        return pid


def test_edit_against_pass(app, world, clients):
    inst, district = clients("inst_a", "district1")

    def once(i):
        pid = _pending_plan(app, inst, i)
        page = district.get(f"/practiceplanreview/show/{pid}").get_data(as_text=True)
        seen = re.search(r'name="version" value="(\d+)"', page).group(1)
        edit = {"name": f"修订{i}", "plan_type": "季度计划", "activity_forms": ["手术示范"], "remark": ""}
        rs = replies(race([
            lambda: post(inst, f"/practiceplan/edit/{pid}", edit, content_type="multipart/form-data"),
            lambda: post(district, f"/practiceplanreview/review/{pid}",
                         {"result": "pass", "reason": "", "version": seen}),
        ]))
        (won,), (lost,) = split(rs, lambda r: [c for c, _ in r.flashes] == ["success"])
        with app.app_context():
            plan = db.session.get(PracticePlan, pid)
            actions = [x.action for x in db.session.scalars(select(PracticePlanLog).where(
                PracticePlanLog.plan_id == pid).order_by(PracticePlanLog.id))]
            if rs.index(won) == 0:  # the edit won: not passed, the reviewer told it changed
                assert (plan.status, plan.name) == ("pending", f"修订{i}")
                assert actions == ["提交", "重新提交"]
                assert lost.says("在您打开后已被", "您的审核未生效"), lost.flashes
            else:  # the pass won: the edit is refused, the plan passed as shown
                assert (plan.status, plan.name) == ("approved", f"2025年第{i + 1}季度计划")
                assert actions == ["提交", "通过"]
                assert lost.says("已通过审核") or lost.says("已由他人先"), (lost.flashes, lost.body[:300])
            db.session.remove()

    repeat(TIMES, once)
