"""Personnel views (SYS-3): scoped list, masked ID numbers, search."""


def test_institution_admin_lists_only_own_persons(world, login):
    c = login("inst_a")
    html = c.get("/persons/list/").get_data(as_text=True)
    assert "张三" in html and "李四" in html
    assert "王五" not in html and "赵六" not in html


def test_id_number_masked_except_city_admin(app, world, login):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        number = db.session.get(Person, world.pa).id_number
    masked = number[:4] + "*" * 10 + number[-4:]
    html = login("inst_a").get("/persons/list/").get_data(as_text=True)
    assert masked in html and number not in html
    html = login("city").get("/persons/list/").get_data(as_text=True)
    assert number in html


# ---------------------------------------------------------------- an unticked 在职 / 启用 box saves
def _person_form(world, **over):
    data = {"card_no": "A0000001", "name": "张三", "institution": str(world.a),
            "department": str(world.a_dept), "title": "主治医师", "title_level": "中级",
            "specialty": "内科", "phone": ""}
    data.update(over)
    return data


def test_person_can_be_saved_inactive_and_active_again(app, world, login):
    from app.extensions import db
    from app.models import Person

    c = login("inst_a")
    r = c.post(f"/persons/edit/{world.pa}", data=_person_form(world))  # no "active": unticked
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.get(Person, world.pa).active is False
    r = c.post(f"/persons/edit/{world.pa}", data=_person_form(world, active="y"))
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Person, world.pa).active is True


def test_new_person_form_has_active_ticked_and_may_be_added_inactive(app, world, login):
    import datetime

    from app.extensions import db
    from app.models import Person
    from app.services import idcard

    c = login("inst_a")
    html = c.get("/persons/add").get_data(as_text=True)
    import re

    box = re.search(r'<input[^>]*id="active"[^>]*>', html).group(0)
    assert "checked" in box  # ticked by default
    number = idcard.make("110101", datetime.date(1991, 2, 3), 7)
    r = c.post("/persons/add", data=_person_form(world, card_no="N0000009", name="钱十一", id_number=number))
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    with app.app_context():
        person = db.session.query(Person).filter_by(card_no="N0000009").one()
        assert person.active is False
        # Gender and birth date come from the ID number (17th digit 7: odd, male).
        assert (person.gender, person.birth_date) == ("男", datetime.date(1991, 2, 3))
        assert person.name_initials == "qsy"


def test_institution_department_and_district_can_be_saved_inactive(app, world, login):
    from app.extensions import db
    from app.models import Org

    c = login("city")
    forms = {
        ("districtview", world.d1): {"name": "东城区", "code": "T01", "sort": "0"},
        ("institutionview", world.a): {"name": "甲医院", "code": "TA", "level": "三级", "inst_type": "医院",
                                    "sort": "0"},
        ("departmentview", world.a_dept): {"name": "心内科", "code": "TA1", "sort": "0"},
    }
    for (route, pk), data in forms.items():
        r = c.post(f"/{route}/edit/{pk}", data=data)  # "active" left unticked
        assert r.status_code == 302, (route, r.get_data(as_text=True)[:500])
        with app.app_context():
            assert db.session.get(Org, pk).active is False, route
