"""Operations (issue 12 items 2 and 6): /healthz and `flask cme check`, error pages without a database,
the pool's pre-ping after a database restart, and a worker that exits non-zero when Redis forgets it
(systemd's Restart=always then starts a fresh one)."""
from __future__ import annotations

import datetime
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest
from sqlalchemy.engine import make_url

from tests import conftest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_MARKERS = ("testing-secret", "password", "postgresql://", "sqlite:///", "redis://")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def rq_queue(app, redis_url, monkeypatch):
    """REDIS_URL on and a queue of this test's own; its worker keys removed afterwards."""
    name = f"health-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "RQ_QUEUE", name)
    from redis import Redis
    from rq import Queue

    queue = Queue(name, connection=Redis.from_url(redis_url))
    yield queue
    from rq import Worker

    for worker in Worker.all(queue=queue):
        worker.register_death()
        queue.connection.delete(worker.key)
    queue.connection.delete(f"rq:workers:{name}")
    queue.delete(delete_jobs=True)


def _json(response):
    text = response.get_data(as_text=True)
    for marker in SECRET_MARKERS:
        assert marker not in text, marker
    return response.get_json()


def test_healthz_without_redis_is_ok_and_shows_no_secret(app, client):
    r = client.get("/healthz")
    body = _json(r)
    assert r.status_code == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "worker", "disk"}
    assert body["checks"]["redis"]["ok"] and "进程内" in body["checks"]["redis"]["message"]
    assert body["checks"]["database"]["detail"]["dialect"] == make_url(
        app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    assert r.headers["Cache-Control"] == "no-store"


def test_healthz_follows_the_worker_heartbeat(app, client, rq_queue):
    from rq import Worker

    r = client.get("/healthz")
    body = _json(r)
    assert r.status_code == 503 and body["status"] == "fail"
    assert body["checks"]["redis"]["ok"] and not body["checks"]["worker"]["ok"]
    assert "没有正在运行的后台 worker" in body["checks"]["worker"]["message"]

    worker = Worker([rq_queue], connection=rq_queue.connection, name=f"w-{uuid.uuid4().hex[:6]}")
    worker.register_birth()
    r = client.get("/healthz")
    assert r.status_code == 200, r.get_json()
    assert _json(r)["checks"]["worker"]["detail"]["workers"] == 1

    # A worker whose last heartbeat is older than WORKER_TTL + 30 s is dead (kill -9, machine frozen).
    stale = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=app.config["WORKER_TTL"] + 31)
    rq_queue.connection.hset(worker.key, "last_heartbeat", stale.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    r = client.get("/healthz")
    assert r.status_code == 503 and not _json(r)["checks"]["worker"]["ok"]


def test_healthz_reports_redis_down_and_low_disk(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")
    r = client.get("/healthz")
    body = _json(r)
    assert r.status_code == 503
    assert not body["checks"]["redis"]["ok"] and "Redis 无法连接" in body["checks"]["redis"]["message"]
    assert not body["checks"]["worker"]["ok"]
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "HEALTH_MIN_FREE_MB", 10**12)
    r = client.get("/healthz")
    body = _json(r)
    assert r.status_code == 503 and not body["checks"]["disk"]["ok"] and body["checks"]["database"]["ok"]
    assert "剩余空间不足" in body["checks"]["disk"]["message"]


def test_check_command_prints_the_same_checks(app, rq_queue):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["cme", "check"])
    assert result.exit_code == 1
    assert "[正常 OK  ] database" in result.output and "[异常 FAIL] worker" in result.output
    assert "有检查项异常" in result.output
    from rq import Worker

    Worker([rq_queue], connection=rq_queue.connection, name=f"w-{uuid.uuid4().hex[:6]}").register_birth()
    result = runner.invoke(args=["cme", "check"])
    assert result.exit_code == 0, result.output
    assert "[正常 OK  ] worker" in result.output and "全部正常 (all checks passed)" in result.output


@pytest.fixture
def app_without_database(tmp_path):
    """The app on a PostgreSQL address where nothing listens (the database is down)."""
    from app import create_app

    application = create_app("testing", SQLALCHEMY_DATABASE_URI=f"postgresql://cme@127.0.0.1:{_free_port()}/cme",
                             JOB_FILES_DIR=str(tmp_path / "jobs"))

    @application.route("/boom")
    def boom():
        from sqlalchemy import text

        from app.extensions import db

        db.session.execute(text("SELECT 1"))  # raises: the database is unreachable
        return "unreachable"

    return application


def test_error_pages_render_with_the_database_unreachable(app_without_database):
    application = app_without_database
    application.config["PROPAGATE_EXCEPTIONS"] = False
    client = application.test_client()
    with client.session_transaction() as session:  # a signed-in user: loading it needs the database
        session["_user_id"] = "1"
    r = client.get("/boom")
    html = r.get_data(as_text=True)
    assert r.status_code == 500 and "系统内部错误，请稍后重试或联系管理员" in html and "<!DOCTYPE html>" in html
    assert "Traceback" not in html and "OperationalError" not in html
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面或数据不存在" in r.get_data(as_text=True)
    r = client.get("/healthz")
    body = r.get_json()
    assert r.status_code == 503 and not body["checks"]["database"]["ok"]
    assert "数据库无法连接" in body["checks"]["database"]["message"]


