"""The ``clock`` fixture moves every clock the app reads: ``datetime.now``/``date.today`` in services and
views, the column defaults bound at import (``default=datetime.datetime.now``), and the request handlers
of the test client — so a time-dependent test gives the same answer at any hour of any day."""
from __future__ import annotations

import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import LoginLog, Notice
from tests.conftest import FIXED_NOW


def test_clock_moves_services_column_defaults_and_requests(app, world, clock, client):
    at = datetime.datetime(2026, 10, 31, 23, 59, 30)
    assert clock.at(at) == at
    assert datetime.datetime.now() == at and datetime.date.today() == at.date()
    with app.app_context():
        db.session.add(Notice(title="通知", content="内容"))  # created_at: default=datetime.datetime.now
        db.session.commit()
        assert db.session.scalar(select(Notice.created_at)) == at
    client.post("/login/", data={"username": "inst_a", "password": "wrong"})  # logged by the request
    with app.app_context():
        assert db.session.scalar(select(LoginLog.created_at).where(LoginLog.username == "inst_a")) == at


def test_clock_defaults_to_the_fixed_instant_and_ticks_on_request(clock):
    assert clock.at() == FIXED_NOW and datetime.datetime.now() == FIXED_NOW
    clock.at(FIXED_NOW, tick=True)
    assert FIXED_NOW <= datetime.datetime.now() < FIXED_NOW + datetime.timedelta(minutes=1)
    clock.stop()
    assert datetime.datetime.now() > FIXED_NOW + datetime.timedelta(days=1)  # the real clock again
