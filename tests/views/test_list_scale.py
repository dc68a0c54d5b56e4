"""Lists at city scale (issue 18): statements per page do not grow with the rows (no N+1), the REST
list's count is capped and its keyset cursor walks every row once, deep pages stop at the cap."""
from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from tests import helpers
from tests.conftest import FIXED_NOW
from tests.credit_helpers import D, credit, seed_credits


@pytest.fixture
def credits(app, world):
    with app.app_context():
        return seed_credits(world)


def _statements(app, client, url: str) -> list[str]:
    """The SQL statements one GET of ``url`` sends (an engine listener), after a warm-up GET."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    assert client.get(url).status_code == 200, url
    sent: list[str] = []

    def listener(conn, cursor, statement, *args):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, url
    return sent


def _spread(app, world, n: int, start: int) -> None:
    """``n`` more persons of 甲医院, each in a department of its own, each with a credit and a
    compliance result: rows whose persons and organizations all differ (an N+1 shows)."""
    from app.extensions import db
    from app.models import ComplianceResult, Org, RuleSet

    with app.app_context():
        inst = db.session.get(Org, world.a)
        rule_set_id = db.session.scalar(select(RuleSet.id).order_by(RuleSet.id))
        assert rule_set_id is not None
        for i in range(start, start + n):
            dept = Org(kind="department", name=f"规模科{i}", code=f"TS{i:03d}", parent=inst)
            db.session.add(dept)
            db.session.flush()
            person = helpers.add_person(inst, dept, f"规模{i}", f"S{i:07d}")
            credit(person.id, 2, D(2025, 3, 1) + datetime.timedelta(days=i), content=f"规模活动{i}")
            db.session.add(ComplianceResult(
                person_id=person.id, year=2099, rule_set_id=rule_set_id, district_id=person.district_id,
                institution_id=person.institution_id, department_id=person.department_id,
                title_level="中级", total=Decimal(2), required=Decimal(25), met=False))
        db.session.commit()
        db.session.remove()


def _home_rows(app, world, user: str, n: int) -> None:
    """``n`` more of what the home page lists for ``user``: failed jobs and notices."""
    from app.extensions import db
    from app.models import CmeUser, Job, Notice

    with app.app_context():
        user_id = db.session.scalar(select(CmeUser.id).where(CmeUser.username == user))
        for i in range(n):
            db.session.add(Job(id=str(uuid.uuid4()), kind="export", title=f"导出{i}", user_id=user_id,
                               status="failed", created_at=FIXED_NOW))  # counted by one statement, any age
            db.session.add(Notice(title=f"通知{uuid.uuid4().hex[:6]}", content="正文", published=True))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("user", ["city", "inst_a"])
def test_statements_per_page_do_not_grow_with_the_rows(app, world, login, user):
    """1 row against 30 rows of different persons and departments: the same statements, for the
    compliance list, the credit list, the credit API list and the home page."""
    urls = ["/compliance/list/?_flt_0_year=2099", "/credits/list/?_flt_0_content=规模",
            "/api/v1/credit/?q=(page_size:50)", "/"]
    _spread(app, world, 1, 0)
    _home_rows(app, world, user, 1)
    c = login(user)
    one = {url: _statements(app, c, url) for url in urls}
    _spread(app, world, 29, 1)
    _home_rows(app, world, user, 29)
    thirty = {url: _statements(app, c, url) for url in urls}
    for url in urls:
        assert len(thirty[url]) == len(one[url]), (url, len(one[url]), len(thirty[url]), thirty[url])
    # The rows really are there: 30 persons on the compliance page, 30 credits in the API answer.
    html = c.get("/compliance/list/?_flt_0_year=2099").get_data(as_text=True)
    assert len(set(re.findall(r"规模科\d+", html))) == 20  # a full first page, 20 departments
    assert c.get("/api/v1/credit/?q=(page_size:50)").get_json()["count"] >= 30


def test_compliance_page_names_its_organizations_in_one_query(app, world, login):
    _spread(app, world, 25, 0)
    c = login("city")
    sent = _statements(app, c, "/compliance/list/?_flt_0_year=2099")
    org_lookups = [s for s in sent if "FROM org" in s and "org.name" in s]
    assert len(org_lookups) == 1, org_lookups
    html = c.get("/compliance/list/?_flt_0_year=2099").get_data(as_text=True)
    assert "规模科24" in html and "甲医院" in html


def test_api_count_is_capped_and_the_cursor_walks_every_row_once(app, world, credits, login, monkeypatch):
    from app.extensions import db
    from app.models import Credit
    from app.views import scale

    _spread(app, world, 12, 0)
    with app.app_context():
        everything = set(db.session.scalars(select(Credit.id)))
        in_a = set(db.session.scalars(select(Credit.id).where(Credit.institution_id == world.a)))
    c = login("city")
    body = c.get("/api/v1/credit/").get_json()
    assert body["count"] == len(everything) and body["count_capped"] is False

    monkeypatch.setattr(scale, "COUNT_CAP", 5)
    body = c.get("/api/v1/credit/?q=(page_size:4)").get_json()
    assert body["count"] == 5 and body["count_capped"] is True and len(body["ids"]) == 4
    # Offset paging stops at the cap; the message points at the cursor.
    r = c.get("/api/v1/credit/?q=(page:2,page_size:4)")
    assert r.status_code == 400 and "cursor" in r.get_json()["message"]

    for username, expected in (("city", everything), ("inst_a", in_a)):
        client = login(username)
        seen: list[int] = []
        cursor = ""
        for _ in range(50):
            r = client.get(f"/api/v1/credit/?q=(page_size:4)&cursor={cursor}")
            assert r.status_code == 200, r.get_data(as_text=True)
            body = r.get_json()
            assert len(body["result"]) == len(body["ids"]) <= 4
            seen += body["ids"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)), "a row came twice"
        assert set(seen) == expected, "a row was skipped or is outside the scope"
        assert seen == sorted(seen, reverse=True)

    # A cursor keeps the filters and refuses an order or a page number.
    client = login("city")
    body = client.get("/api/v1/credit/?q=(filters:!((col:status,opr:eq,value:rejected)))&cursor=").get_json()
    assert body["result"] and all(r["status"] == "rejected" for r in body["result"])
    assert client.get("/api/v1/credit/?q=(order_column:credits,order_direction:asc)&cursor=").status_code == 400
    assert client.get("/api/v1/credit/?cursor=abc").status_code == 400


def test_a_deep_credit_page_is_clamped_to_the_cap_with_a_note(app, world, credits, login, monkeypatch):
    from app.views import credits as views

    monkeypatch.setattr(views, "COUNT_CAP", 4)
    c = login("city")
    html = c.get("/credits/list/?psize_CreditView=2&page_CreditView=50").get_data(as_text=True)
    assert 'id="count-capped"' in html
    # Page 50 is served as the last page under the cap (rows 3–4, newest first), not an empty page.
    last = c.get("/credits/list/?psize_CreditView=2&page_CreditView=1").get_data(as_text=True)

    def rows(page: str) -> list[str]:
        return re.findall(r'name="rowid" value="(\d+)"', page)

    assert len(rows(last)) == 2 and rows(html) == rows(last)


def test_person_list_counts_up_to_the_cap_and_clamps_deep_pages(app, world, login, monkeypatch):
    from app.extensions import db
    from app.models import Person
    from app.views import scale

    c = login("city")
    html = c.get("/persons/list/").get_data(as_text=True)
    assert 'id="count-capped"' not in html
    monkeypatch.setattr(scale, "COUNT_CAP", 4)
    html = c.get("/persons/list/?psize_PersonView=2&page_PersonView=40").get_data(as_text=True)
    assert 'id="count-capped"' in html and "符合条件的人员超过4人" in html
    rows = re.findall(r'name="rowid" value="(\d+)"', html)
    with app.app_context():
        third_and_fourth = [str(i) for i in db.session.scalars(select(Person.id).order_by(Person.id).offset(2).limit(2))]
    assert rows == third_and_fourth  # the last page under the cap, persons in id order
    # One institution's persons (3 of 5) are under the cap: exact count, no note.
    c = login("inst_a")
    html = c.get("/persons/list/").get_data(as_text=True)
    assert 'id="count-capped"' not in html and "张三" in html


def test_compliance_list_counts_up_to_the_cap(app, world, login, monkeypatch):
    from app.views import credits as views

    _spread(app, world, 5, 0)
    c = login("city")
    html = c.get("/compliance/list/?_flt_0_year=2099").get_data(as_text=True)
    assert 'id="count-capped"' not in html
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    html = c.get("/compliance/list/?_flt_0_year=2099").get_data(as_text=True)
    assert 'id="count-capped"' in html and "符合条件的达标结果超过3条" in html
    # The count stops at the cap, the first page still shows its rows (page 0 is never past the cap).
    assert len(re.findall(r'name="rowid" value="(\d+)"', html)) == 5


def test_a_capped_count_is_remembered_a_count_under_the_cap_is_not(app, world, credits, login, monkeypatch):
    """Issue 18: "more than the cap" is not recounted for a minute (same list, filters and scope); a count
    under the cap is counted on every page, so a new record shows at once."""
    from app.views import credits as views

    monkeypatch.setattr(views, "COUNT_CAP", 2)
    city, hospital = login("city"), login("inst_a")

    def counts(client, url):
        return [s for s in _statements(app, client, url) if "count(" in s.lower()]

    assert len(counts(city, "/credits/list/")) == 0  # counted in the warm-up GET, then remembered
    assert 'id="count-capped"' in city.get("/credits/list/").get_data(as_text=True)
    assert len(counts(city, "/credits/list/?page_CreditView=1")) == 0  # another page: same count
    # Another filter is its own list; one under the cap is counted on every GET.
    assert len(counts(city, "/credits/list/?_flt_0_content=心血管")) == 1
    # Another scope is its own list too (the hospital's count is not the city's).
    with app.app_context():
        from app.extensions import db
        from app.models import Credit

        mine = db.session.query(Credit).filter(Credit.institution_id == world.a).count()
    page = hospital.get("/credits/list/").get_data(as_text=True)
    assert ('id="count-capped"' in page) == (mine > 2)
