"""Jobs survive crashes (issue 12 point 3): a real `flask cme worker` process whose work horse or whose
main process is killed with SIGKILL leaves a failed job with a Chinese reason (not "running" forever);
an enqueue with Redis down fails the job and removes its upload; the home to-do counts honestly."""
from __future__ import annotations

import datetime
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

from app.jobs import reaper
from tests.helpers import xlsx_bytes
from tests.jobs.test_rq import COLUMNS, GOOD, ROOT, enqueue_as, job_row, queue_of


def upload_file(app) -> str:
    """A file in the uploads folder, as a view leaves it for an import job."""
    with app.app_context():
        from app.services.uploads import upload_folder

        folder = upload_folder()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{uuid.uuid4().hex}.xlsx")
    with open(path, "wb") as fh:
        fh.write(xlsx_bytes(GOOD, COLUMNS).getvalue())
    return path


def start_worker(app) -> subprocess.Popen:
    env = dict(os.environ, CME_CONFIG="development", FLASK_APP="run.py",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               JOB_FILES_DIR=app.config["JOB_FILES_DIR"])
    return subprocess.Popen([sys.executable, "-m", "flask", "cme", "worker", "--queue", app.config["RQ_QUEUE"]],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def read_pid(path) -> int | None:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return None


def kill(pid: int | None) -> None:
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def forget_workers(app) -> None:
    """Remove the dead workers' keys this test left in Redis (they would expire after their TTL)."""
    from rq import Worker

    queue = queue_of(app)
    for worker in Worker.all(queue=queue):
        worker.register_death()
        queue.connection.delete(worker.key)


def stop(worker: subprocess.Popen, horse_pid: int | None = None) -> str:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    kill(horse_pid)
    _out, err = worker.communicate(timeout=15)
    return err or ""


def test_killed_work_horse_fails_the_job_at_once(rq_app, world, tmp_path):
    upload = upload_file(rq_app)
    pid_file = tmp_path / "horse.pid"
    job_id = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:blocking", pid_file=str(pid_file), path=upload)
    worker = start_worker(rq_app)
    horse = None
    try:
        horse = wait_for(lambda: read_pid(pid_file), 90, "the job to start")
        assert job_row(rq_app, job_id)[0] == "running"
        os.kill(horse, signal.SIGKILL)
        # The worker sees its horse die and fails the row through work_horse_killed — no poll needed.
        status = wait_for(lambda: job_row(rq_app, job_id)[0] == "failed" and job_row(rq_app, job_id), 30,
                          "the job to fail")
        assert status[3] == reaper.WORKER_DIED
        assert not os.path.exists(upload)  # the import's upload is removed: the user uploads it again
        assert worker.poll() is None  # the worker lives on for the next job
        assert queue_of(rq_app).fetch_job(job_id).get_status() == "failed"
    finally:
        stop(worker, horse)
        forget_workers(rq_app)


def test_killed_worker_is_found_dead_at_the_next_poll(rq_app, world, login, tmp_path):
    upload = upload_file(rq_app)
    pid_file = tmp_path / "horse.pid"
    job_id = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:blocking", pid_file=str(pid_file), path=upload)
    worker = start_worker(rq_app)
    horse = None
    c = login("inst_a")
    try:
        horse = wait_for(lambda: read_pid(pid_file), 90, "the job to start")
        assert c.get(f"/jobs/{job_id}/status").get_json()["status"] == "running"
        worker.kill()  # SIGKILL of the worker's main process: nobody is told
        worker.wait(timeout=10)
        kill(horse)  # systemd stops the rest of the unit's processes when its main process dies
        started = time.monotonic()
        status = c.get(f"/jobs/{job_id}/status").get_json()
        assert (status["status"], status["message"], status["has_file"]) == ("failed", reaper.WORKER_DIED, False)
        assert time.monotonic() - started < 60
        assert not os.path.exists(upload)
        # Failed, with no error report: the list offers no download, the home to-do promises no report.
        assert f"/jobs/{job_id}/download" not in c.get("/jobs/").get_data(as_text=True)
        todos = re.search(r'id="todo-list">(.*?)</ul>', c.get("/").get_data(as_text=True), re.DOTALL).group(1)
        assert "1 个后台任务失败，请在“我的任务”中查看原因" in todos and "错误报告" not in todos
    finally:
        stop(worker, horse)
        forget_workers(rq_app)


def orphan(rq_app, tmp_path) -> tuple[str, str]:
    """A job `running` for a worker that no longer exists (its Redis key expired); (job id, its upload)."""
    from rq.job import Job as RQJob

    upload = upload_file(rq_app)
    job_id = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:blocking", pid_file=str(tmp_path / "x"),
                        path=upload)
    queue = queue_of(rq_app)
    rq_job = RQJob.fetch(job_id, connection=queue.connection)
    queue.remove(rq_job)
    with queue.connection.pipeline() as pipe:  # as a worker marks a job it started, then vanished
        rq_job.set_status("started", pipeline=pipe)
        pipe.hset(rq_job.key, "worker_name", "gone-worker")
        pipe.execute()
    from app.jobs import _update

    with rq_app.app_context():
        _update(job_id, status="running")
    return job_id, upload


