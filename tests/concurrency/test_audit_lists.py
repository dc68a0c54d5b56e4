"""Races on the audit lists and the expert allocation (审验: 最终抽取名单, 专家分配, 锁定分配结果): two
city users merge the same drawn list at once (was a unique-key 500); lock against lock; lock
against an allocation. No 500, each person once on the final list, one lock with the loser told who
locked it, and never an allocation made behind a locked allocation."""

from sqlalchemy import select

from app.extensions import db
from app.models import CmeUser, Person
from app.models.audit import (
    AuditAllocation,
    AuditCycle,
    AuditDrawnPerson,
    AuditExpert,
    AuditFinalPerson,
)
from app.services import audit as A
from app.services import audit_sampling as S
from app.services import roles as R
from app.services.scope import Scope
from tests.audit.audit_helpers import make_cycle, make_standard
from tests.concurrency.harness import (
    PG_ONLY,
    no_server_error,
    post,
    race,
    repeat,
    replies,
    split,
)

pytestmark = PG_ONLY
TIMES = 5


def _cycle(app, world, year: int, *, merged: bool = False, allocated: bool = False) -> dict:
    """A cycle of ``year`` whose drawn list holds the world's five persons; optionally merged into the
    final list, and 张三 allocated to the expert (a lock needs one allocation)."""
    with app.app_context():
        city = db.session.scalar(select(CmeUser).where(CmeUser.username == "city"))
        cycle = make_cycle(year)
        std = make_standard(cycle)
        draw = S.create_draw(db.session, cycle, city.id, kind="person", standard=std, seed=1)
        for pid in (world.pa, world.pa2, world.pc, world.pb, world.pb2):
            p = db.session.get(Person, pid)
            db.session.add(AuditDrawnPerson(cycle_id=cycle.id, draw_id=draw.id, standard_id=std.id, person_id=p.id,
                                            district_id=p.district_id, institution_id=p.institution_id,
                                            department_id=p.department_id, level="三级"))
        expert = AuditExpert(user_id=db.session.scalar(select(CmeUser.id).where(CmeUser.username == "expert")),
                             year=year, name="专家甲", status="active")
        db.session.add(expert)
        db.session.flush()
        if merged:
            S.merge_into_final(db.session, Scope("all"), cycle, [std.id], city.id)
        if allocated:
            A.allocate(db.session, cycle, expert.id, units=[world.a], operator_id=city.id)
        out = {"cycle": cycle.id, "standard": std.id, "expert": expert.id}
        db.session.commit()
        db.session.remove()
        return out


def test_two_merges_of_one_list(app, world, add_user, clients):
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")

    def once(i):
        ids = _cycle(app, world, 2040 + i)
        rs = replies(race([lambda c=c: post(c, f"/auditlist/final/{ids['cycle']}/merge",
                                            {"standard": [ids["standard"]]}) for c in players]))
        no_server_error(rs)
        assert all(r.says("已合并") for r in rs), [r.flashes for r in rs]  # the second adds nobody
        assert sorted(r.flashes[0][1] for r in rs) == ["已合并，新增0人（重复人员只保留一次）",
                                                      "已合并，新增5人（重复人员只保留一次）"]
        with app.app_context():
            persons = db.session.scalars(select(AuditFinalPerson.person_id).where(
                AuditFinalPerson.cycle_id == ids["cycle"])).all()
            assert sorted(persons) == sorted([world.pa, world.pa2, world.pc, world.pb, world.pb2])
            db.session.remove()

    repeat(TIMES, once)


def test_lock_against_lock(app, world, add_user, clients):
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players, names = clients("city", "city_2"), ["city", "city_2"]

    def once(i):
        ids = _cycle(app, world, 2050 + i, merged=True, allocated=True)
        rs = replies(race([lambda c=c: post(c, f"/auditallocation/{ids['cycle']}/lock") for c in players]))
        (won,), (lost,) = split(rs, lambda r: r.says("分配结果已锁定"))
        assert lost.says("专家分配已锁定", names[rs.index(won)], "锁定"), lost.flashes
        with app.app_context():
            cycle = db.session.get(AuditCycle, ids["cycle"])
            assert cycle.allocation_locked
            assert db.session.get(CmeUser, cycle.locked_by_fk).username == names[rs.index(won)]
            db.session.remove()

    repeat(TIMES, once)


def test_lock_against_allocation(app, world, add_user, clients):
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    locker, allocator = clients("city", "city_2")

    def once(i):
        ids = _cycle(app, world, 2060 + i, merged=True, allocated=True)
        rs = replies(race([lambda: post(locker, f"/auditallocation/{ids['cycle']}/lock"),
                           lambda: post(allocator, f"/auditallocation/{ids['cycle']}/assign/{ids['expert']}",
                                        {"pick": [f"u:{world.b}"]})]))
        no_server_error(rs)
        lock, alloc = rs
        assert lock.says("分配结果已锁定"), lock.flashes
        with app.app_context():
            cycle = db.session.get(AuditCycle, ids["cycle"])
            b_rows = db.session.scalars(select(AuditAllocation).where(
                AuditAllocation.cycle_id == ids["cycle"], AuditAllocation.institution_id == world.b)).all()
            if alloc.says("已分配"):  # the allocation came first: made before the lock
                assert len(b_rows) == 2 and all(r.allocated_at <= cycle.locked_at for r in b_rows)
            else:  # the lock came first: refused, saying who locked it
                assert alloc.says("专家分配已锁定", "city"), alloc.text[:300]
                assert b_rows == []
            db.session.remove()

    repeat(TIMES, once)


