"""RQ workers for tests: RQ's own classes with the prompt stop of the app's worker (app.worker)."""
from __future__ import annotations

from rq import SimpleWorker, Worker

from app.worker import CmeWorker


class QuickSimpleWorker(SimpleWorker):
    """Runs jobs in this process; stops within a second when its burst ends."""

    subscribe = CmeWorker.subscribe


class PlainWorker(Worker):
    """A bare `rq worker` (no app context), only stopping within a second."""

    subscribe = CmeWorker.subscribe
