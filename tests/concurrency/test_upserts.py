"""Rows two people may create at the same instant, over HTTP on PostgreSQL: the first self-study form
of a person and year, a person added twice to a wizard's grant list, a unit's self-study upload mode
set twice. INSERT … ON CONFLICT: no 500 (was a unique-key violation), one row each."""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import ReviewLog, SelfStudy, SelfStudyDelegation
from app.models.activities import GrantDraftPerson
from app.services import roles as R
from tests.activities.helpers import standard_id
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


def test_two_first_saves_of_one_self_study_form(app, world, add_user, clients):
    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    players = clients("inst_a", "inst_a_2")

    def once(i):
        year = 2030 - i
        rs = replies(race([lambda c=c, n=n: post(c, f"/selfstudy/form/{world.pa}?year={year}",
                                                 {"s1_graduate": str(n)}) for n, c in enumerate(players, 1)]))
        no_server_error(rs)
        saved = [n for n, r in enumerate(rs, 1) if r.says("自学计划已保存")]
        # Both saves at once: one creates the form, the other is told so. The other may also come
        # just after the first's commit: then it edits the draft the first created (also fine).
        for n, r in enumerate(rs, 1):
            assert n in saved or "刚由他人创建" in r.text, r.text[:300]
        with app.app_context():
            forms = db.session.scalars(select(SelfStudy).where(SelfStudy.person_id == world.pa,
                                                               SelfStudy.year == year)).all()
            assert len(forms) == 1
            assert forms[0].data["fields"]["s1_graduate"] in saved
            assert db.session.scalar(select(func.count(ReviewLog.id)).where(
                ReviewLog.owner_type == "self_study", ReviewLog.owner_id == forms[0].id)) == 1
            db.session.remove()

    repeat(TIMES, once)


def test_one_person_added_twice_to_a_grant_list(app, world, clients):
    one, two = clients("inst_a", "inst_a")  # two tabs of the wizard (or a double click)

    def once(_):
        with app.app_context():
            r = one.post("/activities/study/new")
            draft = int(re.search(r"/wizard/(\d+)/1", r.headers["Location"]).group(1))
            assert one.post(f"/activities/wizard/{draft}/1", data={"standard_id": standard_id(7),
                                                                   "action": "next"}).status_code == 302
            db.session.remove()
        data = {"action": "add", "person_id": [world.pa, world.pa2]}
        rs = replies(race([lambda c=c: post(c, f"/activities/wizard/{draft}/2", data) for c in (one, two)]))
        no_server_error(rs)
        assert all(r.says("已添加") for r in rs), [r.flashes for r in rs]
        with app.app_context():
            persons = db.session.scalars(select(GrantDraftPerson.person_id).where(
                GrantDraftPerson.draft_id == draft)).all()
            assert sorted(persons) == sorted([world.pa, world.pa2])
            db.session.remove()

    repeat(TIMES, once)


def test_one_unit_mode_set_twice(app, world, add_user, clients):
    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    players = clients("inst_a", "inst_a_2")

    def once(_):
        with app.app_context():
            db.session.execute(SelfStudyDelegation.__table__.delete())
            db.session.commit()
            db.session.remove()
        rs = replies(race([lambda c=c, m=m: post(c, "/selfstudy/delegation/set", {"rowid": [world.a_dept], "mode": m})
                           for c, m in zip(players, ("person", "institution"))]))
        no_server_error(rs)
        assert all(r.says("已设置") for r in rs), [r.flashes for r in rs]
        with app.app_context():
            rows = db.session.scalars(select(SelfStudyDelegation).where(
                SelfStudyDelegation.org_id == world.a_dept)).all()
            assert len(rows) == 1 and rows[0].mode in ("person", "institution")
            db.session.remove()

    repeat(TIMES, once)
