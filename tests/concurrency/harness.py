"""A reusable race harness: N callers released together by a barrier, each on its own thread with
its own logged-in Flask test client (so its own app context, SQLAlchemy session and pooled
connection), against the real HTTP routes people click.

    pytestmark = PG_ONLY
    one, two = clients("inst_a", "inst_a_2")           # logged in before the race (conftest.py)
    rs = replies(race([lambda: post(one, url, PASS), lambda: post(two, url, FAIL)]))
    (won,), (lost,) = split(rs, lambda r: r.says("已审核"))   # no 500, exactly one winner
    assert lost.says("已由他人先", "当前状态为")               # the loser hears who decided first
    # …then the database: one log row, the winner's status, no second credit.

Every caller's result or exception is collected; nothing is swallowed. Wrap each race in
``repeat(5, once)``: a missing guard loses only some races, five make the test fail reliably (every
test here was seen failing with its guard removed). PostgreSQL only: SQLite serialises writers at
the file and does not show these races. Each thread's request pushes its own app context, so each
has its own SQLAlchemy session and pooled connection (the default pool of 5 + 10 is enough).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

# Every race test module: ``pytestmark = PG_ONLY`` — the conftest's ``backend`` fixture is
# parametrised over SQLite and PostgreSQL; these tests request the PostgreSQL app only.
PG_ONLY = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
TIMEOUT = 120  # seconds a whole race may take before the test fails (a deadlock, a hung request)


@dataclass
class Outcome:
    """One caller's result: ``value`` (what fn returned) or ``error`` (the exception it raised)."""

    index: int
    value: Any = None
    error: BaseException | None = None


@dataclass
class Reply:
    """An HTTP reply reduced to what a race asserts on: the status code, the flashed messages
    (category, text) the user would see on the next page, and the body."""

    status: int
    flashes: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    location: str = ""

    @property
    def text(self) -> str:
        return " ".join(m for _, m in self.flashes) + " " + self.body

    def says(self, *parts: str) -> bool:
        return all(p in self.text for p in parts)


def race(calls: Sequence[Callable[[], Any]], timeout: float = TIMEOUT) -> list[Outcome]:
    """Run every call on its own thread, all released at the same instant by a barrier; returns
    one Outcome per call, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome(i) for i in range(len(calls))]

    def run(i: int, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            outcomes[i].value = fn()
        except BaseException as exc:  # noqa: BLE001 — collected and re-raised by the test
            outcomes[i].error = exc

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    hung = [i for i, t in enumerate(threads) if t.is_alive()]
    assert not hung, f"race callers {hung} still running after {timeout}s (deadlock?)"
    errors = [o for o in outcomes if o.error is not None]
    if errors:
        raise AssertionError(f"race caller {errors[0].index} raised") from errors[0].error
    return outcomes


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as s:
        return [(c, str(m)) for c, m in s.pop("_flashes", [])]


def post(client, url: str, data: dict | None = None, **kw) -> Reply:
    """POST as a browser form would (no redirect followed); the flashes are read off the session."""
    r = client.post(url, data=data or {}, **kw)
    body = r.get_data(as_text=True) if r.status_code != 302 else ""
    return Reply(r.status_code, _flashes(client), body, r.headers.get("Location", ""))


def get(client, url: str) -> Reply:
    r = client.get(url)
    return Reply(r.status_code, _flashes(client), r.get_data(as_text=True), r.headers.get("Location", ""))


def replies(outcomes: list[Outcome]) -> list[Reply]:
    return [o.value for o in outcomes]


def no_server_error(rs: list[Reply]) -> None:
    assert all(r.status < 500 for r in rs), [(r.status, r.body[:300]) for r in rs]


def split(rs: list[Reply], won: Callable[[Reply], bool]) -> tuple[list[Reply], list[Reply]]:
    """(winners, losers) by ``won``; asserts there is no 500 and exactly one winner."""
    no_server_error(rs)
    winners = [r for r in rs if won(r)]
    losers = [r for r in rs if not won(r)]
    assert len(winners) == 1, f"expected exactly one winner, got {len(winners)}: {[r.flashes for r in rs]}"
    return winners, losers


def repeat(times: int, once: Callable[[int], None]) -> None:
    """Run a race ``times`` times (a missing guard loses only some races; five make it fail reliably)."""
    for i in range(times):
        once(i)
