"""Credits for the test world (issue 3 credit records): a 2025 credit year for every person.

Beijing 2025 judges the credit year 2024-11-01 … 2025-10-31 (seed 001 window). 张三 (pa, 甲医院) has
counted, capped, rejected and out-of-window credits; 王五 (pb, 乙医院) has one the other side must never see.
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from app.extensions import db
from app.models import Credit, Person

D = datetime.date
B_ONLY = "乙医院专属活动"


def credit(person_id: int, credits, on: datetime.date, *, category: str = "国家级继续医学教育项目",
           content: str | None = None, status: str = "unit_approved", source: str = "unit",
           activity_type: str = "继续医学教育项目", uploaded_at: datetime.datetime | None = None, **kw) -> Credit:
    p = db.session.get(Person, person_id)
    c = Credit(person_id=p.id, district_id=p.district_id, institution_id=p.institution_id,
               department_id=p.department_id, activity_type=activity_type, content=content or f"{category}{credits}",
               granted_on=on, category=category, credits=Decimal(str(credits)), status=status, source=source,
               uploaded_at=uploaded_at or datetime.datetime.combine(on, datetime.time(14, 40, 58)), **kw)
    db.session.add(c)
    db.session.flush()
    return c


def seed_credits(world) -> SimpleNamespace:
    """Credits of every world person; returns their ids by name. Commits (the hook stores results)."""
    ids = SimpleNamespace()
    ids.national = credit(world.pa, 10, D(2025, 3, 1), content="心血管介入新进展", project_no="2025-01-01(01)",
                          subject="心血管病学", hours=Decimal(30), source="card",
                          grantor_name="北京市继续医学教育委员会", remark="第1期").id
    ids.self1 = credit(world.pa, 8, D(2024, 12, 1), category="有计划的自学", content="自学一", source="self_study",
                       activity_type="有计划的自学").id
    ids.self2 = credit(world.pa, 6, D(2025, 1, 5), category="有计划的自学", content="自学二", source="self_study",
                       activity_type="有计划的自学").id
    ids.rejected = credit(world.pa, 3, D(2025, 4, 1), category="市级继续医学教育项目", content="被驳回的活动",
                          status="rejected", source="manual").id
    ids.late = credit(world.pa, 4, D(2024, 10, 20), content="补传的旧学分",
                      uploaded_at=datetime.datetime(2024, 11, 3, 10)).id
    ids.pa2 = credit(world.pa2, 25, D(2025, 5, 1), category="市级继续医学教育项目", content="李四的活动", source="qr").id
    ids.pc = credit(world.pc, 5, D(2025, 2, 1), content="赵六的活动").id
    ids.pb = credit(world.pb, 25, D(2025, 5, 1), content=B_ONLY, project_no="B-2025-9", source="card").id
    ids.pb2 = credit(world.pb2, 2, D(2025, 6, 1), content="孙七的活动").id
    db.session.commit()
    db.session.remove()
    return ids
