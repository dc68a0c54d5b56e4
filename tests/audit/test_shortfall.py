"""The institution draw's shortfall warning names the district and the level (issue 16 item 5).

Seed 001 四(二)2(1): "各区分别抽取二级医疗卫生机构 1 家，一级医疗卫生机构 2 家，社会办医疗卫生机构 2 家。" — a
district with fewer institutions of a level than its quota gives all it has, and the page says which
district and level fell short.
"""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditDraw
from tests.audit.audit_helpers import make_cycle


def test_shortfall_warning_names_district_and_level(app, world, login):
    with app.app_context():
        cycle_id = make_cycle(2022).id
        db.session.commit()
    c = login("city")
    assert c.post(f"/auditcycle/draw/{cycle_id}", data={"seed": "2022"}).status_code == 302
    with app.app_context():
        draw = db.session.scalar(select(AuditDraw))
        short = {(s["district_name"], s["level"]): (s["quota"], s["available"]) for s in draw.params["shortfall"]}
        db.session.remove()
    # 东城区: one 一级 (丙社区卫生服务中心), no 二级, no 社会办医; 西城区: one 二级 (乙医院) only.
    assert short == {("东城区", "一级"): (2, 1), ("东城区", "二级"): (1, 0), ("东城区", "社会办医"): (2, 0),
                     ("西城区", "一级"): (2, 0), ("西城区", "社会办医"): (2, 0)}
    page = c.get(f"/auditcycle/institutions/{cycle_id}").get_data(as_text=True)
    assert "东城区的一级机构不足配额（配额2家，实有1家），已全部抽取" in page
    assert "西城区的社会办医机构不足配额（配额2家，实有0家），已全部抽取" in page
    assert "有区的" not in page
