"""Races on 继教项目申报 approval (issue 16 item 9): two city staff approving two declarations at once get
two different project numbers (the year/level counter row is incremented under its lock); two approving
the same declaration approve it once (guarded transition), the other is told who decided first."""
from sqlalchemy import func, select

from app.extensions import db
from app.models.projects import Declaration, ProjectCatalog
from app.models.users import CmeUser
from app.services import declarations as decl
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split
from tests.projects.test_declarations import FORM

pytestmark = PG_ONLY
TIMES = 5


def _passed(n: int) -> list[int]:
    """n declarations the district passed, waiting for the city."""
    unit = db.session.scalar(select(CmeUser).where(CmeUser.username == "inst_a"))
    district = db.session.scalar(select(CmeUser).where(CmeUser.username == "district1"))
    ids = []
    for _ in range(n):
        row = decl.create(db.session, unit, FORM, True)
        decl.review(db.session, district, row, "pass")
        db.session.commit()
        ids.append(row.id)
    return ids


def test_two_approvals_at_once_get_two_numbers(app, world, add_user, clients):
    from app.services import roles as R

    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")

    def once(i):
        with app.app_context():
            ids = _passed(2)
            db.session.remove()
        rs = replies(race([lambda c=c, pk=pk: post(c, f"/declarations/review/{pk}", {"decision": "pass"})
                           for c, pk in zip(players, ids)]))
        assert all(r.says("已批准") for r in rs), [r.flashes for r in rs]
        with app.app_context():
            numbers = sorted(db.session.scalars(select(Declaration.approval_no).where(Declaration.id.in_(ids))))
            assert numbers == [f"2026-SJ-{2 * i + 1:03d} (京)", f"2026-SJ-{2 * i + 2:03d} (京)"], numbers
            db.session.remove()

    repeat(TIMES, once)


def test_one_declaration_approved_twice_at_once(app, world, add_user, clients):
    from app.services import roles as R

    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")

    def once(i):
        with app.app_context():
            (pk,) = _passed(1)
            db.session.remove()
        rs = replies(race([lambda c=c: post(c, f"/declarations/review/{pk}", {"decision": "pass"}) for c in players]))
        (_won,), (lost,) = split(rs, lambda r: r.says("已进入继教项目目录"))
        assert lost.says("已由他人先处理") or lost.says("当前状态"), lost.flashes
        with app.app_context():
            assert db.session.scalar(select(func.count(ProjectCatalog.id)).where(
                ProjectCatalog.name == FORM["name"])) == i + 1
            db.session.remove()

    repeat(TIMES, once)
