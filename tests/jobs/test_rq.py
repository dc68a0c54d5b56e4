"""JOB-1 on RQ: a real Redis (db 15) and real workers — SimpleWorker in this process, and a
`flask cme worker --burst` process with forked work horses."""
from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys

import openpyxl

from app.jobs.reaper import QUEUE_DOWN
from app.services import idcard
from tests.helpers import xlsx_bytes
from tests.jobs import sample_jobs

COLUMNS = ["IC卡号", "姓名", "身份证号", "单位", "科室", "职称", "专业", "联系电话"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def number(n: int) -> str:
    return idcard.make("510104", datetime.date(1988, 3, 1) + datetime.timedelta(days=n), 700 + n)


GOOD = [["R0000001", "雷一", number(1), "甲医院", "心内科", "护师", "", ""],
        ["R0000002", "雷二", number(2), "甲医院", "", "", "", ""],
        ["R0000003", "雷三", number(3), "甲医院", "骨科", "", "", ""]]


def queue_of(app):
    with app.app_context():
        from app.jobs import get_queue

        return get_queue()


def work(app) -> None:
    """Run every queued job with a real RQ worker in burst mode, inside the app context."""
    from tests.rq_workers import QuickSimpleWorker

    queue = queue_of(app)
    with app.app_context():
        QuickSimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.count == 0


def job_row(app, job_id):
    from app.extensions import db
    from app.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        return (job.status, job.done, job.total, job.message, job.result_path)


def person_count(app) -> int:
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        return db.session.query(Person).count()


def enqueue_as(app, username: str, func: str, **kwargs) -> str:
    from app.extensions import db
    from app.jobs import enqueue
    from app.models import CmeUser

    with app.app_context():
        user_id = db.session.query(CmeUser).filter_by(username=username).one().id
        return enqueue("test", func, user_id=user_id, title="测试任务", **kwargs).id


def test_import_through_the_view_waits_queued_then_a_worker_runs_it(rq_app, world, login):
    c = login("inst_a")
    before = person_count(rq_app)
    r = c.post("/persons/import/", data={"file": (xlsx_bytes(GOOD, COLUMNS), "人员.xlsx")},
               content_type="multipart/form-data")
    assert r.status_code == 302
    job_id = r.headers["Location"].rsplit("=", 1)[1]
    # Nothing ran yet: the job waits in Redis.
    assert job_row(rq_app, job_id)[:3] == ("queued", 0, 0)
    assert c.get(f"/jobs/{job_id}/status").get_json()["status"] == "queued"
    queue = queue_of(rq_app)
    assert queue.count == 1 and queue.job_ids == [job_id]
    assert person_count(rq_app) == before

    work(rq_app)
    status = c.get(f"/jobs/{job_id}/status").get_json()
    assert (status["status"], status["done"], status["total"], status["percent"]) == ("finished", 3, 3, 100)
    assert status["message"] == "导入成功，共3人"
    assert person_count(rq_app) == before + 3
    assert queue.fetch_job(job_id).get_status() == "finished"


def test_failing_import_on_rq_ends_failed_with_report(rq_app, world, login, tmp_path):
    bad = GOOD + [["R0000004", "雷四", number(4)[:17] + ("0" if number(4)[-1] != "0" else "1"),
                   "甲医院", "", "", "", ""]]
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx_bytes(bad, COLUMNS).getvalue())
    before = person_count(rq_app)
    job_id = enqueue_as(rq_app, "inst_a", "app.jobs.people:import_persons", path=str(path))
    assert job_row(rq_app, job_id)[0] == "queued"
    work(rq_app)
    status, _, _, message, _ = job_row(rq_app, job_id)
    assert status == "failed"
    assert message == "共1处错误，未导入任何数据。第5行“身份证号”：身份证号校验位错误"
    assert person_count(rq_app) == before
    r = login("inst_a").get(f"/jobs/{job_id}/download")
    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).worksheets[0].iter_rows(values_only=True))
    assert rows == [("行号", "列", "错误原因"), (5, "身份证号", "身份证号校验位错误")]
    assert login("inst_b").get(f"/jobs/{job_id}/download").status_code == 404


def test_progress_and_failures_of_plain_jobs_on_rq(rq_app, world):
    sample_jobs.OBSERVED.clear()
    counting = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:counting", n=2)
    failing = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:failing")
    crashing = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:crashing")
    assert {job_row(rq_app, j)[0] for j in (counting, failing, crashing)} == {"queued"}
    work(rq_app)
    assert sample_jobs.OBSERVED == [("running", 1, 2, "第1步"), ("running", 2, 2, "第2步")]
    assert job_row(rq_app, counting) == ("finished", 2, 2, "数完了", None)
    assert job_row(rq_app, failing) == ("failed", 1, 4, "第二步出错了", None)
    assert job_row(rq_app, crashing) == ("failed", 2, 5, "任务执行出错，请联系管理员", None)


