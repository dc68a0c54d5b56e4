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


def test_one_catalogue_project_added_twice(app, world, add_user, clients):
    """添加此项目 clicked by two staff of one unit at once: the project is added once (was a unique-key
    500 on uq_cme_project_inst_catalog), the other is told it was just added."""
    from decimal import Decimal

    from app.models.projects import Project, ProjectCatalog
    from app.services import roles as R

    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    players = clients("inst_a", "inst_a_2")

    def once(i):
        with app.app_context():
            catalog = ProjectCatalog(approval_no=f"2025-14-03-1{i:02d} (京)", name="儿科护理新进展学习班",
                                     category="市级继续医学教育项目", subject="儿科护理学", credits=Decimal(4),
                                     hours=Decimal(12), year=2025, organizer="北京儿童医院", planned_count=10)
            db.session.add(catalog)
            db.session.commit()
            cid = catalog.id
            db.session.remove()
        rs = replies(race([lambda c=c: post(c, f"/project-catalog/adopt/{cid}") for c in players]))
        (_won,), (lost,) = split(rs, lambda r: r.says("已添加项目"))
        assert lost.says("已添加", "不能重复添加"), lost.flashes
        with app.app_context():
            assert len(db.session.scalars(select(Project.id).where(Project.catalog_id == cid)).all()) == 1
            db.session.remove()

    repeat(TIMES, once)
