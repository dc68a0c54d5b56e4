"""Cycles (AUD-1), experts (AUD-2) and allocation (AUD-5) services."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.cli import add_user
from app.extensions import db
from app.models import CmeUser
from app.models.audit import AuditAllocation, AuditExpert, AuditFinalPerson
from app.services import audit as A
from app.services import audit_sampling as S
from app.services import roles as R
from app.services.scope import Scope
from tests.audit.audit_helpers import (
    SEED_WINDOW_2022,
    demo_city,
    make_cycle,
    make_standard,
)


def _final_list(persons: int = 1500):
    demo_city(institutions=64, persons=persons)
    user = add_user("audit_city", R.CITY_ADMIN, last_name="市继教办", first_name="")
    cycle = make_cycle(2022)
    d = S.create_draw(db.session, cycle, user.id, kind="institution", seed=1)
    S.run_draw(db.session, d)
    std = make_standard(cycle, per_department=2)
    d = S.create_draw(db.session, cycle, user.id, kind="person", standard=std, seed=2)
    S.run_draw(db.session, d)
    S.merge_into_final(db.session, Scope("all"), cycle, [std.id], user.id)
    db.session.commit()
    return cycle, user


def test_cycle_window_is_the_seed_window_and_only_one_open_per_year(app_ctx):
    # Seed 001 三、"2021 年 11 月 1 日至 2022 年 10 月 31 日期间卫生技术人员获取的继续医学教育学分。"
    cycle = make_cycle(2022)
    assert A.credit_window(cycle) == SEED_WINDOW_2022
    from app.models import Credit
    crit = A.credit_in_window_criterion(cycle, Credit.granted_on)
    assert "granted_on" in str(crit)
    A.validate_cycle(db.session, cycle)  # itself does not count
    from app.models.audit import AuditCycle
    other = AuditCycle(name="2022重复", year=2022, window_start=cycle.window_start, window_end=cycle.window_end,
                       audit_start=cycle.audit_start, audit_end=cycle.audit_end, status="open",
                       quotas=dict(cycle.quotas))
    with pytest.raises(A.AuditAdminError, match="已有开启的审验"):
        A.validate_cycle(db.session, other)
    other.status = "closed"
    A.validate_cycle(db.session, other)
    db.session.add(other)
    db.session.commit()
    other.status = "open"  # the database refuses it as well (partial unique index)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    bad = AuditCycle(name="x", year=2023, window_start=datetime.date(2023, 1, 2), window_end=datetime.date(2023, 1, 1),
                     audit_start=cycle.audit_start, audit_end=cycle.audit_end, status="closed", quotas={"三级": "all"})
    with pytest.raises(A.AuditAdminError, match="开始日期不能晚于"):
        A.validate_cycle(db.session, bad)


def test_expert_create_reset_disable_delete(app_ctx):
    expert, password = A.create_expert(db.session, username="wangling", name="王玲", year=2024,
                                       contact="13800000000", unit="测试工作单位")
    db.session.commit()
    assert password and len(password) >= 8
    user = db.session.get(CmeUser, expert.user_id)
    assert [r.name for r in user.roles] == [R.EXPERT] and user.active
    from werkzeug.security import check_password_hash
    assert check_password_hash(user.password, password)
    new = A.reset_expert_password(db.session, expert)
    db.session.commit()
    assert new != password and check_password_hash(user.password, new)
    # The same login may be an expert of another year; not twice in the same year.
    again, generated = A.create_expert(db.session, username="wangling", name="王玲", year=2025)
    assert generated is None and again.user_id == user.id
    with pytest.raises(A.AuditAdminError, match="已是2024年度"):
        A.create_expert(db.session, username="wangling", name="王玲", year=2024)
    A.set_expert_status(db.session, expert, "disabled")
    assert user.active  # still active for 2025
    A.set_expert_status(db.session, again, "disabled")
    assert not user.active
    A.delete_expert(db.session, again)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AuditExpert)) == 1


def test_allocation_counters_clear_and_lock(app_ctx):
    cycle, admin = _final_list()
    e1, _ = A.create_expert(db.session, username="fff", name="FFF", year=2022, unit="测试工作单位")
    e2, _ = A.create_expert(db.session, username="ggg", name="GGG", year=2022)
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(AuditFinalPerson).where(AuditFinalPerson.cycle_id == cycle.id))
    tree = A.unallocated_tree(db.session, cycle)
    assert sum(u["count"] for u in tree) == total
    c = A.allocation_counters(db.session, cycle)
    assert c == {"allocated_units": 0, "unallocated_units": len(tree), "allocated_persons": 0,
                 "unallocated_persons": total, "allocated_experts": 0, "unallocated_experts": 2}
    unit = tree[0]
    n1 = A.allocate(db.session, cycle, e1.id, units=[unit["id"]], operator_id=admin.id)
    dept = tree[1]["departments"][0]
    n2 = A.allocate(db.session, cycle, e2.id, departments=[(tree[1]["id"], dept["id"])], operator_id=admin.id)
    db.session.commit()
    assert (n1, n2) == (unit["count"], dept["count"])
    # Allocating the same unit again gives nobody twice.
    assert A.allocate(db.session, cycle, e2.id, units=[unit["id"]]) == 0
    c = A.allocation_counters(db.session, cycle)
    assert c["allocated_persons"] == n1 + n2 and c["unallocated_persons"] == total - n1 - n2
    assert c["allocated_experts"] == 2 and c["unallocated_experts"] == 0 and c["allocated_units"] == 2
    rows = {r["expert"].id: r for r in A.expert_rows(db.session, cycle)}
    assert rows[e1.id]["count"] == n1 and unit["name"] in rows[e1.id]["units"]
    # The expert's data scope: exactly the persons allocated to them.
    mine = A.allocated_person_ids(db.session, e1.user_id)
    assert len(mine) == n1
    assert not A.expert_may_see_person(db.session, e1.user_id, next(iter(A.allocated_person_ids(db.session, e2.user_id))))
    with pytest.raises(A.AuditAdminError, match="不能删除"):
        A.delete_expert(db.session, e1)
    assert A.clear_allocation(db.session, cycle, e2.id) == n2
    db.session.commit()
    A.lock_allocation(db.session, cycle, admin.id)
    db.session.commit()
    # After the lock nobody changes allocations or the lists behind them.
    with pytest.raises(A.AuditAdminError, match="已锁定"):
        A.allocate(db.session, cycle, e2.id, units=[tree[2]["id"]])
    with pytest.raises(A.AuditAdminError, match="已锁定"):
        A.clear_allocation(db.session, cycle, e1.id)
    with pytest.raises(A.AuditAdminError, match="已锁定"):
        A.lock_allocation(db.session, cycle, admin.id)
    with pytest.raises(S.AuditError, match="已锁定"):
        S.merge_into_final(db.session, Scope("all"), cycle, [1], admin.id)
    row = db.session.scalar(select(AuditFinalPerson).where(AuditFinalPerson.cycle_id == cycle.id).limit(1))
    with pytest.raises(S.AuditError, match="已锁定"):
        S.remove_final_person(db.session, Scope("all"), row)
    assert db.session.scalar(select(func.count()).select_from(AuditAllocation)) == n1
