"""Race on an expert's login (审验专家 注销): the same person is the expert of two years; two city users
disable both years at the same instant. The login must end disabled (each change counted the other
year as still active before the login row was held)."""
from sqlalchemy import select

from app.extensions import db
from app.models import CmeUser
from app.models.audit import AuditExpert
from app.services import roles as R
from tests.concurrency.harness import (
    PG_ONLY,
    no_server_error,
    post,
    race,
    repeat,
    replies,
)

pytestmark = PG_ONLY
TIMES = 5


def test_two_years_disabled_at_once(app, world, add_user, clients):
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")
    with app.app_context():
        user_id = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "expert"))
        experts = [AuditExpert(user_id=user_id, year=y, name="专家甲", status="active") for y in (2024, 2025)]
        db.session.add_all(experts)
        db.session.commit()
        ids = [e.id for e in experts]
        db.session.remove()

    def once(_):
        with app.app_context():
            for e in db.session.scalars(select(AuditExpert).where(AuditExpert.id.in_(ids))):
                e.status = "active"
            db.session.get(CmeUser, user_id).active = True
            db.session.commit()
            db.session.remove()
        rs = replies(race([lambda c=c, i=i: post(c, f"/auditexpert/status/{i}/disabled") for c, i in zip(players, ids)]))
        no_server_error(rs)  # both change their own year: both succeed
        assert all(r.says("已更新专家状态") for r in rs), [r.flashes for r in rs]
        with app.app_context():
            assert db.session.get(CmeUser, user_id).active is False
            db.session.remove()

    repeat(TIMES, once)
