"""Test fixtures: the app on SQLite and on PostgreSQL, a small two-district world, logins.

Every test that uses ``app`` (or ``client`` / ``world``) runs once per database backend.
PostgreSQL, Redis and Chromium are used when reachable; when they are not, their tests are
skipped with a plain reason — unless CME_REQUIRE_ALL=1 (set by .ci/run), which turns those
skips into failures.

Time: a test whose outcome depends on the hour or the day takes its clock from the ``clock`` fixture
(a fixed instant, time-machine moves ``datetime.now``/``date.today``/``time.time`` of this process,
the live server thread of the browser tests included). ``CME_TEST_NOW="2026-10-31 23:59"`` runs a
whole session at that instant (ticking), to look for tests that still depend on the real clock.
"""
from __future__ import annotations

import datetime
import os
import shutil
import socket
import tempfile
import uuid
from types import SimpleNamespace

import pytest
import time_machine

from tests import helpers

REQUIRE_ALL = os.environ.get("CME_REQUIRE_ALL") == "1"
PG_ADMIN_URL = os.environ.get("CME_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CME_TEST_REDIS", "redis://127.0.0.1:6379/15")


# The instant time-dependent tests run at unless they choose another: a Wednesday morning in the
# middle of the 2026 credit year (11-01 … 10-31), after the shipped Beijing 2025 rule set came into force.
FIXED_NOW = datetime.datetime(2026, 3, 18, 10, 30)


def _local(when: datetime.datetime) -> datetime.datetime:
    """time-machine reads a naive destination as UTC; the app's naive datetimes are local time."""
    return when.astimezone() if when.tzinfo is None else when


def pytest_configure(config):
    forced = os.environ.get("CME_TEST_NOW")
    if forced:
        traveller = time_machine.travel(_local(datetime.datetime.fromisoformat(forced)), tick=True)
        traveller.start()
        config._cme_forced_clock = traveller


