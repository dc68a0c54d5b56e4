"""Data scope for every role (issue 2 point 5, SYS-1), through every door of the app.

A user of institution / district / department A guesses the ids of B's rows and tries every
path: list, show, edit (GET and POST), delete, bulk delete, single action, export, the person
picker, job downloads and the REST API — and tries to create a row into B or move one there.
Each refusal is paired with a positive check (the same user does reach its own rows), so the
tests fail if scope were simply "deny all".

Forbidden pages: Flask-AppBuilder 5 already answers HTTP 403 (our Chinese error page) to a
logged-in user lacking a permission, and redirects anonymous users to the login page. The
action routes (``/action`` and ``/action_post``), which FAB leaves outside ``@has_access``, are
brought in line in ScopedModelView (403 for a logged-in user, 404 for an unknown action). A row
outside the scope answers 404, exactly like a row that does not exist, so ids cannot be probed.
"""
from __future__ import annotations

import io
import os
import re
import uuid

import openpyxl
import prison
import pytest
from sqlalchemy import func, select

from tests import helpers

NAMES = {"pa": "张三", "pa2": "李四", "pc": "赵六", "pb": "王五", "pb2": "孙七"}
ALL_PERSONS = set(NAMES)

# Persons each user's scope holds (pickers use the same scope, so this is also what they offer).
PERSON_SCOPE = {
    "city": ALL_PERSONS,
    "district1": {"pa", "pa2", "pc"},
    "district2": {"pb", "pb2"},
    "inst_a": {"pa", "pa2"},
    "inst_b": {"pb", "pb2"},
    "sec_a": {"pa"},  # 心内科 of 甲医院 only, not 骨科 of the same institution
    "sec_b": {"pb", "pb2"},
    "tech_a": {"pa"},  # itself
    "tech_b": {"pb"},
    "expert": set(),  # audit allocation comes with the audit module
    "site": set(),
}
# Who may open the personnel pages at all, and who may change persons there.
PERSON_READERS = {"city", "district1", "district2", "inst_a", "inst_b", "sec_a", "sec_b"}
PERSON_WRITERS = {"city", "district1", "district2", "inst_a", "inst_b"}
# Rows a user guesses: the nearest neighbours outside its scope (same district / institution
# first, then the other district).
GUESSES = [
    ("district1", "pb"), ("district2", "pa"),
    ("inst_a", "pc"), ("inst_a", "pb"), ("inst_b", "pa"),
    ("sec_a", "pa2"), ("sec_a", "pb"), ("sec_b", "pa"),
    ("tech_a", "pa2"), ("tech_a", "pb"), ("tech_b", "pa"),
    ("expert", "pa"), ("site", "pa"),
]
ROLE_USERS = ["city", "district1", "inst_a", "sec_a", "tech_a", "expert", "site"]


# ----------------------------------------------------------------------------- helpers
def _person(app, pk):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        p = db.session.get(Person, pk)
        return None if p is None else (p.name, p.card_no, p.institution_id, p.department_id, p.district_id)


def _person_by_card(app, card_no):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        return db.session.scalar(select(Person.id).where(Person.card_no == card_no))


def _count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _shown_pks(html: str) -> set[int]:
    """Row ids of a FAB list page (each row links to its show page)."""
    return {int(pk) for pk in re.findall(r'href="[^"]*/show/(\d+)', html)}


def _flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in
            re.findall(r'class="alert alert-\w+">\s*<button[^>]*>&times;</button>(.*?)</div>', html, re.S)]


def _form_refused(response) -> bool:
    """The form came back (200) with a Chinese field error: a required link left without a valid
    choice ("该字段是必填字段。"), a choice outside the dropdown ("选项无效") or an AJAX-picked record
    outside the scope ("所选记录不存在或无权访问", e.g. the department)."""
    html = response.get_data(as_text=True)
    return response.status_code == 200 and any(
        message in html for message in ("选项无效", "该字段是必填字段", "所选记录不存在或无权访问"))


def _xlsx_column(data: bytes, header: str) -> list:
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    col = list(rows[0]).index(header)
    return [r[col] for r in rows[1:]]


