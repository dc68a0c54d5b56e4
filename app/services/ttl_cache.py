"""Values kept across requests for a while (issue 18): what Flask-AppBuilder renders on every page although
it changes only with the user's roles, scope and language — the navbar's menu (views/menu_cache.py) and a
list's search form (views/search_cache.py) — and the home page's city-wide summaries (services/dashboard.py).

A ``TtlCache`` keeps values per key for ``ttl`` seconds (at most ``max_entries``; the oldest go first).
Each cache says which changes make it stale: ``stale_when(classes)`` is asked with the mapped classes of the
objects each flush writes and of each ORM bulk UPDATE / DELETE / INSERT (``session.execute(update(Model)…)``,
``query.update()``); SQL on plain tables marks a cache by name (``mark_stale(session, name)``). The commit
empties the cache in this process at once; other worker processes see the change within ``ttl``.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

_caches: list[TtlCache] = []


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
    for cache in session.info.pop("cme_stale_caches", ()):
        cache.clear()


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
