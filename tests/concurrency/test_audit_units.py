"""Races on the units' part of the audit (issue 13 with issue 16 items 1 and 3): two admins of one
institution send its 回执 at once; two district admins judge the same persons at once (单位审验). No 500,
one reply row per institution, one verdict row per person (INSERT … ON CONFLICT)."""
import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Person
from app.models.audit import AuditFinalPerson
from app.models.audit_units import AuditReply, AuditUnitCheck
from app.services import roles as R
from tests.audit.audit_helpers import make_cycle
from tests.concurrency.harness import PG_ONLY, no_server_error, post, race, repeat, replies

pytestmark = PG_ONLY
TIMES = 5


def test_two_admins_of_one_institution_reply_at_once(app, world, add_user, clients, clock):
    """Seed 001 七(三) 回执: one reply per sampled institution, whoever sends it."""
    clock.at(datetime.datetime(2022, 11, 6, 9, 0), tick=True)
    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    players = clients("inst_a", "inst_a_2")
    with app.app_context():
        cycle = make_cycle(2022)
        p = db.session.get(Person, world.pa)
        db.session.add(AuditFinalPerson(cycle_id=cycle.id, person_id=p.id, district_id=p.district_id,
                                        institution_id=p.institution_id, department_id=p.department_id))
        db.session.commit()
        db.session.remove()

    def once(i):
        rs = replies(race([lambda c=c, n=n: post(c, "/audit-reply/", {
            "contact_name": f"联系人{i}{n}", "contact_phone": "13800000000", "confirmed": "1"})
            for n, c in enumerate(players)]))
        no_server_error(rs)
        assert all(r.says("回执已提交") for r in rs), [r.flashes for r in rs]
        with app.app_context():
            names = list(db.session.scalars(select(AuditReply.contact_name)))
            assert len(names) == 1 and names[0] in (f"联系人{i}0", f"联系人{i}1")
            db.session.remove()

    repeat(TIMES, once)


def test_two_district_admins_judge_the_same_persons_at_once(app, world, add_user, clients, clock):
    """Seed 001 四(二)1 单位审验 by a district: one verdict row per person and cycle."""
    clock.at(datetime.datetime(2022, 11, 3, 9, 0), tick=True)
    add_user("district1_2", R.DISTRICT_ADMIN, org_id=world.d1)
    players = clients("district1", "district1_2")
    with app.app_context():
        cycle_id = make_cycle(2022, unit_audit_start=datetime.datetime(2022, 11, 1),
                              unit_audit_end=datetime.datetime(2022, 11, 5, 23, 59, 59)).id
        db.session.commit()
        db.session.remove()

    def once(i):
        forms = [{"cycle": cycle_id, "rowid": [world.pc], "decision": "passed"},
                 {"cycle": cycle_id, "rowid": [world.pc], "decision": "failed", "reason": f"缺少证明{i}"}]
        rs = replies(race([lambda c=c, f=f: post(c, "/audit-unit/verdict", f) for c, f in zip(players, forms)]))
        no_server_error(rs)
        with app.app_context():
            rows = db.session.scalar(select(func.count()).select_from(AuditUnitCheck)
                                     .where(AuditUnitCheck.person_id == world.pc))
            assert rows == 1
            db.session.remove()

    repeat(TIMES, once)