def _person_form(world, card_no, name, inst, dept, **extra):
    data = dict(card_no=card_no, name=name, institution=getattr(world, inst), title="主治医师",
                title_level="中级", specialty="", phone="", active="y")
    if dept:
        data["department"] = getattr(world, dept)
    data.update(extra)
    return data


def _api_filter(**filters) -> str:
    return prison.dumps({"filters": [{"col": c, "opr": "rel_o_m", "value": v} for c, v in filters.items()]})


def _picked(client, q="") -> set[str]:
    r = client.get("/pickers/persons", query_string={"q": q})
    assert r.status_code == 200
    return {item["text"].split("（")[0] for item in r.get_json()["results"]}


# ----------------------------------------------------------------------- list / export / pick
@pytest.mark.parametrize("username", sorted(PERSON_SCOPE))
def test_person_list_and_export_hold_exactly_the_scope(app, world, login, username):
    c = login(username)
    expected = {getattr(world, key) for key in PERSON_SCOPE[username]}
    r = c.get("/persons/list/")
    if username not in PERSON_READERS:
        assert r.status_code == 403
        assert c.get("/persons/export/").status_code == 403
        assert not any(name in r.get_data(as_text=True) for name in NAMES.values())
        return
    assert r.status_code == 200
    assert _shown_pks(r.get_data(as_text=True)) == expected
    r = c.get("/persons/export/")
    assert r.status_code == 200
    assert set(_xlsx_column(r.data, "姓名")) == {NAMES[k] for k in PERSON_SCOPE[username]}
    assert set(_xlsx_column(r.data, "IC卡号")) == {_person(app, pk)[1] for pk in expected}


@pytest.mark.parametrize("username", ["district1", "inst_a", "sec_a", "inst_b"])
def test_filtering_by_another_institution_finds_nothing(app, world, login, username):
    """Guessing B's institution id in the list / export / API filters gives no rows."""
    c = login(username)
    foreign = "a" if username == "inst_b" else "b"
    inst = getattr(world, foreign)
    for url in (f"/persons/list/?_flt_0_institution={inst}", f"/persons/export/?_flt_0_institution={inst}"):
        assert c.get(url).status_code == 200
    assert _shown_pks(c.get(f"/persons/list/?_flt_0_institution={inst}").get_data(as_text=True)) == set()
    assert _xlsx_column(c.get(f"/persons/export/?_flt_0_institution={inst}").data, "姓名") == []
    r = c.get("/api/v1/person/", query_string={"q": _api_filter(institution=inst)})
    assert r.status_code == 200 and r.get_json()["count"] == 0
    # and the same filters on its own institution do find rows (not "deny all")
    own = getattr(world, "b" if username == "inst_b" else "a")
    assert _shown_pks(c.get(f"/persons/list/?_flt_0_institution={own}").get_data(as_text=True))


@pytest.mark.parametrize("username", sorted(PERSON_SCOPE))
def test_person_picker_offers_exactly_the_scope(app, world, login, username):
    c = login(username)
    assert _picked(c) == {NAMES[k] for k in PERSON_SCOPE[username]}
    for key, name in NAMES.items():  # searching a name outside the scope finds nothing
        assert _picked(c, name) == ({name} if key in PERSON_SCOPE[username] else set())


# -------------------------------------------------------------------- guessed ids of B's rows
@pytest.mark.parametrize("username,key", GUESSES)
def test_guessed_person_id_is_refused_on_every_path(app, world, login, username, key):
    c = login(username)
    pk = getattr(world, key)
    before, total = _person(app, pk), _count(app, _person_model())
    read = 404 if username in PERSON_READERS else 403
    write = 404 if username in PERSON_WRITERS else 403
    form = _person_form(world, "HACK0001", "改名", "a", "a_dept")
    attempts = {
        "show": (c.get(f"/persons/show/{pk}"), read),
        "edit GET": (c.get(f"/persons/edit/{pk}"), write),
        "edit POST": (c.post(f"/persons/edit/{pk}", data=form), write),
        "delete": (c.post(f"/persons/delete/{pk}"), write),
        # FAB refuses a delete by GET once CSRF protection is installed (a redirect with a flash)
        "delete by GET": (c.get(f"/persons/delete/{pk}"), 403 if write == 403 else 302),
        "bulk delete": (c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(pk)]}), write),
        "single action": (c.post(f"/persons/action/muldelete/{pk}"), write),
        "API GET": (c.get(f"/api/v1/person/{pk}"), read),
        "API PUT": (c.put(f"/api/v1/person/{pk}", json={"name": "改名"}), write),
        "API DELETE": (c.delete(f"/api/v1/person/{pk}"), write),
    }
    for path, (response, expected) in attempts.items():
        assert response.status_code == expected, (path, response.status_code)
        assert NAMES[key] not in response.get_data(as_text=True), path
    assert _person(app, pk) == before
    assert _count(app, _person_model()) == total


