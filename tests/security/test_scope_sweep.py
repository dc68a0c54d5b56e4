"""The route × role × foreign-id sweep (issue 17.9): every GET route of the app, for every signed-in role
below the city, with the ids of rows in scopes foreign to it (another district, institution, department,
person), through the session cookie — and the REST API with a JWT too. A response may refuse (403/404),
redirect, or answer; it must never hold the foreign rows' distinctive text, nor fail (5xx).

One world serves the whole sweep. The viewers' own rows are created first; then, for each foreign scope in
turn, every id sequence is moved to a block of its own (base, base+100, …), so the first foreign row of that
scope in every table has the id block+1: one id to put into any route's parameters whatever model it names.
Each role is asked with the id of the nearest scope foreign to it (another district for a district, another
unit of its own district for a unit, another department of its unit for a secretary, another person of the
same department for a technician, the expert and the site manager): a scope check that holds there holds
farther away too, and every foreign marker is looked for in every answer. PostgreSQL only:
SQLite cannot move its sequences, and scope is applied by the same SQL on both."""
from __future__ import annotations

import datetime
import re
import time

import pytest
from sqlalchemy import text

from tests.credit_helpers import credit, seed_credits
from tests.helpers import PASSWORD, add_person

# The marker each foreign scope's rows carry, in creation order, and who must never see it.
LEVELS = ["district", "institution", "department", "person"]
MARKS = {"district": "外区标记", "institution": "外院标记", "department": "外科标记", "person": "外人标记"}
VIEWERS = {
    "district1": ["district"],
    "inst_a": ["district", "institution"],
    "sec_a": ["district", "institution", "department"],
    "tech_a": ["district", "institution", "department", "person"],
    "expert": ["district", "institution", "department", "person"],
    "site": ["district", "institution", "department", "person"],
}
# Routes that take no row id or act on the session itself.
SKIP = ("/static/", "/logout", "/lang/", "/swagger", "/api/v1/_openapi", "/api/v1/security/", "/m/logout")


def _sequences(session) -> list[str]:
    return [t for (t,) in session.execute(text(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'id' "
        "AND table_schema = 'public' AND column_default LIKE 'nextval%'"))]


def _move_sequences(session, tables: list[str], value: int) -> None:
    for table in tables:
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), {value})"))


def _foreign_world(world, tables: list[str], blocks: dict[str, int]) -> None:
    """Rows in four foreign scopes, each named with its marker; each scope's ids start at its block + 1.
    The district's orgs come first (block + 1 is the district), the institution's and department's orgs
    are made inside their own blocks."""
    from app.extensions import db
    from app.models import Org
    from app.models.practice import PracticePlan
    from tests.projects.helpers import make_project
    from tests.supervision.helpers import add_filing, add_manager

    city = db.session.get(Org, world.city)
    a = db.session.get(Org, world.a)
    a_dept = db.session.get(Org, world.a_dept)
    d1 = db.session.get(Org, world.d1)
    d3 = Org(kind="district", name=f"{MARKS['district']}区", code="X03", parent=city)
    db.session.add(d3)
    db.session.flush()
    x = Org(kind="institution", name=f"{MARKS['district']}医院", code="TX", level="二级", inst_type="医院", parent=d3)
    db.session.add(x)
    db.session.flush()
    x_dept = Org(kind="department", name=f"{MARKS['district']}科", code="TX1", parent=x)
    db.session.add(x_dept)
    db.session.flush()
    y = Org(kind="institution", name=f"{MARKS['institution']}医院", code="TY", level="二级", inst_type="医院", parent=d1)
    y_dept = Org(kind="department", name=f"{MARKS['institution']}科", code="TY1", parent=y)
    z_dept = Org(kind="department", name=f"{MARKS['department']}科", code="TA9", parent=a)
    homes = {"district": (x, x_dept), "institution": (y, y_dept), "department": (a, z_dept),
             "person": (a, a_dept)}
    for level, (inst, dept) in homes.items():
        mark = MARKS[level]
        if level != "district":  # the district's block was opened before its orgs
            db.session.flush()
            _move_sequences(db.session, tables, blocks[level])
        if level == "institution":
            db.session.add(y)
            db.session.flush()
            db.session.add(y_dept)
            db.session.flush()
        elif level == "department":
            db.session.add(z_dept)
            db.session.flush()
        person = add_person(inst, dept, f"{mark}人员", card=f"F{len(mark)}{level[:3].upper()}")
        person.specialty = mark
        credit(person.id, 3, datetime.date(2025, 3, 1), content=f"{mark}学分", remark=mark)
        credit(person.id, 2, datetime.date(2025, 4, 1), content=f"{mark}手工学分", source="manual", status="submitted")
        if level in ("district", "institution"):
            project = make_project(inst.id, no=f"2025-99-0{len(level)}-001")
            project.name = f"{mark}项目"
            filing = add_filing(inst.id, project_no=f"2025-98-0{len(level)}", status="approved", name=f"{mark}报备")
            add_manager(filing, phone=f"1390000{len(level):04d}")
            db.session.add(PracticePlan(institution_id=inst.id, district_id=inst.district_id, name=f"{mark}计划",
                                        plan_type="年度计划", activity_forms="手术示范", status="submitted"))
        db.session.flush()
    db.session.commit()


