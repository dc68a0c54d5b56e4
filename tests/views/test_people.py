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