def _person_model():
    from app.models import Person

    return Person


# (persons not linked to a technician's login, which PostgreSQL would refuse to delete)
@pytest.mark.parametrize("username,key", [("district1", "pc"), ("inst_a", "pa2"), ("inst_b", "pb2"),
                                          ("city", "pb2")])
def test_writers_do_reach_their_own_rows(app, world, login, username, key):
    c = login(username)
    pk = getattr(world, key)
    name, card, inst, dept, _ = _person(app, pk)
    assert c.get(f"/persons/show/{pk}").status_code == 200
    assert c.get(f"/persons/edit/{pk}").status_code == 200
    assert c.get(f"/api/v1/person/{pk}").get_json()["result"]["name"] == name
    data = dict(card_no=card, name=name + "甲", institution=inst, department=dept, title="主治医师",
                title_level="中级", active="y")
    assert c.post(f"/persons/edit/{pk}", data=data).status_code == 302
    assert _person(app, pk)[0] == name + "甲"
    assert c.put(f"/api/v1/person/{pk}", json={"name": name + "乙"}).status_code == 200
    assert _person(app, pk)[0] == name + "乙"
    assert c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(pk)]}).status_code == 302
    assert _person(app, pk) is None


@pytest.mark.parametrize("username", ["sec_a", "sec_b"])
def test_department_secretary_reads_its_department_but_changes_nothing(app, world, login, username):
    c = login(username)
    pk = world.pa if username == "sec_a" else world.pb
    before = _person(app, pk)
    assert c.get(f"/persons/show/{pk}").status_code == 200
    assert c.get(f"/api/v1/person/{pk}").status_code == 200
    assert c.get(f"/persons/edit/{pk}").status_code == 403
    assert c.post(f"/persons/delete/{pk}").status_code == 403
    assert c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(pk)]}).status_code == 403
    assert c.put(f"/api/v1/person/{pk}", json={"name": "改名"}).status_code == 403
    assert c.delete(f"/api/v1/person/{pk}").status_code == 403
    assert c.get("/persons/add").status_code == 403
    assert c.post("/api/v1/person/", json={"card_no": "S1", "name": "某", "id_number": helpers.make_id_number(),
                                           "institution": world.a}).status_code == 403
    assert _person(app, pk) == before


def test_bulk_delete_with_one_foreign_row_deletes_nothing(app, world, login):
    c = login("inst_a")
    r = c.post("/persons/action_post", data={"action": "muldelete",
                                             "rowid": [str(world.pa), str(world.pb), str(world.pa2)]})
    assert r.status_code == 404
    assert _person(app, world.pa) is not None and _person(app, world.pa2) is not None
    assert _person(app, world.pb) is not None
    # an unknown action is a 404, not a 500
    assert c.post("/persons/action_post", data={"action": "nope", "rowid": [str(world.pa)]}).status_code == 404
    r = c.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(world.pa2)]},
               follow_redirects=True)
    assert "已删除 1 条记录" in _flashes(r.get_data(as_text=True))
    assert _person(app, world.pa2) is None and _person(app, world.pa) is not None


# ------------------------------------------------------------- create into B / move into B
# (writer, its own institution + department, B's institution + department)
INTO_B = [
    ("district1", ("a2", "a2_dept"), ("b", "b_dept")),
    ("district2", ("b", "b_dept"), ("a", "a_dept")),
    ("inst_a", ("a", "a_dept2"), ("a2", "a2_dept")),
    ("inst_a", ("a", "a_dept2"), ("b", "b_dept")),
    ("inst_b", ("b", "b_dept"), ("a", "a_dept")),
]


