"""The RQ tests' app: REDIS_URL set for one test, on a queue of its own."""
from __future__ import annotations

import uuid

import pytest

from tests.helpers import forget_rq_queue


@pytest.fixture
def rq_app(app, redis_url):
    """The app with REDIS_URL set for this test only, and an empty queue."""
    saved = app.config.get("REDIS_URL"), app.config["RQ_QUEUE"]
    # A queue of its own: other test sessions may use this Redis database at the same time.
    app.config["REDIS_URL"], app.config["RQ_QUEUE"] = redis_url, f"cme-test-{uuid.uuid4().hex[:12]}"
    from tests.jobs.test_rq import queue_of

    queue = queue_of(app)
    try:
        yield app
    finally:
        forget_rq_queue(queue)  # its registries never expire: nothing of the test stays in Redis
        app.config["REDIS_URL"], app.config["RQ_QUEUE"] = saved
    assert (app.config.get("REDIS_URL"), app.config["RQ_QUEUE"]) == (None, "cme")