def test_first_request_after_a_database_restart_is_served(app, backend, world, login):
    """The pool's connections die with a restart (here: every backend of the database terminated);
    pool_pre_ping replaces them, so the next page is a 200, not a 500."""
    if backend != "postgresql":
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
        return
    import psycopg2

    from app.extensions import db

    client = login("city")
    assert client.get("/").status_code == 200
    # In production every request ends its app context and gives the connection back to the pool;
    # under pytest-flask the requests share the test's context: give it back as a request's end does.
    db.session.remove()
    name = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    admin = psycopg2.connect(conftest.PG_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        assert cur.fetchone()[0] >= 1
    admin.close()
    assert client.get("/").status_code == 200


# ------------------------------------------------------------------------------------------ worker
@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own (it is stopped and started again)."""
    binary = shutil.which("redis-server")
    if binary is None:
        conftest.missing("redis-server")
    port = _free_port()
    procs = []

    def start():
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(tmp_path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return proc
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop():
        procs[-1].terminate()
        procs[-1].wait(10)

    start()
    yield type("PrivateRedis", (), {"url": f"redis://127.0.0.1:{port}/0", "start": staticmethod(start),
                                    "stop": staticmethod(stop)})
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _worker(_apps, redis_url, tmp_path):
    app = _apps("sqlite")  # the worker's database is only read by the reaper here
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CME_CONFIG")}
    env.update(FLASK_APP="run.py", CME_CONFIG="development", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               REDIS_URL=redis_url, JOB_FILES_DIR=str(tmp_path / "jobs"), WORKER_TTL="20", PYTHONUNBUFFERED="1")
    log = open(tmp_path / "worker.log", "w+")  # noqa: SIM115 - read after the process ends
    proc = subprocess.Popen([os.path.join(ROOT, ".venv", "bin", "flask"), "cme", "worker"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    return proc, log


def _wait_registered(url: str, seconds: float = 60) -> None:
    from redis import Redis

    connection = Redis.from_url(url)
    deadline = time.monotonic() + seconds
    # Registered and idle: RQ installs its SIGTERM handler after registering, before it first waits
    # for a job (a SIGTERM in between is the default one: exit -15).
    while time.monotonic() < deadline:
        keys = connection.smembers("rq:workers:cme")
        if keys and all(connection.hget(key, "state") == b"idle" for key in keys):
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not register")


def _output(log) -> str:
    log.seek(0)
    return log.read()


def test_worker_exits_non_zero_when_redis_comes_back_empty(_apps, private_redis, tmp_path):
    proc, log = _worker(_apps, private_redis.url, tmp_path)
    try:
        _wait_registered(private_redis.url)
        private_redis.stop()  # restarted without its data: the worker's registration is gone
        private_redis.start()
        assert proc.wait(60) == 1, _output(log)[-3000:]
        assert "worker 意外停止" in _output(log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


def test_worker_stops_cleanly_when_asked(_apps, private_redis, tmp_path):
    proc, log = _worker(_apps, private_redis.url, tmp_path)
    try:
        _wait_registered(private_redis.url)
        proc.send_signal(signal.SIGTERM)  # systemctl stop
        assert proc.wait(60) == 0, _output(log)[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


def test_worker_exits_non_zero_when_redis_is_not_there(_apps, tmp_path):
    proc, log = _worker(_apps, f"redis://127.0.0.1:{_free_port()}/0", tmp_path)
    try:
        assert proc.wait(120) != 0, _output(log)[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()



def test_healthz_reports_a_recent_failed_file_write(app, client, clock):
    """Issue 13.4: a full or read-only disk is seen in /healthz, not only in the error log."""
    from app.extensions import db
    from app.models.logs import OperationLog
    from app.services import filestore

    clock.at(datetime.datetime(2026, 3, 18, 10, 30))
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        db.session.add(OperationLog(module=filestore.STORAGE_MODULE, action="写入", operator="inst_a",
                                    message="服务器存储空间不足，请联系管理员", status=False,
                                    created_at=datetime.datetime(2026, 3, 18, 10, 0)))
        db.session.commit()
    r = client.get("/healthz")
    disk = _json(r)["checks"]["disk"]
    assert r.status_code == 503 and not disk["ok"] and "写入文件失败" in disk["message"]
    assert disk["detail"]["last_storage_error_at"] == "2026-03-18T10:00:00"
    clock.at(datetime.datetime(2026, 3, 18, 11, 1))  # an hour later, with space back: ok again, time still shown
    r = client.get("/healthz")
    assert r.status_code == 200 and _json(r)["checks"]["disk"]["detail"]["last_storage_error_at"]