@pytest.mark.parametrize("username,own,foreign", INTO_B)
def test_cannot_create_a_person_into_another_scope(app, world, login, username, own, foreign):
    c = login(username)
    total = _count(app, _person_model())
    number = helpers.make_id_number()
    attempts = [
        _person_form(world, "NEW00001", "新人", *foreign, id_number=number),  # B's institution and department
        _person_form(world, "NEW00001", "新人", foreign[0], None, id_number=number),  # B's institution only
        _person_form(world, "NEW00001", "新人", own[0], foreign[1], id_number=number),  # own institution, B's dept
    ]
    for data in attempts:
        assert _form_refused(c.post("/persons/add", data=data)), data
    payloads = [
        {"institution": getattr(world, foreign[0]), "department": getattr(world, foreign[1])},
        {"institution": getattr(world, foreign[0])},
    ]
    for extra in payloads:
        r = c.post("/api/v1/person/", json={"card_no": "NEW00002", "name": "新人", "id_number": number, **extra})
        assert r.status_code == 403, extra
        assert r.get_json()["message"] == "无权在该机构下操作数据"
    r = c.post("/api/v1/person/", json={"card_no": "NEW00002", "name": "新人", "id_number": number,
                                       "institution": getattr(world, own[0]),
                                       "department": getattr(world, foreign[1])})
    assert r.status_code == 422 and r.get_json()["message"] == "科室不属于所选单位"
    assert _count(app, _person_model()) == total

    # the same user does create into its own scope, by form and by API, with the ancestors set
    r = c.post("/persons/add", data=_person_form(world, "NEW00003", "新人", *own, id_number=number))
    assert r.status_code == 302
    created = _person(app, _person_by_card(app, "NEW00003"))
    assert created[2:4] == (getattr(world, own[0]), getattr(world, own[1]))
    r = c.post("/api/v1/person/", json={"card_no": "NEW00004", "name": "新人二", "id_number": helpers.make_id_number(),
                                       "institution": getattr(world, own[0]), "department": getattr(world, own[1])})
    assert r.status_code == 201, r.get_json()
    assert _person(app, r.get_json()["id"])[4] == created[4]  # district_id filled from the institution


@pytest.mark.parametrize("username,own,foreign", INTO_B)
def test_cannot_move_a_person_into_another_scope(app, world, login, username, own, foreign):
    c = login(username)
    pk = world.pc if own[0] == "a2" else (world.pa2 if own[0] == "a" else world.pb2)
    before = _person(app, pk)
    name, card = before[0], before[1]
    for inst, dept in ((foreign[0], foreign[1]), (foreign[0], None), (own[0], foreign[1])):
        assert _form_refused(c.post(f"/persons/edit/{pk}", data=_person_form(world, card, name + "改", inst, dept))), (
            inst, dept)
    for payload, code in (({"institution": getattr(world, foreign[0]), "department": getattr(world, foreign[1])}, 403),
                          ({"institution": getattr(world, foreign[0]), "department": None}, 403),
                          ({"department": getattr(world, foreign[1])}, 422)):
        r = c.put(f"/api/v1/person/{pk}", json={"name": name + "改", **payload})
        assert r.status_code == code, (payload, r.get_json())
    assert _person(app, pk) == before
    # moving inside the scope works
    r = c.put(f"/api/v1/person/{pk}", json={"institution": getattr(world, own[0]),
                                           "department": getattr(world, own[1])})
    assert r.status_code == 200
    assert _person(app, pk)[3] == getattr(world, own[1])


