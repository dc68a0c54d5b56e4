"""Audit test data: a demo city (app/demo/city.py), cycles of seed 001, standards, experts."""
from __future__ import annotations

import datetime

from app.demo import city as demo
from app.extensions import db
from app.models.audit import DEFAULT_QUOTAS, AuditCycle, AuditStandard

# Seed 001 三、审验内容: "2021 年 11 月 1 日至 2022 年 10 月 31 日期间卫生技术人员获取的继续医学教育学分。"
# 五、"2022 年 11 月 1 日—12 月 2 日为学分审验时间"; 六、"应在12月2日17时前申请复审".
SEED_WINDOW_2022 = (datetime.date(2021, 11, 1), datetime.date(2022, 10, 31))


def make_cycle(year: int = 2022, status: str = "open", **kw) -> AuditCycle:
    start = datetime.date(year - 1, 11, 1)
    end = datetime.date(year, 10, 31)
    cycle = AuditCycle(name=kw.pop("name", f"{year}学分审验"), year=year, window_start=start, window_end=end,
                       audit_start=datetime.datetime(year, 11, 1), audit_end=datetime.datetime(year, 12, 2, 23, 59, 59),
                       appeal_deadline=datetime.datetime(year, 12, 2, 17, 0), status=status,
                       quotas=kw.pop("quotas", dict(DEFAULT_QUOTAS)), **kw)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def make_standard(cycle: AuditCycle, **kw) -> AuditStandard:
    values = {"name": "测试名单", "year": cycle.year, "unit_levels": [], "titles": [], "specialties": [],
              "audit_scope": "综合", "institution_ids": [], "allow_repeat": True, "per_department": 2, "status": "active"}
    values.update(kw)
    standard = AuditStandard(cycle_id=cycle.id, **values)
    db.session.add(standard)
    db.session.flush()
    return standard


def demo_city(institutions: int = 250, persons: int = 3000) -> dict:
    """Beijing-like demo: 16 districts; 250 institutions give every district at least the seed-001 quota
    of each level (三级 ≥ 1, 二级 ≥ 1, 一级 ≥ 2, 社会办医 ≥ 2)."""
    orgs = demo.build_orgs(db.session, institutions=institutions)
    db.session.flush()
    demo.build_persons(db.session, orgs["departments"], persons)
    db.session.commit()
    return orgs