# PostgreSQL only: the sweep moves id sequences (the scope SQL is the same on SQLite). Parametrised, not
# skipped, so the CI run (CME_REQUIRE_ALL=1) has no skip at all.
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
def swept_world(app, backend, world):
    from app.extensions import db
    from tests.projects.helpers import standard_project

    with app.app_context():
        seed_credits(world)
        standard_project(world.a)  # the viewers' own project: its pages answer 200
        db.session.commit()
        tables = _sequences(db.session)
        # One base above every id in use (a session may have swept before), one block per scope.
        top = db.session.execute(text("SELECT max(last_value) FROM pg_sequences WHERE schemaname = 'public'")
                                 ).scalar() or 0
        base = max(9000, (top // 1000 + 1) * 1000)
        blocks = {level: base + 100 * i for i, level in enumerate(LEVELS)}
        _move_sequences(db.session, tables, blocks["district"])
        _foreign_world(world, tables, blocks)
        db.session.commit()
        _move_sequences(db.session, tables, base + 1000)  # later rows never collide with the blocks
        db.session.commit()
        db.session.remove()
    world.probe = {level: block + 1 for level, block in blocks.items()}
    return world


def _get_routes(app) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(routes without parameters, [(rule, int parameter names)]) of every GET route."""
    plain, with_ids = [], []
    for rule in app.url_map.iter_rules():
        path = str(rule)
        if "GET" not in rule.methods or path.startswith(SKIP) or any(path.startswith(s) for s in SKIP):
            continue
        if not rule.arguments:
            plain.append(path)
            continue
        if all(rule._converters[a].__class__.__name__ in ("IntegerConverter", "UnicodeConverter")
               for a in rule.arguments):
            with_ids.append((path, sorted(rule.arguments)))
    return sorted(plain), sorted(with_ids)


def _fill(path: str, names: list[str], value: int) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(value), path)


def _body(response) -> str:
    if response.mimetype.endswith("spreadsheetml.sheet"):
        return _xlsx_text(response.data)
    if response.mimetype.startswith(("text/", "application/json")):
        return response.get_data(as_text=True)
    return ""


def _sweep(client, plain, with_ids, ids: list[int], marks: list[str], headers=None) -> tuple[list, int]:
    found, requests = [], 0

    def check(url):
        nonlocal requests
        r = client.get(url, headers=headers)
        requests += 1
        if r.status_code >= 500:
            found.append((url, r.status_code))
        elif r.status_code == 200 and (leaks := [m for m in marks if m in _body(r)]):
            found.append((url, leaks))
        return r.status_code

    for url in plain:
        check(url)
    for path, names in with_ids:
        for i, value in enumerate(ids):
            # 403 for the first id is the permission, not the row: the other ids would say the same.
            if check(_fill(path, names, value)) == 403 and i == 0:
                break
    return found, requests


def test_no_route_shows_a_foreign_row(app, swept_world, login):
    plain, with_ids = _get_routes(app)
    assert len(plain) > 80 and len(with_ids) > 150
    started = time.perf_counter()
    found, requests = [], 0
    for username, levels in VIEWERS.items():
        ids = [swept_world.probe[levels[-1]]]
        leaks, n = _sweep(login(username), plain, with_ids, ids, [MARKS[level] for level in levels])
        found += [(username, *leak) for leak in leaks]
        requests += n
    assert found == []
    assert requests > 2000
    print(f"sweep: {requests} requests in {time.perf_counter() - started:.1f}s")


def _xlsx_text(data: bytes) -> str:
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                    for v in row if v is not None)


def test_the_api_with_a_jwt_shows_no_foreign_row(app, swept_world):
    plain, with_ids = _get_routes(app)
    api_plain = [p for p in plain if p.startswith("/api/")]
    api_ids = [(p, n) for p, n in with_ids if p.startswith("/api/")]
    assert api_plain and api_ids
    found = []
    for username, levels in VIEWERS.items():
        token = app.test_client().post("/api/v1/security/login", json={
            "username": username, "password": PASSWORD, "provider": "db"}).get_json()["access_token"]
        leaks, _ = _sweep(app.test_client(), api_plain, api_ids, [swept_world.probe[lv] for lv in levels],
                          [MARKS[lv] for lv in levels], headers={"Authorization": f"Bearer {token}"})
        found += [(username, *leak) for leak in leaks]
    assert found == []


def test_the_city_does_see_the_foreign_rows(app, swept_world, login):
    """The markers are real: the city admin, whose scope is everything, finds each of them."""
    c = login("city")
    body = c.get("/persons/list/?psize_PersonView=100").get_data(as_text=True)
    assert all(f"{m}人员" in body for m in MARKS.values())
    assert "外院标记学分" in c.get("/credits/list/?psize_CreditView=100").get_data(as_text=True)
    # Each scope's first row of a table has its block's probe id: the district, then the institution.
    assert "外区标记区" in c.get(f"/districtview/show/{swept_world.probe['district']}").get_data(as_text=True)
    assert "外院标记人员" in c.get(f"/persons/show/{swept_world.probe['institution']}").get_data(as_text=True)
    # And the sweep reports them: run for the city, it finds the markers a scoped role must not see.
    leaks, _ = _sweep(c, ["/persons/list/"], [("/persons/show/<pk>", ["pk"]), ("/credits/show/<pk>", ["pk"])],
                      [swept_world.probe["district"]], list(MARKS.values()))
    assert [url for url, _ in leaks] == ["/persons/list/", f"/persons/show/{swept_world.probe['district']}",
                                         f"/credits/show/{swept_world.probe['district']}"]