def test_department_of_another_institution_is_refused_in_chinese_and_writes_nothing(app, world, login):
    """Even the city admin, whose dropdowns hold every department, cannot pair institution A with
    a department of B: a Chinese refusal, no row written (form and API)."""
    c = login("city")
    total = _count(app, _person_model())
    number = helpers.make_id_number()
    r = c.post("/persons/add", data=_person_form(world, "MIX00001", "混合", "a", "b_dept", id_number=number),
               follow_redirects=True)
    assert "科室不属于所选单位" in _flashes(r.get_data(as_text=True))
    before = _person(app, world.pa)
    r = c.post(f"/persons/edit/{world.pa}", data=_person_form(world, "A0000001", "张三改", "a", "b_dept"),
               follow_redirects=True)
    assert "科室不属于所选单位" in _flashes(r.get_data(as_text=True))
    r = c.post("/api/v1/person/", json={"card_no": "MIX00002", "name": "混合", "id_number": number,
                                       "institution": world.a, "department": world.b_dept})
    assert r.status_code == 422 and r.get_json()["message"] == "科室不属于所选单位"
    r = c.put(f"/api/v1/person/{world.pa}", json={"department": world.b_dept})
    assert r.status_code == 422 and r.get_json()["message"] == "科室不属于所选单位"
    assert _count(app, _person_model()) == total
    assert _person(app, world.pa) == before


@pytest.mark.parametrize("username", ["city", "inst_a"])
def test_api_input_errors_answer_422_in_chinese(app, world, login, username):
    c = login(username)
    total = _count(app, _person_model())
    good = helpers.make_id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = c.post("/api/v1/person/", json={"card_no": "BAD00001", "name": "某", "id_number": bad,
                                       "institution": world.a})
    assert r.status_code == 422
    assert r.get_json()["message"] == "身份证号校验位错误"
    r = c.post("/api/v1/person/", json={"card_no": "BAD00001", "name": "某", "id_number": "12345",
                                       "institution": world.a})
    assert r.status_code == 422 and re.search(r"[\u4e00-\u9fff]", str(r.get_json()["message"]))
    assert _count(app, _person_model()) == total


@pytest.mark.parametrize("username", ["district1", "inst_a", "sec_a"])
def test_api_info_offers_only_institutions_and_departments_in_scope(app, world, login, username):
    from app.extensions import db
    from app.models import Org

    c = login(username)
    r = c.get("/api/v1/person/_info")
    assert r.status_code == 200
    fields = {f["name"]: f for f in r.get_json().get("add_columns", []) + r.get_json().get("edit_columns", [])}
    with app.app_context():
        from app.models import CmeUser
        from app.views.base import scope_for_user

        user = db.session.scalar(select(CmeUser).where(CmeUser.username == username))
        scope = scope_for_user(user)
        allowed = {kind: set(db.session.scalars(scope.filter(select(Org.id).where(Org.kind == kind), Org)))
                   for kind in ("institution", "department")}
    assert allowed["department"]  # not "deny all"
    for kind in ("institution", "department"):
        assert fields[kind]["values"] is not None
        assert {v["id"] for v in fields[kind]["values"]} == allowed[kind], kind
    for f in fields.values():  # no catalogue header where a description is empty
        assert "Project-Id-Version" not in f.get("description", "")


# ------------------------------------------------------------------------- organization tree
ORGS = {"d1": "东城区", "d2": "西城区", "a": "甲医院", "a2": "丙社区卫生服务中心", "b": "乙医院",
        "a_dept": "心内科", "a_dept2": "骨科", "a2_dept": "全科", "b_dept": "心内科"}
# view → user → (rows the list shows, its rights there: r = read, a = add, e = edit, d = delete)
ORG_VIEWS = {
    "districtview": {
        "city": ({"d1", "d2"}, "raed"), "district1": ({"d1"}, "re"), "district2": ({"d2"}, "re"),
        "inst_a": (set(), ""), "sec_a": (set(), ""), "tech_a": (set(), ""), "expert": (set(), ""),
    },
    "institutionview": {
        "city": ({"a", "a2", "b"}, "raed"), "district1": ({"a", "a2"}, "raed"), "district2": ({"b"}, "raed"),
        "inst_a": ({"a"}, "re"), "inst_b": ({"b"}, "re"), "sec_a": (set(), ""), "site": (set(), ""),
    },
    "departmentview": {
        "city": ({"a_dept", "a_dept2", "a2_dept", "b_dept"}, "raed"),
        "district1": ({"a_dept", "a_dept2", "a2_dept"}, "raed"), "district2": ({"b_dept"}, "raed"),
        "inst_a": ({"a_dept", "a_dept2"}, "raed"), "inst_b": ({"b_dept"}, "raed"),
        "sec_a": (set(), ""), "tech_a": (set(), ""),
    },
}
ORG_CASES = [(view, user) for view, users in ORG_VIEWS.items() for user in users]


