"""Per-request cost (issue 2 point 12): the signed-in user (roles, groups, organization) loads in one
query, permissions are never read from the database per check, and the person API lists a page
without one query per row — counted with a SQL listener."""
from __future__ import annotations

import re
from contextlib import contextmanager

from sqlalchemy import event

from tests import helpers


@contextmanager
def statements(app):
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _user_loading(seen: list[str]) -> list[str]:
    """Statements reading the user or its roles / groups / organization."""
    return [s for s in seen if re.search(r"\bFROM (ab_user|ab_role|ab_group|ab_user_role)\b", s)
            or re.search(r"FROM org WHERE org.id = ", s)]


def test_session_user_loads_in_one_query(app, world, login):
    c = login("inst_a")
    with statements(app) as seen:
        assert c.get("/persons/list/").status_code == 200
    loading = _user_loading(seen)
    assert len(loading) == 1, loading
    assert "ab_role" in loading[0] and "org" in loading[0]
    # No permission row is read for the checks of the page and its menu (built-in roles, in memory).
    assert not [s for s in seen if "ab_permission" in s], seen


def test_jwt_user_loads_in_one_query_and_api_rows_need_no_query_each(app, world, client):
    r = client.post("/api/v1/security/login", json={"username": "city", "password": helpers.PASSWORD,
                                                    "provider": "db"})
    headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    with statements(app) as seen:
        r = client.get("/api/v1/person/", headers=headers)
    assert r.status_code == 200 and len(r.get_json()["result"]) == 5
    assert len([s for s in seen if re.search(r"\bFROM ab_user\b", s)]) == 1, seen
    assert not [s for s in seen if re.search(r"FROM (ab_role, ab_user_role|ab_group)", s)], seen
    # The masked ID number comes with the page: no "SELECT … FROM person WHERE person.id = ?" per row.
    assert not [s for s in seen if re.search(r"FROM person WHERE person.id = ", s)], seen
    assert len(seen) <= 6, seen
    masked = {row["id_number_masked"] for row in r.get_json()["result"]}
    assert all(re.fullmatch(r"\d{4}\*{10}[\dX]{4}", m) for m in masked)
