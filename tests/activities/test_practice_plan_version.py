"""A practice plan edited by its institution while a reviewer has it open (issue 13): the review page
posts the plan's version it showed; a pass / fail of an older version is refused with a Chinese
message naming who changed it, and nothing is decided. Seed 003 计划审核: the supervisor passes or
fails the plan as submitted ("主管部门 … 进行“通过/不通过”的审核操作")."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models.practice import PracticePlan, PracticePlanLog
from tests.activities.helpers import PDF


def _upload(client, name="2025年第三季度计划", url="/practiceplan/add", file=True):
    data = {"name": name, "plan_type": "季度计划", "activity_forms": ["手术示范"], "remark": ""}
    if file:
        data["plan_file"] = (io.BytesIO(PDF), "计划.pdf")
    return client.post(url, data=data, content_type="multipart/form-data")


def _shown_version(client, pid: int) -> str:
    page = client.get(f"/practiceplanreview/show/{pid}").get_data(as_text=True)
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def _decisions(app, pid: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(PracticePlanLog.action).where(
            PracticePlanLog.plan_id == pid, PracticePlanLog.action.in_(("通过", "不通过")))))


def test_a_pass_of_a_version_edited_since_is_refused(app, world, login):
    inst, district = login("inst_a"), login("district1")
    assert _upload(inst).status_code == 302
    with app.app_context():
        pid = db.session.scalar(select(func.max(PracticePlan.id)))
    seen = _shown_version(district, pid)
    # The institution edits the plan after the reviewer opened it.
    assert _upload(inst, "2025年第三季度计划（改）", f"/practiceplan/edit/{pid}", file=False).status_code == 302
    r = district.post(f"/practiceplanreview/review/{pid}", data={"result": "pass", "reason": "", "version": seen},
                      follow_redirects=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "在您打开后已被" in page and "您的审核未生效" in page and "inst_a" in page
    with app.app_context():
        plan = db.session.get(PracticePlan, pid)
        assert (plan.status, plan.reviewed_at) == ("pending", None)
    assert _decisions(app, pid) == []
    # Reopened, the reviewer sees the edit and decides on it.
    fresh = _shown_version(district, pid)
    assert fresh != seen
    r = district.post(f"/practiceplanreview/review/{pid}", data={"result": "fail", "reason": "缺少安排",
                                                                 "version": fresh})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(PracticePlan, pid).status == "rejected"
    assert _decisions(app, pid) == ["不通过"]


def test_an_unchanged_plan_passes_and_an_edit_after_the_decision_is_refused(app, world, login):
    inst, district = login("inst_a"), login("district1")
    assert _upload(inst).status_code == 302
    with app.app_context():
        pid = db.session.scalar(select(func.max(PracticePlan.id)))
    seen = _shown_version(district, pid)
    # The plan file goes through the one download helper (views/files.send_attachment).
    f = district.get(f"/practiceplanreview/file/{pid}")
    assert f.status_code == 200 and f.headers["X-Content-Type-Options"] == "nosniff"
    assert f.headers["Cache-Control"] == "private, no-store"
    assert district.post(f"/practiceplanreview/review/{pid}",
                         data={"result": "pass", "reason": "", "version": seen}).status_code == 302
    assert _decisions(app, pid) == ["通过"]
    _upload(inst, "改名", f"/practiceplan/edit/{pid}", file=False)
    with app.app_context():
        plan = db.session.get(PracticePlan, pid)
        assert (plan.status, plan.name) == ("approved", "2025年第三季度计划")