def _org(app, pk):
    from app.extensions import db
    from app.models import Org

    with app.app_context():
        o = db.session.get(Org, pk)
        return None if o is None else (o.name, o.code, o.parent_id, o.district_id, o.institution_id)


@pytest.mark.parametrize("view,username", ORG_CASES)
def test_org_views_show_the_scope_and_refuse_guessed_ids(app, world, login, view, username):
    visible, perms = ORG_VIEWS[view][username]
    c = login(username)
    r = c.get(f"/{view}/list/")
    if "r" not in perms:
        assert r.status_code == 403
    else:
        assert r.status_code == 200
        assert _shown_pks(r.get_data(as_text=True)) == {getattr(world, k) for k in visible}
        exported = c.get(f"/{view}/export/")
        if exported.status_code == 200:
            assert set(_xlsx_column(exported.data, "编码")) == {_org(app, getattr(world, k))[1] for k in visible}
    kinds = {"districtview": ("d1", "d2"), "institutionview": ("a", "a2", "b"),
             "departmentview": ("a_dept", "a_dept2", "a2_dept", "b_dept")}[view]
    for key in kinds:
        if key in visible:
            continue
        pk = getattr(world, key)
        before = _org(app, pk)
        form = {"name": "越权改名", "code": "HACK", "parent": world.d1}
        attempts = {
            "show": (c.get(f"/{view}/show/{pk}"), "r"),
            "edit GET": (c.get(f"/{view}/edit/{pk}"), "e"),
            "edit POST": (c.post(f"/{view}/edit/{pk}", data=form), "e"),
            "delete": (c.post(f"/{view}/delete/{pk}"), "d"),
            "bulk delete": (c.post(f"/{view}/action_post", data={"action": "muldelete", "rowid": [str(pk)]}), "d"),
        }
        for path, (response, letter) in attempts.items():
            expected = 404 if letter in perms else 403
            assert response.status_code == expected, (key, path, response.status_code)
        assert _org(app, pk) == before, key


@pytest.mark.parametrize("username,parent,kind", [
    ("district1", "d2", "institutionview"), ("district1", "b", "departmentview"),
    ("inst_a", "a2", "departmentview"), ("inst_a", "b", "departmentview"),
    ("district1", "city", "districtview"),
])
def test_cannot_create_an_org_under_another_scope(app, world, login, username, parent, kind):
    from app.models import Org

    c = login(username)
    total = _count(app, Org)
    parent_id = world.city if parent == "city" else getattr(world, parent)
    r = c.post(f"/{kind}/add", data={"parent": parent_id, "name": "越权单位", "code": "HACK01", "level": "一级",
                                     "inst_type": "医院", "sort": "0", "active": "y"})
    assert r.status_code == 403 or _form_refused(r)
    assert _count(app, Org) == total


@pytest.mark.parametrize("username,kind,parent,child_parent_field", [
    ("district1", "institutionview", "d1", "district_id"),
    ("inst_a", "departmentview", "a", "institution_id"),
])
def test_admins_create_orgs_under_their_own_node(app, world, login, username, kind, parent, child_parent_field):
    from app.extensions import db
    from app.models import Org

    c = login(username)
    r = c.post(f"/{kind}/add", data={"parent": getattr(world, parent), "name": "新单位", "code": "NEW01",
                                     "level": "一级", "inst_type": "医院", "sort": "0", "active": "y"})
    assert r.status_code == 302
    with app.app_context():
        org = db.session.scalar(select(Org).where(Org.code == "NEW01"))
        assert org.parent_id == getattr(world, parent)
        assert getattr(org, child_parent_field) == getattr(world, parent)
        pk = org.id
    assert pk in _shown_pks(c.get(f"/{kind}/list/").get_data(as_text=True))


@pytest.mark.parametrize("username,view,key", [("district1", "districtview", "d1"),
                                               ("inst_a", "institutionview", "a")])
