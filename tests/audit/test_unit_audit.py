"""单位审验 (issue 16 item 1): the units' own audit before the city's sampling.

Seed 001 四(二)1: "（1）三级医疗卫生机构负责本单位人员的学分审验。（2）区卫健委负责辖区内除三级医疗卫生机构以外人员的学分
审验 … 护理专业人员按照属地化管理的原则，其学分审验由各区卫健委负责。"
Seed 001 五: "11 月 1 日—11 月 5 日：各区卫健委和三级医疗卫生机构学分审验" — the window; after it the screen is locked.
"""
from __future__ import annotations

import datetime
import io

import openpyxl
from sqlalchemy import func, select

from app.extensions import db
from app.models import Person
from app.models.audit_units import AuditUnitCheck
from tests.audit.audit_helpers import make_cycle

IN_WINDOW = datetime.datetime(2022, 11, 3, 10, 0)
BEFORE = datetime.datetime(2022, 10, 31, 9, 0)
AFTER = datetime.datetime(2022, 11, 6, 0, 0, 1)


def _cycle(app, world) -> int:
    """The 2022 cycle with the seed's unit-audit window; 李四 of 甲医院 (三级) is a nurse."""
    with app.app_context():
        cycle = make_cycle(2022, unit_audit_start=datetime.datetime(2022, 11, 1),
                           unit_audit_end=datetime.datetime(2022, 11, 5, 23, 59, 59))
        db.session.get(Person, world.pa2).specialty = "护理学"
        db.session.commit()
        return cycle.id


def _listed(page: str, *names: str) -> list[str]:
    return [n for n in names if n in page]


def _checks(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditUnitCheck).where(*where))


def test_tertiary_institutions_audit_their_staff_and_districts_the_rest(app, world, login, clock):
    """四(二)1 (1)(2): 甲医院 (三级) audits 张三 but not its nurse 李四; 东城区 audits 李四 (nurse) and 赵六 (一级);
    西城区 audits 王五 and 孙七 (二级)."""
    cycle_id = _cycle(app, world)
    clock.at(IN_WINDOW, tick=True)
    names = ("张三", "李四", "赵六", "王五", "孙七")
    page = login("inst_a").get(f"/audit-unit/?cycle={cycle_id}").get_data(as_text=True)
    assert _listed(page, *names) == ["张三"]
    page = login("district1").get(f"/audit-unit/?cycle={cycle_id}").get_data(as_text=True)
    assert _listed(page, *names) == ["李四", "赵六"]
    page = login("district2").get(f"/audit-unit/?cycle={cycle_id}").get_data(as_text=True)
    assert _listed(page, *names) == ["王五", "孙七"]


def test_verdicts_completion_and_the_lock_after_the_window(app, world, login, clock):
    """五 "11 月 1 日—11 月 5 日": refused before the window, taken inside it (completion figure), locked after."""
    cycle_id = _cycle(app, world)
    clock.at(BEFORE, tick=True)  # (the clock first: a session signed in "later" is not valid before)
    c = login("district1")
    r = c.post("/audit-unit/verdict", data={"cycle": cycle_id, "rowid": [world.pc], "decision": "passed"},
               follow_redirects=True)
    assert "单位自审尚未开始" in r.get_data(as_text=True)
    clock.at(IN_WINDOW, tick=True)
    c = login("district1")
    r = c.post("/audit-unit/verdict", data={"cycle": cycle_id, "rowid": [world.pc, world.pa2], "decision": "failed"},
               follow_redirects=True)
    assert "请填写不合格原因" in r.get_data(as_text=True)
    c.post("/audit-unit/verdict", data={"cycle": cycle_id, "rowid": [world.pc], "decision": "passed"})
    page = c.get(f"/audit-unit/?cycle={cycle_id}").get_data(as_text=True)
    assert 'id="unit-percent">50%' in page and "进行中" in page
    c.post("/audit-unit/verdict", data={"cycle": cycle_id, "rowid": [world.pa2], "decision": "failed",
                                        "reason": "缺少学分证明"})
    page = c.get(f"/audit-unit/?cycle={cycle_id}").get_data(as_text=True)
    assert 'id="unit-percent">100%' in page and "已完成" in page and "缺少学分证明" in page
    clock.at(AFTER, tick=True)
    c = login("district1")
    r = c.post("/audit-unit/verdict", data={"cycle": cycle_id, "rowid": [world.pc], "decision": "failed",
                                            "reason": "改判"}, follow_redirects=True)
    assert "单位自审已于2022-11-05 23:59结束并锁定" in r.get_data(as_text=True)
    with app.app_context():
        assert _checks(AuditUnitCheck.person_id == world.pc, AuditUnitCheck.verdict == "passed") == 1
    page = c.get(f"/audit-unit/?cycle={cycle_id}").get_data(as_text=True)
    assert "已结束（已锁定）" in page and "所选人员合格" not in page  # no buttons on a locked screen


def test_no_unit_judges_or_reads_another_units_persons(app, world, login, clock):
    """Guessed ids: 甲医院 may not judge 西城区's 王五 nor its own nurse; 乙医院 (二级) has no screen; the
    refusal is whole (nothing written)."""
    cycle_id = _cycle(app, world)
    clock.at(IN_WINDOW, tick=True)
    a = login("inst_a")
    for pid in (world.pb, world.pa2, world.pc):
        r = a.post("/audit-unit/verdict", data={"cycle": cycle_id, "rowid": [world.pa, pid], "decision": "passed"},
                   follow_redirects=True)
        assert "所选人员不在本单位的审验范围内" in r.get_data(as_text=True)
    r = login("district2").post("/audit-unit/verdict", data={"cycle": cycle_id, "only": world.pa, "decision": "passed"},
                                follow_redirects=True)
    assert "所选人员不在本单位的审验范围内" in r.get_data(as_text=True)
    with app.app_context():
        assert _checks() == 0
    b = login("inst_b")
    r = b.get(f"/audit-unit/?cycle={cycle_id}", follow_redirects=True)
    assert "本单位人员的学分审验由所在区卫健委负责" in r.get_data(as_text=True) and "王五" not in r.get_data(as_text=True)
    assert b.post("/audit-unit/verdict", data={"cycle": cycle_id, "only": world.pb, "decision": "passed"}).status_code == 404
    assert login("tech_a").get(f"/audit-unit/?cycle={cycle_id}").status_code in (302, 403)


def test_city_overview_and_export(app, world, login, clock):
    """The city sees every auditing unit's completion figure (and exports it); a district only its own."""
    cycle_id = _cycle(app, world)
    clock.at(IN_WINDOW, tick=True)
    login("inst_a").post("/audit-unit/verdict", data={"cycle": cycle_id, "only": world.pa, "decision": "passed"})
    city = login("city")
    page = city.get(f"/audit-unit/overview?cycle={cycle_id}").get_data(as_text=True)
    assert "甲医院" in page and "东城区" in page and "西城区" in page and "100%" in page
    r = city.get(f"/audit-unit/overview/export?cycle={cycle_id}")
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    rows = {row[1]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["甲医院"][3:8] == (1, 1, 1, 0, "100%")
    assert rows["东城区"][3:5] == (2, 0)  # 李四 (nurse) and 赵六
    page = login("district2").get(f"/audit-unit/overview?cycle={cycle_id}").get_data(as_text=True)
    assert "西城区" in page and "甲医院" not in page and "东城区" not in page
