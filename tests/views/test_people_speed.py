"""Personnel at city scale (issue 2 point 12): no <select> of every department, a scoped AJAX
department picker depending on the chosen institution, and name search served by an index."""
import datetime
import re

from app.services import idcard

NEW_ID = idcard.make("110101", datetime.date(1990, 3, 7), 123)


def _department_select_options(html: str) -> list[str]:
    match = re.search(r'<select[^>]*name="department"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert match, "no department field"
    return re.findall(r"<option[^>]*>", match.group(1))


def test_add_and_edit_forms_pick_departments_by_ajax(world, login):
    c = login("city")
    for path in ("/persons/add", f"/persons/edit/{world.pa}"):
        html = c.get(path).get_data(as_text=True)
        assert 'data-url="/persons/departments/"' in html and 'data-depends="institution"' in html
        options = _department_select_options(html)
        # Empty on add; on edit only the person's own department is pre-selected.
        assert len(options) == (1 if path.endswith("add") else 2)
    assert "心内科" in c.get(f"/persons/edit/{world.pa}").get_data(as_text=True)


def test_department_picker_is_scoped_and_follows_the_institution(world, login):
    city = login("city")
    all_rows = city.get("/persons/departments/").get_json()["results"]
    assert {r["id"] for r in all_rows} == {world.a_dept, world.a_dept2, world.a2_dept, world.b_dept}
    assert "心内科（甲医院）" in {r["text"] for r in all_rows}  # no institution chosen: named with it
    of_a = city.get(f"/persons/departments/?parent={world.a}").get_json()
    assert [r["text"] for r in of_a["results"]] == ["心内科", "骨科"] and of_a["pagination"]["more"] is False
    assert [r["id"] for r in city.get("/persons/departments/?q=骨").get_json()["results"]] == [world.a_dept2]

    inst_a = login("inst_a")
    assert {r["id"] for r in inst_a.get("/persons/departments/").get_json()["results"]} == {
        world.a_dept, world.a_dept2}
    assert inst_a.get(f"/persons/departments/?parent={world.b}").get_json()["results"] == []
    # A department secretary cannot add persons, so has no picker either.
    assert login("sec_a").get("/persons/departments/").status_code == 403


def _form(world, **over):
    data = {"card_no": "N0000001", "name": "周八", "id_number": NEW_ID, "institution": str(world.a),
            "department": str(world.a_dept), "title": "主治医师", "title_level": "中级",
            "specialty": "内科", "phone": "13800000000", "active": "y"}
    data.update(over)
    return data


def test_department_submitted_through_the_picker_is_checked(app, world, login):
    from app.extensions import db
    from app.models import Person

    inst_a = login("inst_a")
    # A department of another institution is outside the scope: refused, nothing saved.
    html = inst_a.post("/persons/add", data=_form(world, department=str(world.b_dept))).get_data(as_text=True)
    assert "所选记录不存在或无权访问" in html
    # The city sees every department, but it must belong to the chosen institution.
    r = login("city").post("/persons/add", data=_form(world, department=str(world.b_dept)),
                           follow_redirects=True)
    assert "科室不属于所选单位" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Person).filter_by(card_no="N0000001").count() == 0
    assert inst_a.post("/persons/add", data=_form(world)).status_code == 302
    with app.app_context():
        person = db.session.query(Person).filter_by(card_no="N0000001").one()
        assert (person.department_id, person.institution_id) == (world.a_dept, world.a)


def test_name_search_starts_with_uses_like(app, world, login):
    c = login("city")
    html = c.get("/persons/list/?_flt_0_name=张").get_data(as_text=True)
    assert "张三" in html and "李四" not in html
    # Pinyin initials are stored lower-case: the filter lowers what was typed.
    html = c.get("/persons/list/?_flt_0_name_initials=ZS").get_data(as_text=True)
    assert "张三" in html and "李四" not in html
    html = c.get("/persons/list/?_flt_0_card_no=A000000").get_data(as_text=True)
    assert "张三" in html and "李四" in html and "王五" not in html


def test_person_queries_use_like_not_ilike(app, world, login):
    """On PostgreSQL ILIKE can use no index; the search must compile to LIKE."""
    from sqlalchemy import event

    from app.extensions import db

    seen = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, parameters, context, executemany):
        if "FROM person" in statement:
            seen.append(statement)

    c = login("city")
    event.listen(engine, "before_cursor_execute", listener)
    try:
        c.get("/persons/list/?_flt_0_name=张")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert seen and not any("ILIKE" in s.upper() or "lower(" in s for s in seen)
    assert any(" LIKE " in s for s in seen)