def test_own_node_is_editable_but_cannot_be_moved(app, world, login, username, view, key):
    c = login(username)
    pk = getattr(world, key)
    name, code, parent, *_ = _org(app, pk)
    other_parent = world.d2 if view == "institutionview" else world.d1
    r = c.post(f"/{view}/edit/{pk}", data={"name": name + "（改）", "code": code, "parent": other_parent,
                                           "level": "三级", "inst_type": "医院", "sort": "0", "active": "y"})
    assert r.status_code == 302
    after = _org(app, pk)
    assert after[0] == name + "（改）"
    assert after[2] == parent  # the parent is not a form field: a posted one is ignored
    # and neither may add or delete nodes of its own kind
    assert c.post(f"/{view}/delete/{pk}").status_code == 403
    assert c.get(f"/{view}/add").status_code == 403


@pytest.mark.parametrize("username", ["city", "district1", "inst_a"])
def test_fab_file_download_route_serves_nothing(app, world, login, username, tmp_path):
    """FAB's /<view>/download/<filename> would send any file of UPLOAD_FOLDER, whoever owns it."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "secret.xlsx").write_bytes(b"secret-of-B")
    app.config["UPLOAD_FOLDER"] = str(folder)
    try:
        c = login(username)
        for view in ("persons", "institutionview", "departmentview", "districtview", "notices"):
            r = c.get(f"/{view}/download/secret.xlsx")
            assert r.status_code == 404, (view, r.status_code)
            assert b"secret-of-B" not in r.data
    finally:
        app.config.pop("UPLOAD_FOLDER", None)


# ------------------------------------------------------------------------------- notices
def test_notice_of_another_district_cannot_be_reached(app, world, login):
    from app.extensions import db
    from app.models import Notice

    c1 = login("district1")
    assert c1.post("/notices/add", data={"title": "东城区通知", "content": "正文", "published": "y"}).status_code == 302
    with app.app_context():
        pk = db.session.scalar(select(Notice.id).where(Notice.title == "东城区通知"))
    assert pk in _shown_pks(c1.get("/notices/list/").get_data(as_text=True))
    c2 = login("district2")
    assert pk not in _shown_pks(c2.get("/notices/list/").get_data(as_text=True))
    for response in (c2.get(f"/notices/show/{pk}"), c2.get(f"/notices/edit/{pk}"),
                     c2.post(f"/notices/edit/{pk}", data={"title": "改", "content": "改", "published": "y"}),
                     c2.post(f"/notices/delete/{pk}"),
                     c2.post("/notices/action_post", data={"action": "muldelete", "rowid": [str(pk)]})):
        assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Notice, pk).title == "东城区通知"


# ---------------------------------------------------------------------------------- jobs
def test_job_files_are_served_to_their_owner_only(app, world, login):
    from app.extensions import db
    from app.models import CmeUser, Job

    with app.app_context():
        owner = db.session.scalar(select(CmeUser.id).where(CmeUser.username == "inst_b"))
        path = os.path.join(app.config["JOB_FILES_DIR"], f"{uuid.uuid4().hex}.xlsx")
        with open(path, "wb") as fh:
            fh.write(b"secret-of-B")
        job = Job(id=str(uuid.uuid4()), kind="export", title="乙医院导出", user_id=owner, status="finished",
                  done=1, total=1, result_path=path, result_name="乙医院.xlsx")
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    for username in ("inst_a", "district2", "city", "sec_b"):
        c = login(username)
        for url in (f"/jobs/{job_id}/download", f"/jobs/{job_id}/status"):
            r = c.get(url)
            assert r.status_code == 404, (username, url)
            assert b"secret-of-B" not in r.data
        assert "乙医院导出" not in c.get("/jobs/").get_data(as_text=True)
    c = login("inst_b")
    assert c.get(f"/jobs/{job_id}/download").data == b"secret-of-B"
    assert c.get(f"/jobs/{job_id}/status").get_json()["has_file"] is True
    assert "乙医院导出" in c.get("/jobs/").get_data(as_text=True)
    assert app.test_client().get(f"/jobs/{job_id}/download").status_code == 302  # anonymous: to login


# ---------------------------------------------------------------------------------- menus
def _navbar(html: str) -> dict[str, dict[str, str]]:
    """{category: {item label: href}} of the navbar's left part."""
    block = re.search(r'<ul class="nav navbar-nav">(.*?)<ul class="nav navbar-nav navbar-right">', html, re.S).group(1)
    menus = {}
    for part in block.split('<li class="dropdown">')[1:]:
        category = re.search(r"</i>&nbsp;\s*([^<]*?)\s*<b class=\"caret\">", part).group(1)
        menus[category] = {re.sub(r"\s+", "", label.split("&nbsp;")[-1]): href
                           for href, label in re.findall(r'<a tabindex="-1" href="([^"]*)">(.*?)</a>', part, re.S)}
    return menus


