"""Fixtures of the race tests (tests/concurrency): extra users so two different people race, and
``clients`` — N logged-in test clients made before the race starts (logging in is not part of it)."""
from __future__ import annotations

import pytest

from tests import helpers


@pytest.fixture
def add_user(app):
    """``add_user("inst_a_2", roles.INSTITUTION_ADMIN, org_id=world.a)`` → a second user of a unit."""
    def _add(username: str, role: str, *, org_id: int | None = None, person_id: int | None = None) -> str:
        from app.cli import add_user as cli_add_user
        from app.extensions import db
        from app.models import Org, Person

        with app.app_context():
            kw = {}
            if org_id is not None:
                kw["org"] = db.session.get(Org, org_id)
            if person_id is not None:
                kw["person"] = db.session.get(Person, person_id)
            cli_add_user(username, role, last_name=username, first_name="", password=helpers.PASSWORD, **kw)
            db.session.commit()
            db.session.remove()
        return username

    return _add


@pytest.fixture
def clients(login):
    """``clients("inst_a", "inst_a_2")`` → one logged-in client per username, in order."""
    def _clients(*usernames: str):
        return [login(u) for u in usernames]

    return _clients
