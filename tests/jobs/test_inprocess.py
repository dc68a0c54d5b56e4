"""JOB-1 without REDIS_URL: the job runs in a background thread of this process."""
from __future__ import annotations

import threading
import time

import pytest

from tests.jobs import sample_jobs


@pytest.fixture
def ctx(app):
    assert not app.config.get("REDIS_URL")
    with app.app_context():
        sample_jobs.OBSERVED.clear()
        yield app


def run(func: str, **kwargs):
    from app.jobs import enqueue

    return enqueue("test", f"tests.jobs.sample_jobs:{func}", user_id=1, title="测试任务", **kwargs)


def test_progress_is_visible_while_running_and_ends_finished(ctx):
    job = run("counting", n=3)
    # Each progress call was already on the job row, seen from another connection, mid-run.
    assert sample_jobs.OBSERVED == [("running", 1, 3, "第1步"), ("running", 2, 3, "第2步"),
                                    ("running", 3, 3, "第3步")]
    assert (job.status, job.done, job.total, job.percent, job.message) == ("finished", 3, 3, 100, "数完了")
    assert job.finished_at is not None


def test_job_failed_keeps_its_message_and_progress(ctx):
    job = run("failing")
    assert (job.status, job.message, job.done, job.total) == ("failed", "第二步出错了", 1, 4)
    assert job.percent == 25 and job.finished_at is not None


def test_unexpected_error_fails_with_a_chinese_message_only(ctx):
    job = run("crashing")
    assert job.status == "failed"
    assert job.message == "任务执行出错，请联系管理员"
    assert "internal" not in job.message
    assert (job.done, job.total) == (2, 5)


def test_unknown_job_function_fails_instead_of_hanging(ctx):
    job = run("no_such_function")
    assert job.status == "failed" and job.message == "任务执行出错，请联系管理员"


def test_progress_during_the_jobs_own_write_does_not_deadlock(ctx):
    """SQLite: a progress update must not wait for the job's own write lock (it used to fail
    with "database is locked" after the busy timeout). PostgreSQL writes it at once."""
    from app.extensions import db
    from app.models import DictType

    started = time.perf_counter()
    job = run("write_then_progress", code="job_ok")
    assert time.perf_counter() - started < 3
    assert (job.status, job.message, job.done, job.total) == ("finished", "写好了", 2, 2)
    first, second = sample_jobs.OBSERVED
    if db.engine.dialect.name == "sqlite":
        assert first == ("running", 0, 0, None)  # kept back until the transaction ended
    else:
        assert first == ("running", 1, 2, "写入中")
    assert second == ("running", 2, 2, "已提交")
    assert db.session.query(DictType).filter_by(code="job_ok").count() == 1


def test_failed_job_rolls_back_its_writes_but_keeps_progress(ctx):
    from app.extensions import db
    from app.models import DictType

    started = time.perf_counter()
    job = run("write_then_progress", code="job_rolled_back", fail=True)
    assert time.perf_counter() - started < 3
    assert (job.status, job.message, job.done, job.total) == ("failed", "写入后失败", 1, 2)
    assert db.session.query(DictType).filter_by(code="job_rolled_back").count() == 0


def test_enqueue_returns_before_the_work_ends(ctx, monkeypatch):
    monkeypatch.setitem(ctx.config, "JOBS_SYNC", False)
    sample_jobs.EVENTS["go"] = event = threading.Event()
    try:
        job = run("waiting", event_name="go")
        assert job.status in ("queued", "running")
        thread = next(t for t in threading.enumerate() if t.name == f"job-{job.id}")
        assert thread.is_alive() and thread.daemon
        event.set()
        thread.join(timeout=10)
        assert not thread.is_alive()
    finally:
        event.set()
        sample_jobs.EVENTS.pop("go", None)
    from app.extensions import db

    db.session.refresh(job)
    assert (job.status, job.message, job.done, job.total) == ("finished", "等到了", 1, 1)


def test_import_progress_is_reported_while_validating(ctx, tmp_path, monkeypatch):
    """450 rows: progress at 0, every 200 validated rows, then writing; all written at the end."""
    import datetime

    from app.extensions import db
    from app.jobs import JobContext, enqueue
    from app.models import CmeUser, Person
    from app.services import idcard
    from tests.helpers import build_world, xlsx_bytes

    build_world()
    calls = []
    original = JobContext.progress

    def spy(self, done, total=None, message=None):
        calls.append((done, total, message))
        return original(self, done, total, message)

    monkeypatch.setattr(JobContext, "progress", spy)
    rows = [[f"P{i:07d}", f"人员{i}", idcard.make("440101", datetime.date(1990, 1, 1)
             + datetime.timedelta(days=i), i % 1000), "甲医院", "心内科", "", "", ""] for i in range(450)]
    path = tmp_path / "many.xlsx"
    path.write_bytes(xlsx_bytes(rows, ["IC卡号", "姓名", "身份证号", "单位", "科室", "职称", "专业",
                                       "联系电话"]).getvalue())
    user = db.session.query(CmeUser).filter_by(username="inst_a").one()
    before = db.session.query(Person).count()
    job = enqueue("person_import", "app.jobs.people:import_persons", user_id=user.id, title="人员导入",
                  path=str(path))
    assert job.status == "finished", job.message
    assert calls == [(0, 450, "正在校验"), (200, None, None), (400, None, None), (450, None, "正在写入")]
    assert (job.done, job.total) == (450, 450)
    assert db.session.query(Person).count() == before + 450