def test_redis_unreachable_fails_the_job_instead_of_leaving_it_queued(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    job_id = enqueue_as(app, "inst_a", "tests.jobs.sample_jobs:counting", n=1)
    status, _, _, message, _ = job_row(app, job_id)
    assert (status, message) == ("failed", QUEUE_DOWN)


def test_flask_cme_worker_process_runs_queued_jobs(rq_app, world, tmp_path):
    """`flask cme worker --burst` in its own process (forking a work horse per job), on the
    same database: the job function builds nothing itself, the command's app context serves."""
    path = tmp_path / "good.xlsx"
    path.write_bytes(xlsx_bytes(GOOD, COLUMNS).getvalue())
    before = person_count(rq_app)
    job_id = enqueue_as(rq_app, "inst_a", "app.jobs.people:import_persons", path=str(path))
    counting = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:counting", n=2)
    env = dict(os.environ, CME_CONFIG="development", FLASK_APP="run.py",
               DATABASE_URL=rq_app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=rq_app.config["REDIS_URL"], JOB_FILES_DIR=rq_app.config["JOB_FILES_DIR"])
    done = subprocess.run([sys.executable, "-m", "flask", "cme", "worker", "--burst",
                           "--queue", rq_app.config["RQ_QUEUE"]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert job_row(rq_app, job_id)[:4] == ("finished", 3, 3, "导入成功，共3人")
    assert job_row(rq_app, counting)[:4] == ("finished", 2, 2, "数完了")
    assert person_count(rq_app) == before + 3
    assert not path.exists()


def test_flask_cme_worker_refuses_without_redis(app):
    env = dict(os.environ, CME_CONFIG="development", FLASK_APP="run.py",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"])
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "flask", "cme", "worker", "--burst"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "未设置 REDIS_URL" in done.stderr


def test_plain_rq_worker_builds_the_app_itself(rq_app, world):
    """A bare `rq worker` (no Flask app context): _rq_execute builds the app from the environment."""
    counting = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:counting", n=1)
    env = dict(os.environ, CME_CONFIG="development",
               DATABASE_URL=rq_app.config["SQLALCHEMY_DATABASE_URI"],
               JOB_FILES_DIR=rq_app.config["JOB_FILES_DIR"])
    rq_script = os.path.join(os.path.dirname(sys.executable), "rq")
    done = subprocess.run([rq_script, "worker", "--burst", "--url", rq_app.config["REDIS_URL"],
                           "-w", "tests.rq_workers.PlainWorker", "--path", ROOT,
                           rq_app.config["RQ_QUEUE"]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert job_row(rq_app, counting)[:4] == ("finished", 1, 1, "数完了")


def test_big_export_waits_queued_then_a_worker_writes_the_file(rq_app, world, login):
    # Above EXPORT_INLINE_MAX rows the export is a job: Redis holds it until a real worker runs it,
    # replaying the user's request (scope and filters) to write the file only its owner downloads.
    from app.extensions import db
    from app.models import Person

    saved = rq_app.config["EXPORT_INLINE_MAX"]
    rq_app.config["EXPORT_INLINE_MAX"] = 1
    try:
        c = login("inst_a")
        html = c.get("/persons/export/").get_data(as_text=True)
        job_id = html.split('data-status-url="/jobs/', 1)[1].split("/", 1)[0]
        assert job_row(rq_app, job_id)[0] == "queued" and queue_of(rq_app).job_ids == [job_id]
        work(rq_app)
        # pytest-flask keeps one app context (one session) around the test's requests: forget the
        # Job row the export request loaded while it was queued.
        db.session.expire_all()
        with rq_app.app_context():
            cards = {p.card_no for p in db.session.query(Person).filter(Person.institution_id == world.a)}
        status, done, total, message, _ = job_row(rq_app, job_id)
        assert (status, done, total, message) == ("finished", len(cards), len(cards), f"导出完成，共{len(cards)}条")
        r = c.get(f"/jobs/{job_id}/download")
        assert r.status_code == 200
        rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
        column = rows[0].index("IC卡号")
        assert len(cards) >= 2 and {r[column] for r in rows[1:]} == cards
        assert login("inst_b").get(f"/jobs/{job_id}/download").status_code == 404
    finally:
        rq_app.config["EXPORT_INLINE_MAX"] = saved
