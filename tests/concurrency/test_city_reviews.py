"""Races on the city's reviews added with issue 16 (issue 13's rule for every state change): two city staff
passing the same distance-education upload, or the same held-back swipe/QR grants, at once — one decision,
credits granted once, the other told in Chinese that someone decided first; no 500."""
import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import Credit, ReviewLog
from app.models.distance import DistanceUpload
from tests.concurrency.harness import PG_ONLY, post, race, replies, split
from tests.distance.test_distance import _approved_project, _upload, distance_world  # noqa: F401 (fixture)
from tests.distance.test_xuzhou_city_review import _xuzhou_grant

pytestmark = PG_ONLY


def test_one_distance_upload_passed_twice_at_once(app, world, distance_world, add_user, clients, login):  # noqa: F811
    from app.services import roles as R

    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    pid = _approved_project(login, app)
    rows = [["A0000001", "张三", 15, "2025-08-20", "合格"], ["A0000002", "李四", 15, "2025-08-21", "合格"]]
    assert _upload(clients("dist_da")[0], pid, rows).status_code == 302
    with app.app_context():
        upload_id = db.session.scalar(select(DistanceUpload.id))
        db.session.remove()
    players = clients("city", "city_2")
    rs = replies(race([lambda c=c: post(c, f"/distance/uploads/{upload_id}/review", {"decision": "pass"})
                       for c in players]))
    (won,), (lost,) = split(rs, lambda r: r.says("审核通过，已为 2 名"))
    assert lost.says("已由他人先审核") or lost.says("已审核"), lost.flashes
    with app.app_context():
        assert db.session.get(DistanceUpload, upload_id).status == "granted"
        assert db.session.scalar(select(func.count(Credit.id)).where(Credit.source == "distance")) == 2
        db.session.remove()


def test_held_back_grants_passed_by_two_city_staff_at_once(app, world, add_user, clients, clock):
    from app.services import roles as R

    clock.at(datetime.datetime(2024, 5, 6, 9, 0), tick=True)
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    with app.app_context():
        _xuzhou_grant(world)
        ids = sorted(db.session.scalars(select(Credit.id)))
        db.session.remove()
    assert len(ids) == 2
    players = clients("city", "city_2")
    rs = replies(race([lambda c=c: post(c, "/grant-review/review", {"rowid": [str(i) for i in ids],
                                                                     "decision": "pass"}) for c in players]))
    (won,), (lost,) = split(rs, lambda r: r.says("已审核通过 2 条学分"))
    assert not lost.says("已审核通过"), lost.flashes
    with app.app_context():
        assert {c.status for c in db.session.scalars(select(Credit))} == {"city_approved"}
        # One decision each, logged once: no duplicate review-log rows.
        assert db.session.scalar(select(func.count(ReviewLog.id)).where(
            ReviewLog.owner_id.in_(ids), ReviewLog.action == "city_pass")) == 2
        db.session.remove()
