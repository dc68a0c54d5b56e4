"""Race on 批量开通账号 (seed 002 附件一2: "输入用户名/IC 卡号及登录密码，初始登录密码为 000000"): two admins of
the same institution open the accounts of the same persons at the same instant. No 500, one account
per person, each with the technician's role once (INSERT … ON CONFLICT on the user name)."""
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import CmeUser
from app.services import roles as R
from tests.concurrency.harness import PG_ONLY, no_server_error, post, race, repeat, replies

pytestmark = PG_ONLY
TIMES = 5


def test_two_admins_open_the_same_accounts_at_once(app, world, add_user, clients):
    from flask_appbuilder.security.sqla.models import assoc_user_role

    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    add_user("district1_2", R.DISTRICT_ADMIN, org_id=world.d1)
    players = clients("inst_a", "inst_a_2", "district1_2")

    def once(_):
        with app.app_context():
            db.session.execute(delete(CmeUser).where(CmeUser.username.in_(["A0000002", "C0000001"])))
            db.session.commit()
            db.session.remove()
        calls = [lambda c=players[0]: post(c, "/persons/action_post", {"action": "open_accounts",
                                                                        "rowid": [str(world.pa2)]}),
                 lambda c=players[1]: post(c, "/persons/accounts/"),
                 lambda c=players[2]: post(c, "/persons/accounts/")]
        rs = replies(race(calls))
        no_server_error(rs)
        with app.app_context():
            users = db.session.scalars(select(CmeUser).where(CmeUser.username.in_(["A0000002", "C0000001"]))).all()
            assert sorted((u.username, u.person_id) for u in users) == [("A0000002", world.pa2),
                                                                         ("C0000001", world.pc)]
            for u in users:
                assert u.must_change_password and [r.name for r in u.roles] == [R.TECHNICIAN]
                links = db.session.scalar(select(func.count()).select_from(assoc_user_role)
                                          .where(assoc_user_role.c.user_id == u.id))
                assert links == 1
            db.session.remove()

    repeat(TIMES, once)
