"""Race: two administrators of one institution click 达标计算 for the same year at the same instant. One
job is started (a partial unique index allows one queued/running job per scope and year); the other is
told in Chinese who started it and that the results update by themselves — no 500, no second job.

The app has a Redis queue with no worker here, so the winner's job stays queued through the race (with a
worker or in-process, it could finish before the second click arrives, and then a second job is right)."""
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Job
from app.services import roles as R
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split
from tests.helpers import forget_rq_queue

pytestmark = PG_ONLY
TIMES = 5


@pytest.fixture
def queued_app(app, redis_url):
    """REDIS_URL on a queue of this test's own that no worker serves: jobs stay queued."""
    saved = app.config.get("REDIS_URL"), app.config["RQ_QUEUE"]
    app.config["REDIS_URL"], app.config["RQ_QUEUE"] = redis_url, f"cme-test-{uuid.uuid4().hex[:12]}"
    with app.app_context():
        from app.jobs import get_queue

        queue = get_queue()
    try:
        yield app
    finally:
        forget_rq_queue(queue)
        app.config["REDIS_URL"], app.config["RQ_QUEUE"] = saved


def _jobs(app) -> list[Job]:
    with app.app_context():
        jobs = db.session.scalars(select(Job).where(Job.kind == "compliance_recompute")).all()
        db.session.expunge_all()
        db.session.remove()
    return jobs


def test_two_admins_start_one_recompute(queued_app, world, add_user, clients):
    app = queued_app
    add_user("inst_a_2", R.INSTITUTION_ADMIN, org_id=world.a)
    players = clients("inst_a", "inst_a_2")

    def once(i):
        try:
            rs = replies(race([lambda c=c: post(c, "/compliance/recompute/", {"year": "2025"}) for c in players]))
            (won,), (lost,) = split(rs, lambda r: "job=" in r.location and not r.flashes)
            assert lost.status == 302 and lost.says("发起本范围2025年度的达标计算", "正在进行中", "无需重复发起"), \
                (lost.status, lost.flashes)
            (job,) = _jobs(app)
            assert job.status == "queued" and job.dedupe_key == f"compliance_recompute:institution:{world.a}:2025"
            assert won.location.endswith(f"job={job.id}")
        finally:
            with app.app_context():
                db.session.query(Job).delete()
                db.session.commit()
                db.session.remove()

    repeat(TIMES, once)
