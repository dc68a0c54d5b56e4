"""Races on the audit administration (issue 13): two city admins start (or redo) one draw at once;
two create the same expert account; two open a cycle of the same year. One winner each time, the
other told in Chinese (no 500, no FAB database error), and no duplicate rows."""
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import CmeUser
from app.models.audit import AuditCycle, AuditDraw, AuditExpert, AuditSampledInstitution
from app.services import roles as R
from tests.audit.audit_helpers import make_cycle
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split

pytestmark = PG_ONLY
TIMES = 5


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_two_admins_start_the_institution_draw_at_once(app, world, add_user, clients):
    """抽取抽审单位 (seed 001 四(二)2(1)) clicked by two city admins on the same page (both saw the
    same last draw): one draw is queued and run, the other is refused with who started it."""
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")
    with app.app_context():
        cycle_id = make_cycle(2022).id
        db.session.commit()
        db.session.remove()

    def once(i):
        with app.app_context():
            seen = db.session.scalar(select(func.max(AuditDraw.id)).where(AuditDraw.cycle_id == cycle_id)) or 0
            db.session.remove()
        url = f"/auditcycle/draw/{cycle_id}"
        rs = replies(race([lambda c=c: post(c, url, {"seed": str(100 + i), "seen": str(seen)}) for c in players]))
        (won,), (lost,) = split(rs, lambda r: "job=" in r.location)
        assert lost.says("抽取已被他人重新发起") or lost.says("已有一次抽取正在进行"), lost.flashes
        with app.app_context():
            draws = list(db.session.scalars(select(AuditDraw).where(AuditDraw.cycle_id == cycle_id,
                                                                    AuditDraw.id > seen)))
            assert len(draws) == 1 and draws[0].status == "done", [(d.id, d.status) for d in draws]
            sampled = list(db.session.scalars(select(AuditSampledInstitution.institution_id)
                                              .where(AuditSampledInstitution.cycle_id == cycle_id)))
            assert len(sampled) == len(set(sampled)) == 3  # the small world's three institutions, once each
            db.session.remove()

    repeat(TIMES, once)


def test_two_admins_redo_one_draw_with_the_same_seed_at_once(app, world, add_user, clients):
    """按同一种子重新抽取 (抽取记录) clicked by two city admins at once: one re-run, the other refused."""
    from app.services import audit_sampling as S

    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")
    with app.app_context():
        cycle = make_cycle(2022)
        city_id = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "city"))
        first = S.create_draw(db.session, cycle, city_id, kind="institution", seed=7)
        S.run_draw(db.session, first)
        cycle_id, first_id = cycle.id, first.id
        db.session.commit()
        db.session.remove()

    def once(i):
        with app.app_context():
            seen = db.session.scalar(select(func.max(AuditDraw.id)).where(AuditDraw.cycle_id == cycle_id))
            db.session.remove()
        url = f"/auditdraw/rerun/{first_id}"
        rs = replies(race([lambda c=c: post(c, url, {"seen": str(seen)}) for c in players]))
        (won,), (lost,) = split(rs, lambda r: "job=" in r.location)
        assert lost.says("抽取已被他人重新发起") or lost.says("已有一次抽取正在进行"), lost.flashes
        with app.app_context():
            new = list(db.session.scalars(select(AuditDraw).where(AuditDraw.cycle_id == cycle_id, AuditDraw.id > seen)))
            assert [(d.seed, d.rerun_of_id, d.status) for d in new] == [(7, first_id, "done")]
            sampled = list(db.session.scalars(select(AuditSampledInstitution.institution_id)
                                              .where(AuditSampledInstitution.cycle_id == cycle_id)))
            assert len(sampled) == len(set(sampled)) == 3
            db.session.remove()

    repeat(TIMES, once)


def test_two_admins_create_the_same_expert_at_once(app, world, add_user, clients):
    """新增审验专家 of one username and year by two city admins: one account, one expert row."""
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")

    def once(i):
        username = f"race_expert_{i}"
        form = {"username": username, "name": "王审验", "year": "2024", "contact": "", "unit": "", "password": ""}
        rs = replies(race([lambda c=c: post(c, "/auditexpert/add", form) for c in players]))
        (won,), (lost,) = split(rs, lambda r: "新密码只显示这一次" in r.body)
        # The loser is refused in Chinese: in the race itself, or — when its first look comes after the
        # winner's commit (a busy machine) — because the account already is that year's expert.
        assert lost.status == 200 and (lost.says("该用户名已被其他账号使用") or lost.says(f"{username} 已是2024年度的审验专家")), \
            (lost.flashes, lost.body[:200])
        with app.app_context():
            assert _count(CmeUser, CmeUser.username == username) == 1
            user_id = db.session.scalar(select(CmeUser.id).where(CmeUser.username == username))
            assert _count(AuditExpert, AuditExpert.user_id == user_id) == 1
            db.session.remove()

    repeat(TIMES, once)


def test_two_admins_add_a_second_year_to_one_expert_at_once(app, world, add_user, clients):
    """The expert of 2024 added again for 2025 by two admins at once: one 2025 row (uq_audit_expert_user_year)."""
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")
    with app.app_context():
        user_id = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "expert"))
        db.session.add(AuditExpert(user_id=user_id, year=2024, name="专家甲", status="active"))
        db.session.commit()
        db.session.remove()

    def once(i):
        year = 2025 + i
        form = {"username": "expert", "name": "专家甲", "year": str(year), "contact": "", "unit": "", "password": ""}
        rs = replies(race([lambda c=c: post(c, "/auditexpert/add", form) for c in players]))
        (won,), (lost,) = split(rs, lambda r: r.status == 302)
        assert lost.says(f"expert 已是{year}年度的审验专家"), (lost.flashes, lost.body[:200])
        with app.app_context():
            assert _count(AuditExpert, AuditExpert.user_id == user_id, AuditExpert.year == year) == 1
            db.session.remove()

    repeat(TIMES, once)


CYCLE_FORM = {"name": "学分审验", "window_start": "2021-11-01", "window_end": "2022-10-31",
              "audit_start": "2022-11-01 00:00:00", "audit_end": "2022-12-02 23:59:59",
              "appeal_deadline": "2022-12-02 17:00:00", "status": "open", "quota_secondary": "1",
              "quota_primary": "2", "quota_private": "2", "quota_tertiary_all": "y", "remark": ""}


def test_two_admins_open_a_cycle_of_one_year_at_once(app, world, add_user, clients):
    """AUD-1 "每个年度只能有一个开启的审验": two admins adding an open cycle of one year at once — one
    cycle (ux_audit_cycle_open_year), the other told in Chinese, not FAB's database error."""
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")

    def once(i):
        year = 2030 + i
        form = {**CYCLE_FORM, "year": str(year)}
        rs = replies(race([lambda c=c, n=n: post(c, "/auditcycle/add", {**form, "name": f"{year}审验{n}"})
                           for n, c in enumerate(players)]))
        (won,), (lost,) = split(rs, lambda r: not r.says("已有开启的审验"))
        assert lost.says(f"{year}年度已有开启的审验"), lost.flashes
        assert not any("IntegrityError" in r.text or "UniqueViolation" in r.text for r in rs)
        with app.app_context():
            assert _count(AuditCycle, AuditCycle.year == year) == 1
            db.session.execute(delete(AuditCycle).where(AuditCycle.year == year))
            db.session.commit()
            db.session.remove()

    repeat(TIMES, once)
