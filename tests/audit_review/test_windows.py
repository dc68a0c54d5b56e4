"""Cycle windows (issue 16 item 4): the audit period is enforced, and the city announces (通报) the results.

Seed 001 五、审验时间: "2022 年 11 月 1 日—12 月 2 日为学分审验时间" — verdicts, 标记为已审 and 达标计算 only
inside the cycle's 审验时间 (audit_start … audit_end); refused in Chinese after it (and before it).
Seed 001 六、审验结果反馈: "学分审验结果将于2023年4月上旬前通报" — units and districts see the results only
after the city has published them.
"""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditCycle
from app.models.audit_review import AuditResult, AuditVerdict
from tests.audit_review.helpers import IN_PERIOD, audit_world

# The 2025 cycle's 审验时间 is 2025-11-01 00:00 … 2025-12-02 23:59:59 (tests/audit/audit_helpers.make_cycle).
AFTER = datetime.datetime(2025, 12, 3, 0, 0, 1)


def _count(app, model) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return n


def test_verdicts_mark_and_compute_after_the_audit_period_are_refused(app, world, login, clock):
    with app.app_context():
        aw = audit_world(world, published=False)
    clock.at(AFTER)
    expert = login("expert")
    base = f"/audit-review/person/{world.pa}"
    r = expert.post(f"{base}/verdict?cycle={aw.cycle}", data={"decision": "passed", "only": str(aw.c1),
                                                              f"version_{aw.c1}": "0"}, follow_redirects=True)
    assert "本次审验已于2025-12-02 23:59结束，不能再审核或计算" in r.get_data(as_text=True)
    r = expert.post(f"{base}/mark?cycle={aw.cycle}", data={"reviewed": "1"}, follow_redirects=True)
    assert "本次审验已于2025-12-02 23:59结束" in r.get_data(as_text=True)
    r = expert.post(f"{base}/compute?cycle={aw.cycle}", follow_redirects=True)
    assert "本次审验已于2025-12-02 23:59结束" in r.get_data(as_text=True)
    # the JSON API of the workspace is refused the same way
    r = expert.post(f"/api/v1/audit_review/{aw.cycle}/person/{world.pa}/verdict",
                    json={"verdict": "passed", "credits": [{"id": aw.c1, "version": 0}]})
    assert r.status_code >= 400 and "本次审验已于2025-12-02 23:59结束" in r.get_json()["message"]
    assert _count(app, AuditVerdict) == 0 and _count(app, AuditResult) == 0
    # the city office is held to the period too (the period is the cycle's, not the expert's)
    r = login("city").post(f"{base}/verdict?cycle={aw.cycle}", data={"decision": "passed", "only": str(aw.c1),
                                                                     f"version_{aw.c1}": "0"}, follow_redirects=True)
    assert "不能再审核" in r.get_data(as_text=True) and _count(app, AuditVerdict) == 0
    # the last second of the period is still inside it
    clock.at(datetime.datetime(2025, 12, 2, 23, 59, 59))
    login("expert").post(f"{base}/verdict?cycle={aw.cycle}", data={"decision": "passed", "only": str(aw.c1),
                                                          f"version_{aw.c1}": "0"})
    assert _count(app, AuditVerdict) == 1


def test_verdicts_before_the_audit_period_are_refused_in_the_service(app, world):
    from app.services import audit_review as R

    with app.app_context():
        aw = audit_world(world, published=False)
        cycle = db.session.get(AuditCycle, aw.cycle)
        expert = R.Auditor(aw.expert_user, "expert")
        with pytest.raises(R.ReviewError, match="本次审验尚未开始（审验时间自2025-11-01 00:00起）"):
            R.set_verdicts(db.session, expert, cycle, world.pa, {aw.c1: 0}, "passed",
                           now=datetime.datetime(2025, 10, 31, 23, 59))
        db.session.rollback()
        with pytest.raises(R.ReviewError, match="结束"):
            R.compute(db.session, expert, cycle, world.pa, now=AFTER)
        db.session.rollback()
        assert R.set_verdicts(db.session, expert, cycle, world.pa, {aw.c1: 0}, "passed", now=IN_PERIOD) == 1
        db.session.commit()
        db.session.remove()


def test_results_are_seen_by_units_only_after_the_city_announces_them(app, world, login, clock):
    with app.app_context():
        aw = audit_world(world, published=False)
    expert = login("expert")
    expert.post(f"/audit-review/person/{world.pb}/verdict?cycle={aw.cycle}",
                data={"decision": "failed", "only": str(aw.pb_credit), f"version_{aw.pb_credit}": "0", "reason": "缺"})
    expert.post(f"/audit-review/person/{world.pb}/compute?cycle={aw.cycle}")
    # before 通报: the city and the expert see the result; the unit and the district do not
    assert "王五" in login("city").get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    assert "王五" in expert.get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    unit, district = login("inst_b"), login("district2")
    for c in (unit, district):
        page = c.get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
        assert "本次审验结果尚未通报" in page and "王五" not in page and "btn-publish" not in page
        assert c.get(f"/audit-results/person/{world.pb}?cycle={aw.cycle}").status_code == 404
        assert c.get(f"/audit-results/certificate/{world.pb}?cycle={aw.cycle}").status_code == 404
        assert c.get(f"/audit-results/export?cycle={aw.cycle}").status_code == 404
    # the city cannot announce while the audit period runs, a unit never
    city = login("city")
    assert "btn-publish" in city.get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
    r = city.post(f"/audit-results/publish?cycle={aw.cycle}", follow_redirects=True)
    assert "审验时间至2025-12-02 23:59结束，结束后才能通报结果" in r.get_data(as_text=True)
    clock.at(datetime.datetime(2026, 4, 3, 9, 0))  # "将于2023年4月上旬前通报" — a year on
    city, unit, district = login("city"), login("inst_b"), login("district2")  # the old sessions timed out
    unit.post(f"/audit-results/publish?cycle={aw.cycle}")
    with app.app_context():
        assert db.session.get(AuditCycle, aw.cycle).results_published_at is None
        db.session.remove()
    r = city.post(f"/audit-results/publish?cycle={aw.cycle}", follow_redirects=True)
    assert "审验结果已通报" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(AuditCycle, aw.cycle).results_published_at == datetime.datetime(2026, 4, 3, 9, 0)
        db.session.remove()
    # after 通报 the unit and the district see it; a second 通报 is refused
    for c in (unit, district):
        page = c.get(f"/audit-results/?cycle={aw.cycle}").get_data(as_text=True)
        assert "王五" in page and "本次审验结果尚未通报" not in page and "审验结果已于2026-04-03 09:00通报" in page
        assert c.get(f"/audit-results/person/{world.pb}?cycle={aw.cycle}").status_code == 200
    r = city.post(f"/audit-results/publish?cycle={aw.cycle}", follow_redirects=True)
    assert "本次审验结果已通报" in r.get_data(as_text=True)