# Menu items of the foundation and the rules module, per role (items added later by other
# modules are ignored here; the 403 check below covers every item the city admin sees).
KNOWN_ITEMS = {"区县", "医疗机构", "科室", "学员", "人员导入", "字典管理", "字典数据", "参数设置", "通知公告",
               "操作日志", "登录日志", "我的任务", "规则集", "授分标准", "达标统计"}
_RULES = {"规则集", "授分标准", "达标统计"}
EXPECTED_ITEMS = {
    "city": KNOWN_ITEMS,
    "district1": {"区县", "医疗机构", "科室", "学员", "人员导入", "字典管理", "字典数据", "参数设置", "通知公告",
                  "我的任务"} | _RULES,
    "inst_a": {"医疗机构", "科室", "学员", "人员导入", "我的任务"} | _RULES,
    "sec_a": {"学员", "我的任务"},
    "tech_a": {"我的任务"},
    "expert": {"我的任务"},
    "site": {"我的任务"},
}
DATA_MARKERS = ["张三", "李四", "王五", "孙七", "赵六", "乙医院", "丙社区卫生服务中心", "A0000001", "B0000001"]


@pytest.mark.parametrize("username", ROLE_USERS)
def test_each_role_sees_its_menus_and_the_rest_answer_403(app, world, login, username):
    all_items = {label: href for items in _navbar(login("city").get("/").get_data(as_text=True)).values()
                 for label, href in items.items()}
    c = login(username)
    menus = _navbar(c.get("/").get_data(as_text=True))
    shown = {label: href for items in menus.values() for label, href in items.items()}
    assert set(shown) & KNOWN_ITEMS == EXPECTED_ITEMS[username], sorted(shown)
    assert all(menus.values()), menus  # no empty dropdown
    for label, href in shown.items():  # a menu item lands on a page (through at most its redirects)
        assert c.get(href, follow_redirects=True).status_code == 200, (label, href)
    for label, href in all_items.items():
        if label in shown:
            continue
        r = c.get(href)
        assert r.status_code == 403, (label, href, r.status_code)
        body = r.get_data(as_text=True)
        assert "没有权限访问该页面或数据" in body
        assert not [m for m in DATA_MARKERS if m in body], (label, href)


def test_anonymous_reaches_nothing(app, world, client):
    for url in ("/persons/list/", f"/persons/show/{world.pa}", "/persons/export/", "/institutionview/list/",
                "/pickers/persons?q=", f"/persons/edit/{world.pa}"):
        r = client.get(url)
        assert r.status_code == 302 and "/login/" in r.headers["Location"], url
    r = client.post("/persons/action_post", data={"action": "muldelete", "rowid": [str(world.pa)]})
    assert r.status_code == 302 and "/login/" in r.headers["Location"]
    assert client.get("/api/v1/person/").status_code == 401
    assert client.delete(f"/api/v1/person/{world.pa}").status_code == 401
    assert _person(app, world.pa) is not None


def test_jwt_api_login_has_the_same_scope(app, world, client):
    r = client.post("/api/v1/security/login", json={"username": "inst_a", "password": helpers.PASSWORD,
                                                    "provider": "db"})
    assert r.status_code == 200, r.get_json()
    headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    r = client.get("/api/v1/person/", headers=headers)
    assert r.status_code == 200
    assert {row["name"] for row in r.get_json()["result"]} == {"张三", "李四"}
    assert client.get(f"/api/v1/person/{world.pb}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/person/{world.pb}", json={"name": "改"}, headers=headers).status_code == 404
    assert client.delete(f"/api/v1/person/{world.pc}", headers=headers).status_code == 404
    assert _person(app, world.pb)[0] == "王五" and _person(app, world.pc) is not None
