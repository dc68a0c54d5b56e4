"""Values kept across requests for a while (issue 18): what Flask-AppBuilder renders on every page although
it changes only with the user's roles, scope and language — the navbar's menu (views/menu_cache.py) and a
list's search form (views/search_cache.py) — and the home page's city-wide summaries (services/dashboard.py).

A ``TtlCache`` keeps values per key for ``ttl`` seconds (at most ``max_entries``; the oldest go first).
Each cache says which changes make it stale: ``stale_when(classes)`` is asked with the mapped classes of the
objects each flush writes and of each ORM bulk UPDATE / DELETE / INSERT (``session.execute(update(Model)…)``,
``query.update()``); SQL on plain tables marks a cache by name (``mark_stale(session, name)``). The commit
empties the cache in this process at once. Other worker processes: with Redis (``share_through``, the app's
REDIS_URL) the commit also bumps the cache's generation in a Redis hash, and every process compares the
generations at most once a second when it reads a cache — a change shows in every worker within about a
second. Without Redis (or while it is unreachable) a value lives at most ``ttl`` in the other processes.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_caches: list[TtlCache] = []
log = logging.getLogger(__name__)
SYNC_SECONDS = 1.0  # how often a process compares its caches' generations with Redis (at most)
RETRY_SECONDS = 10.0  # after a Redis error, the next try


class _Shared:
    """The generations of the caches in Redis (one hash per app namespace), and what this process last saw."""

    def __init__(self) -> None:
        self.redis: Any = None
        self.key = ""
        self.seen: dict[str, int] = {}
        self.next_sync = 0.0
        self.down_until = 0.0
        self.lock = threading.Lock()

    def sync(self) -> None:
        """Clear each cache another process has bumped since this one last looked (at most once a second)."""
        if self.redis is None or time.monotonic() < self.next_sync or not self.lock.acquire(blocking=False):
            return
        try:
            try:
                generations = {k.decode(): int(v) for k, v in self.redis.hgetall(self.key).items()}
            except Exception as exc:  # noqa: BLE001 - Redis away: the caches' ttl bounds staleness meanwhile
                log.warning("cache generations not read from Redis: %s", exc)
                self.next_sync = time.monotonic() + RETRY_SECONDS
                return
            for cache in _caches:
                generation = generations.get(cache.name, 0)
                if self.seen.get(cache.name, 0) != generation:
                    cache.clear()
                    self.seen[cache.name] = generation
            self.next_sync = time.monotonic() + SYNC_SECONDS
        finally:
            self.lock.release()

    def bump(self, names: set[str]) -> None:
        """Tell the other processes: these caches changed (this process has cleared its own). After a Redis
        error no commit waits on Redis for RETRY_SECONDS."""
        if self.redis is None or not names or time.monotonic() < self.down_until:
            return
        try:
            pipe = self.redis.pipeline()
            for name in sorted(names):
                pipe.hincrby(self.key, name, 1)
            for name, generation in zip(sorted(names), pipe.execute()):
                # one step ahead of what this process saw: it cleared already; another process's bump in
                # between still differs and clears it at the next sync
                if self.seen.get(name, 0) == int(generation) - 1:
                    self.seen[name] = int(generation)
        except Exception as exc:  # noqa: BLE001 - the commit stands; other processes wait out the ttl
            log.warning("cache generations not bumped in Redis: %s", exc)
            self.down_until = time.monotonic() + RETRY_SECONDS


_shared = _Shared()


def share_through(redis_url: str | None, namespace: str = "cme") -> None:
    """Clear caches across processes through Redis (``None``: this process only). The app calls it at start."""
    _shared.redis = None
    _shared.seen = {}
    _shared.next_sync = _shared.down_until = 0.0
    if redis_url:
        from redis import Redis

        _shared.redis = Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _shared.key = f"{namespace}:cache-generations"


class TtlCache:
    def __init__(self, name: str, ttl: float, max_entries: int, stale_when: Callable[[set[type]], bool]):
        self.name = name
        self.ttl = ttl
        self.max_entries = max_entries
        self.stale_when = stale_when
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        _caches.append(self)

    def __len__(self) -> int:
        return len(self._entries)

    def _fresh(self, key: Hashable) -> tuple[float, Any] | None:
        _shared.sync()
        hit = self._entries.get(key)
        return hit if hit is not None and time.monotonic() - hit[0] < self.ttl else None

    def get(self, key: Hashable) -> Any | None:
        hit = self._fresh(key)
        return None if hit is None else hit[1]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def kept(self, session: Session | None, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value kept for ``key``, computed (and kept) when missing or expired. A session holding a
        change of what this cache keeps (flushed, not yet committed) reads through: it sees its own change."""
        if session is not None and self in session.info.get("cme_stale_caches", ()):
            return compute()
        hit = self._fresh(key)
        if hit is not None:  # (a kept None counts: the tuple is there)
            return hit[1]
        value = compute()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _mark(session: Session, classes: set[type]) -> None:
    stale = [cache for cache in _caches if cache.stale_when(classes)]
    if stale:
        session.info.setdefault("cme_stale_caches", []).extend(stale)


def _before_flush(session: Session, flush_context, instances) -> None:
    classes = {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)}
    if classes:
        _mark(session, classes)


def _bulk(state) -> None:
    """``do_orm_execute``: an ORM bulk UPDATE / DELETE / INSERT of a mapped class."""
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        _mark(state.session, {state.bind_mapper.class_})


def mark_stale(session: Session, name: str) -> None:
    """The cache called ``name`` is emptied when ``session`` commits (bulk SQL changed what it holds)."""
    session.info.setdefault("cme_stale_caches", []).extend(c for c in _caches if c.name == name)


def _after_commit(session: Session) -> None:
    stale = session.info.pop("cme_stale_caches", ())
    for cache in stale:
        cache.clear()
    _shared.bump({cache.name for cache in stale})


def _after_rollback(session: Session) -> None:
    session.info.pop("cme_stale_caches", None)


def install() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _bulk)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def clear_all() -> None:
    for cache in _caches:
        cache.clear()