def pytest_xdist_make_scheduler(config, log):
    """``--dist load`` (pytest.ini): every test is handed out alone, so both workers finish together,
    except that a browser module runs whole on one worker, in order, on the world its module fixture
    made; the modules go first (scopes with most tests first). (``loadgroup`` ignores xdist_group
    markers with pytest 9 here.)"""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserModulesWhole(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.startswith("tests/browser/") else nodeid

    return BrowserModulesWhole(config, log)


class Clock:
    """``clock.at(datetime)`` moves this process's clock there (frozen unless ``tick=True``);
    the test ends on the real clock again. ``clock.at()`` alone is ``FIXED_NOW``."""

    def __init__(self):
        self._travel = None

    def at(self, when: datetime.datetime | None = None, tick: bool = False) -> datetime.datetime:
        self.stop()
        when = when or FIXED_NOW
        self._travel = time_machine.travel(_local(when), tick=tick)
        self._travel.start()
        return when

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()
            self._travel = None


@pytest.fixture
def clock():
    c = Clock()
    yield c
    c.stop()


def missing(what: str) -> None:
    """Skip, or fail under CME_REQUIRE_ALL=1, because a service is not available."""
    message = f"{what} 不可用，已跳过 (skipped: {what} not available)"
    if REQUIRE_ALL:
        pytest.fail("CME_REQUIRE_ALL=1: " + message)
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_stale_pg_databases(cur) -> None:
    """Drop the cme_test_<pid>_* databases of test processes that are gone (a crashed or killed
    worker never reached its teardown); those of live sessions running side by side stay."""
    cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'cme\\_test\\_%'")
    for (name,) in cur.fetchall():
        parts = name.split("_")
        if len(parts) == 4 and parts[2].isdigit() and not _pid_alive(int(parts[2])):
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_pg_database() -> str:
    import psycopg2
    from sqlalchemy.engine import make_url

    name = f"cme_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        _drop_stale_pg_databases(cur)
        cur.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        # thrown away after the run: a commit need not wait for the WAL to reach the disk
        cur.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    conn.close()
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    import psycopg2
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    conn = psycopg2.connect(PG_ADMIN_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not _port_open("127.0.0.1", 5432):
        missing("PostgreSQL (127.0.0.1:5432)")
    return request.param


@pytest.fixture(scope="session")
def _apps(tmp_path_factory):
    """One app per backend for the whole session, built on first use and dropped at the end.

    ``app`` depends on the session-scoped ``backend`` parameter, so pytest tears ``app`` down
    whenever the backend changes — with pytest-xdist's --dist loadfile that is at every test
    file (each file runs its SQLite tests, then its PostgreSQL ones). Building the app (migrations,
    permissions, dictionaries) at each switch cost 10–30 s per file; the cache builds it once per
    backend and worker, as a single-process run always did."""
    from app import create_app
    from app.cli import init_database
    from app.extensions import db

    built: dict[str, object] = {}
    pg_urls: list[str] = []

    def get(backend: str):
        if backend not in built:
            folder = tmp_path_factory.mktemp(f"app-{backend}")
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'test.db'}"
            else:
                url = _create_pg_database()
                pg_urls.append(url)
            application = create_app("testing", SQLALCHEMY_DATABASE_URI=url, JOB_FILES_DIR=str(folder / "jobs"),
                                     JOBS_SYNC=True)
            no_fsync(application)
            with application.app_context():
                init_database()
            built[backend] = application
        return built[backend]

    yield get
    for application in built.values():
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
    for url in pg_urls:
        _drop_pg_database(url)


def no_fsync(application) -> None:
    """A test's SQLite file is thrown away: commits need not wait for the disk (~3 ms each, 600 for the
    app's first build alone). Other processes (workers) still see each commit at once."""
    from sqlalchemy import event

    from app.extensions import db

    with application.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA synchronous=OFF"))
            engine.dispose()


@pytest.fixture(scope="session")
def app(backend, _apps):
    return _apps(backend)


@pytest.fixture(autouse=True)
def _clean_data(request):
    """Empty the data tables after each test that used the app (roles and permissions stay), and forget
    this process's last failed file write (services/filestore keeps it for /healthz) and the menus and
    search forms rendered per role set (services/ttl_cache: a test may have changed roles or choices by SQL)."""
    yield
    from app.services import filestore, ttl_cache

    filestore._last.clear()
    ttl_cache.clear_all()
    if "app" in request.fixturenames:
        application = request.getfixturevalue("app")
        with application.app_context():
            helpers.reset_data()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    with app.test_client() as c:
        yield c


@pytest.fixture
def world(app):
    with app.app_context():
        return helpers.build_world()


@pytest.fixture
def login(app):
    """``login("username")`` → a logged-in test client (a fresh one per call)."""
    def _login(username: str, password: str = helpers.PASSWORD):
        c = app.test_client()
        r = c.post("/login/", data={"username": username, "password": password})
        assert r.status_code == 302, f"login of {username} failed"
        return c

    return _login


@pytest.fixture(scope="session")
def redis_url():
    if not _port_open("127.0.0.1", 6379):
        missing("Redis (127.0.0.1:6379)")
    # No flushdb: test sessions may run side by side on this Redis database; each RQ test
    # uses a queue of its own (tests/jobs/conftest.py) and removes it afterwards.
    _forget_stale_test_queues(REDIS_URL)
    return REDIS_URL


def _forget_stale_test_queues(url: str, idle_seconds: int = 600) -> None:
    """What a killed test session left of its cme-test-* queues (untouched for 10 minutes; a test
    queue lives for one test) goes."""
    from redis import Redis

    conn = Redis.from_url(url)
    stale = set()
    for key in conn.scan_iter(match="rq:*", count=1000):
        name = key.decode(errors="replace")
        if "cme-test-" not in name and not name.startswith(("rq:job:", "rq:results:", "rq:executions:")):
            continue
        if (conn.object("idletime", key) or 0) < idle_seconds:
            continue
        if name.startswith("rq:job:") and not (conn.hget(key, "origin") or b"").startswith(b"cme-test-"):
            continue
        if name.startswith(("rq:results:", "rq:executions:")) and conn.exists("rq:job:" + name.split(":")[2]):
            continue  # goes with its job
        stale.add(key)
    if stale:
        conn.delete(*stale)
    conn.close()


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("CME_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.exists(path) or shutil.which(path)):
        missing(f"Chromium ({path})")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing("Playwright Python package")
    return path


@pytest.fixture
def tmpdir_path():
    path = tempfile.mkdtemp()
    yield path
    shutil.rmtree(path, ignore_errors=True)


__all__ = ["SimpleNamespace"]
