"""Race on a check-in (手工签到, 签到 INSERT … ON CONFLICT on the first check-in index): two staff of the
organiser sign the same person in to the same topic at the same instant. One first check-in, the
other stored and reported as the duplicate (不重复授分); no 500."""
import datetime

from sqlalchemy import select

from app.extensions import db
from app.models.projects import CheckIn
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split
from tests.projects.helpers import add_topic, make_project

pytestmark = PG_ONLY
TIMES = 5


def test_two_first_check_ins_of_one_person(app, world, clients):
    players = clients("inst_a", "inst_a")
    with app.app_context():
        project = make_project(world.a, credits="10", hours="12")
        topics = [add_topic(project, f"1{i:02d}", datetime.datetime(2025, 4, 24, 8 + i), hours="1").id
                  for i in range(TIMES)]
        pk = project.id
        db.session.commit()
        db.session.remove()

    def once(i):
        data = {"topic_id": topics[i], "card_no": "A0000001"}
        rs = replies(race([lambda c=c: post(c, f"/projects/checkin/{pk}", data) for c in players]))
        (_first,), (again,) = split(rs, lambda r: [c for c, _ in r.flashes] == ["success"])
        assert again.says("本次记为重复签到"), again.flashes
        with app.app_context():
            rows = db.session.execute(select(CheckIn.person_id, CheckIn.duplicate).where(
                CheckIn.topic_id == topics[i]).order_by(CheckIn.duplicate)).all()
            assert [tuple(r) for r in rows] == [(world.pa, False), (world.pa, True)]
            db.session.remove()

    repeat(TIMES, once)