def test_restarted_worker_fails_what_its_dead_predecessor_left(rq_app, world, tmp_path):
    """`flask cme worker` reaps before it works: what a crashed worker left running ends failed."""
    job_id, upload = orphan(rq_app, tmp_path)
    env = dict(os.environ, CME_CONFIG="development", FLASK_APP="run.py",
               DATABASE_URL=rq_app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=rq_app.config["REDIS_URL"],
               JOB_FILES_DIR=rq_app.config["JOB_FILES_DIR"])
    done = subprocess.run([sys.executable, "-m", "flask", "cme", "worker", "--burst", "--queue",
                           rq_app.config["RQ_QUEUE"]], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f"任务 {job_id} 的进程已终止，已标记为失败" in done.stderr
    assert job_row(rq_app, job_id)[::3] == ("failed", reaper.WORKER_DIED)
    assert not os.path.exists(upload)


def test_job_lost_from_the_queue_fails_but_a_fresh_one_waits(rq_app, world):
    from app.extensions import db
    from app.models import Job

    old = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:counting", n=1)
    fresh = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:counting", n=1)
    queue = queue_of(rq_app)
    for job_id in (old, fresh):  # Redis lost them (restarted without persistence)
        queue.fetch_job(job_id).delete()
    with rq_app.app_context():
        db.session.get(Job, old).created_at = datetime.datetime.now() - datetime.timedelta(minutes=5)
        db.session.commit()
        assert reaper.reap() == [old]
    assert job_row(rq_app, old)[::3] == ("failed", reaper.LOST_IN_QUEUE)
    assert job_row(rq_app, fresh)[0] == "queued"  # just committed, its enqueue may still be on the way


def test_in_process_job_past_the_timeout_fails(app, world):
    from app.extensions import db
    from app.models import Job

    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username="inst_a").id
        now = datetime.datetime(2026, 12, 6, 10, 0)
        db.session.add_all([
            Job(id="stale", kind="t", user_id=user_id, status="running", created_at=now - datetime.timedelta(hours=2)),
            Job(id="young", kind="t", user_id=user_id, status="running", created_at=now - datetime.timedelta(minutes=5)),
        ])
        db.session.commit()
        assert reaper.reap(now=now) == ["stale"]
    assert job_row(app, "stale")[::3] == ("failed", reaper.TIMED_OUT)
    assert job_row(app, "young")[0] == "running"


def test_redis_down_fails_the_import_removes_its_upload_and_says_so(app, world, login, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    with app.app_context():
        from app.services.uploads import upload_folder

        folder = upload_folder()
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    c = login("inst_a")
    r = c.post("/persons/import/", data={"file": (xlsx_bytes(GOOD, COLUMNS), "人员.xlsx")},
               content_type="multipart/form-data")
    assert r.status_code == 302
    job_id = r.headers["Location"].rsplit("=", 1)[1]
    assert job_row(app, job_id)[::3] == ("failed", reaper.QUEUE_DOWN)
    assert (set(os.listdir(folder)) if os.path.isdir(folder) else set()) == before  # no upload left behind
    status = c.get(f"/jobs/{job_id}/status").get_json()
    assert (status["status"], status["has_file"]) == ("failed", False)
    assert "上传的文件已删除" in status["message"]


def test_queued_jobs_without_a_worker_are_a_stuck_todo(rq_app, world, login):
    job_id = enqueue_as(rq_app, "inst_a", "tests.jobs.sample_jobs:counting", n=1)
    assert job_row(rq_app, job_id)[0] == "queued"
    c = login("inst_a")
    todos = re.search(r'id="todo-list">(.*?)</ul>', c.get("/").get_data(as_text=True), re.DOTALL).group(1)
    assert "1 个后台任务排队等待，但后台任务进程未运行，请联系管理员" in todos
    assert "正在执行" not in todos


@pytest.mark.parametrize("with_report", [True, False])
def test_failed_job_todo_mentions_a_report_only_when_there_is_one(app, world, login, tmp_path, with_report):
    upload = tmp_path / "x.xlsx"
    rows = [GOOD[0][:2] + ["123"] + GOOD[0][3:]] if with_report else []
    upload.write_bytes(xlsx_bytes(rows, COLUMNS).getvalue())
    job_id = enqueue_as(app, "inst_a", "app.jobs.people:import_persons", path=str(upload))
    assert job_row(app, job_id)[0] == "failed"
    todos = re.search(r'id="todo-list">(.*?)</ul>', login("inst_a").get("/").get_data(as_text=True),
                      re.DOTALL).group(1)
    assert "1 个后台任务失败，请在“我的任务”中查看原因" in todos
    assert ("（1 个有错误报告可下载）" in todos) is with_report


def test_flask_cme_check_reaps_too(rq_app, world, tmp_path):
    job_id, upload = orphan(rq_app, tmp_path)
    result = rq_app.test_cli_runner().invoke(args=["cme", "check"])
    assert f"任务 {job_id} 的进程已终止，已标记为失败" in result.output
    assert job_row(rq_app, job_id)[::3] == ("failed", reaper.WORKER_DIED)
    assert not os.path.exists(upload)


def test_worker_maintenance_reaps_every_minute(rq_app, world, tmp_path):
    """A running worker's periodic maintenance (app/worker.py) fails the jobs of another, dead worker."""
    from app.worker import CmeWorker

    job_id, upload = orphan(rq_app, tmp_path)
    queue = queue_of(rq_app)
    with rq_app.app_context():
        worker = CmeWorker([queue], connection=queue.connection, maintenance_interval=60)
        worker.run_maintenance_tasks()
    assert job_row(rq_app, job_id)[::3] == ("failed", reaper.WORKER_DIED)
    assert not os.path.exists(upload)
