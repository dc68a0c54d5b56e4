"""Audit-review test data: the two-district world, a 2025 cycle (window 2024-11-01 … 2025-10-31, the
seed-001 shape), credits, a final list and allocations to two experts.

* expert (user "expert"): 张三 (pa, 甲医院) and 王五 (pb, 乙医院)
* expert2 (user "expert2"): 李四 (pa2, 甲医院)
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select

from app.cli import add_user
from app.extensions import db
from app.models import CmeUser, Person
from app.models.audit import AuditAllocation, AuditExpert, AuditFinalPerson
from app.services import roles as RO
from tests.audit.audit_helpers import make_cycle
from tests.credit_helpers import credit
from tests.helpers import PASSWORD

D = datetime.date
# An instant inside the 2025 cycle's 审验时间 (2025-11-01 … 12-02), before its 复审 deadline (12-02 17:00).
IN_PERIOD = datetime.datetime(2025, 11, 20, 10, 0)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _final(cycle_id: int, person_id: int, expert_id: int) -> None:
    p = db.session.get(Person, person_id)
    fp = AuditFinalPerson(cycle_id=cycle_id, person_id=p.id, district_id=p.district_id,
                          institution_id=p.institution_id, department_id=p.department_id, level="三级")
    db.session.add(fp)
    db.session.flush()
    db.session.add(AuditAllocation(cycle_id=cycle_id, final_person_id=fp.id, person_id=p.id, expert_id=expert_id,
                                   district_id=p.district_id, institution_id=p.institution_id,
                                   department_id=p.department_id))


def audit_world(world, *, deadline: datetime.datetime | None = None, year: int = 2025,
                published: bool = True) -> SimpleNamespace:
    """Cycle, credits, final list and allocations on top of ``world`` (ids). Commits. ``published``: the
    results are already 通报 (units see them); tests/audit_review/test_windows.py takes False."""
    out = SimpleNamespace()
    cycle = make_cycle(year)
    if published:
        cycle.results_published_at = datetime.datetime(year, 11, 1)
    if deadline is not None:
        cycle.appeal_deadline = deadline
    out.cycle = cycle.id
    expert_user = db.session.scalar(select(CmeUser).where(CmeUser.username == "expert"))
    e1 = AuditExpert(user_id=expert_user.id, year=year, name="专家甲", status="active")
    u2 = add_user("expert2", RO.EXPERT, last_name="专家乙", first_name="", password=PASSWORD)
    e2 = AuditExpert(user_id=u2.id, year=year, name="专家乙", status="active")
    db.session.add_all([e1, e2])
    db.session.flush()
    out.expert_user, out.expert2_user = expert_user.id, u2.id
    # 张三: 37 credits in the window (10 + 8 + 12 + 7) and one outside it; without 12 he still has 25.
    out.c1 = credit(world.pa, 10, D(2025, 3, 1), content="心血管介入新进展", project_no="2025-01-01(01)",
                    subject="心血管病学", hours=Decimal(30), source="card", grantor_name="北京市继续医学教育委员会").id
    out.c2 = credit(world.pa, 8, D(2024, 12, 1), content="冠心病诊疗规范", category="市级继续医学教育项目",
                    source="qr").id
    out.c3 = credit(world.pa, 12, D(2025, 6, 1), content="急诊胸痛中心培训", project_no="2025-02-02(03)",
                    category="市级继续医学教育项目").id
    out.c4 = credit(world.pa, 7, D(2025, 9, 1), content="医学伦理讲座", category="市级继续医学教育项目").id
    out.outside = credit(world.pa, 20, D(2024, 10, 1), content="窗口外的学分").id
    out.pa2_credit = credit(world.pa2, 25, D(2025, 5, 1), content="李四的活动").id
    out.pb_credit = credit(world.pb, 25, D(2025, 5, 1), content="王五的活动").id
    for person_id in (world.pa, world.pb):
        _final(cycle.id, person_id, e1.id)
    _final(cycle.id, world.pa2, e2.id)
    cycle.allocation_locked = True
    db.session.commit()
    db.session.remove()
    return out
