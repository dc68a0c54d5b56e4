"""Kept values (services/ttl_cache) are cleared by a committed change: in this process at once, and — with
Redis — in every other process within about a second (a generation per cache in a Redis hash), which a
second Python process proves here. Without Redis another process keeps a value for its ttl only."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pytest

from app.services import ttl_cache
from app.services.ttl_cache import TtlCache

PROBE = f"probe-{uuid.uuid4().hex[:8]}"
_probe = TtlCache(PROBE, 3600, 16, lambda classes: any(c.__name__ == "Probe" for c in classes))

OTHER_PROCESS = textwrap.dedent("""
    import sys
    from sqlalchemy import Column, Integer, create_engine
    from sqlalchemy.orm import Session, declarative_base

    from app.services import ttl_cache

    Base = declarative_base()

    class Probe(Base):
        __tablename__ = "probe"
        id = Column(Integer, primary_key=True)

    ttl_cache.TtlCache(sys.argv[3], 3600, 16, lambda classes: Probe in classes)
    ttl_cache.install()
    ttl_cache.share_through(sys.argv[1], sys.argv[2])
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Probe())
        session.commit()  # clears this process's cache and bumps its generation in Redis
""")


@pytest.fixture
def shared(redis_url):
    namespace = f"cme-test-{uuid.uuid4().hex[:12]}"
    ttl_cache.share_through(redis_url, namespace)
    yield redis_url, namespace
    ttl_cache._shared.redis.delete(f"{namespace}:cache-generations")
    ttl_cache.share_through(None)


def _other_process_commits(url: str, namespace: str) -> None:
    done = subprocess.run([sys.executable, "-c", OTHER_PROCESS, url, namespace, PROBE],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_commit_in_another_process_clears_this_ones_cache(shared):
    url, namespace = shared
    _probe.put("k", "old")
    assert _probe.get("k") == "old"
    _other_process_commits(url, namespace)
    assert int(ttl_cache._shared.redis.hget(f"{namespace}:cache-generations", PROBE)) == 1
    ttl_cache._shared.next_sync = 0  # a second later: the next read compares the generations
    assert _probe.get("k") is None
    _probe.put("k", "new")
    ttl_cache._shared.next_sync = 0
    assert _probe.get("k") == "new"  # nothing changed since: kept


def test_generations_are_read_at_most_once_a_second(shared):
    url, namespace = shared
    import time

    _probe.get("k")  # synced now
    _probe.put("k", "kept")
    _other_process_commits(url, namespace)  # (a new Python takes over a second: hold the clock of the sync)
    ttl_cache._shared.next_sync = time.monotonic() + ttl_cache.SYNC_SECONDS
    assert _probe.get("k") == "kept"  # within the second: Redis not asked yet
    ttl_cache._shared.next_sync = 0
    assert _probe.get("k") is None


def test_this_process_commit_bumps_and_keeps_its_own_later_values(shared, app, world):
    from app.extensions import db
    from app.models import Person

    url, namespace = shared
    cache = TtlCache(f"persons-{uuid.uuid4().hex[:6]}", 3600, 4,
                     lambda classes: any(c.__name__ == "Person" for c in classes))
    with app.app_context():
        cache.put("count", 1)
        db.session.get(Person, world.pa).phone = "13900000000"
        db.session.commit()
        assert cache.get("count") is None  # cleared here at once
        assert int(ttl_cache._shared.redis.hget(f"{namespace}:cache-generations", cache.name)) == 1
        cache.put("count", 2)
        ttl_cache._shared.next_sync = 0
        assert cache.get("count") == 2  # its own bump does not clear it again


def test_without_redis_only_this_process_is_cleared(app):
    ttl_cache.share_through(None)
    _probe.put("k", "v")
    ttl_cache._shared.next_sync = 0
    assert _probe.get("k") == "v" and ttl_cache._shared.redis is None


def test_redis_away_costs_one_try_then_commits_do_not_wait(app, world):
    """Redis unreachable: a commit clears this process's cache, logs, and the next commits within
    RETRY_SECONDS do not try Redis again (no page waits on a dead Redis)."""
    import time

    from app.extensions import db
    from app.models import Person

    ttl_cache.share_through("redis://127.0.0.1:1/0")  # nothing listens there
    tries = []
    pipeline = ttl_cache._shared.redis.pipeline
    ttl_cache._shared.redis.pipeline = lambda *a, **kw: tries.append(1) or pipeline(*a, **kw)
    try:
        cache = TtlCache(f"away-{uuid.uuid4().hex[:6]}", 3600, 4,
                         lambda classes: any(c.__name__ == "Person" for c in classes))
        with app.app_context():
            for phone in ("13900000001", "13900000002", "13900000003"):
                cache.put("count", 1)
                db.session.get(Person, world.pa).phone = phone
                db.session.commit()
                assert cache.get("count") is None  # this process's cache is cleared all the same
            assert len(tries) == 1 and ttl_cache._shared.down_until > time.monotonic()
    finally:
        ttl_cache.share_through(None)
