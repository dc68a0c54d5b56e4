"""Issue 15.5: a person's 职称 from the dictionary with 职称级别 derived, phone numbers checked — in the form,
the Excel import and the REST API; statistics group by dictionary levels only."""
from __future__ import annotations

import datetime
import re

import pytest

from app.services import idcard, person_fields
from tests.services.test_people_import import COLUMNS as IMPORT_COLUMNS
from tests.services.test_people_import import run_import, save

NEW_ID = idcard.make("110101", datetime.date(1986, 5, 6), 321)


def _form(world, **over):
    data = {"card_no": "A0000001", "name": "张三", "institution": str(world.a),
            "department": str(world.a_dept), "title": "主治医师", "specialty": "内科", "phone": ""}
    data.update(over)
    return data


def _person(app, pk):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        p = db.session.get(Person, pk)
        return p.title, p.title_level, p.phone


# ------------------------------------------------------------------ service
@pytest.mark.parametrize("phone", ["13912345678", "19900001111", "010-12345678", "01012345678", "0512-6123456",
                                   "62345678", "010-62345678-806", " 139 1234 5678 "])
def test_good_phone_numbers_pass(phone):
    assert person_fields.clean_phone(phone) == phone.replace(" ", "")


@pytest.mark.parametrize("phone", ["1", "12345678901", "139123456789", "010-1", "abc", "+86-139", "1391234567x"])
def test_bad_phone_numbers_are_refused(phone):
    with pytest.raises(person_fields.PersonFieldError, match="联系电话格式不正确"):
        person_fields.clean_phone(phone)


# ------------------------------------------------------------------ form
def test_the_form_offers_the_dictionary_and_derives_the_level(app, world, login):
    c = login("inst_a")
    html = c.get(f"/persons/edit/{world.pa}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="title".*?</select>', html, re.DOTALL).group(0)
    assert '<option value="主任医师"' in select and "副主任护师" in select
    assert 'name="title_level"' not in html  # derived, never typed
    r = c.post(f"/persons/edit/{world.pa}", data=_form(world, title="主任医师", phone="13912345678", active="y"))
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    assert _person(app, world.pa) == ("主任医师", "正高", "13912345678")


def test_the_form_refuses_a_typed_title_and_a_bad_phone_in_chinese(app, world, login):
    c = login("inst_a")
    before = _person(app, world.pa)
    r = c.post(f"/persons/edit/{world.pa}", data=_form(world, title="超级", active="y"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "职称“超级”不在字典中" in html
    r = c.post(f"/persons/edit/{world.pa}", data=_form(world, title_level="超级", active="y", phone="010-1"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "联系电话格式不正确" in html
    assert _person(app, world.pa) == before


# ------------------------------------------------------------------ REST API
def test_the_api_refuses_a_typed_title_or_level_and_a_bad_phone(app, world, login):
    c = login("inst_a")
    base = {"card_no": "N0000009", "name": "吴九", "id_number": NEW_ID, "institution": world.a,
            "department": world.a_dept}
    for extra, text in [({"title": "超级"}, "职称“超级”不在字典中"),
                        ({"title": "住院医师", "title_level": "超级"}, "职称级别由职称自动确定"),
                        ({"title_level": "超级"}, "职称级别由职称自动确定"),
                        ({"phone": "12345"}, "联系电话格式不正确")]:
        r = c.post("/api/v1/person/", json={**base, **extra})
        assert r.status_code == 422 and text in r.get_json()["message"], (extra, r.get_json())
    r = c.put(f"/api/v1/person/{world.pa}", json={"title": "超级"})
    assert r.status_code == 422 and "不在字典中" in r.get_json()["message"]
    # The right ones: the level follows the title.
    r = c.post("/api/v1/person/", json={**base, "title": "主管护师", "phone": "010-62345678"})
    assert r.status_code == 201, r.get_json()
    assert _person(app, r.get_json()["id"]) == ("主管护师", "中级", "010-62345678")
    r = c.put(f"/api/v1/person/{world.pa}", json={"title": "副主任药师"})
    assert r.status_code == 200, r.get_json()
    assert _person(app, world.pa)[:2] == ("副主任药师", "副高")


# ------------------------------------------------------------------ Excel import
def test_the_import_refuses_a_typed_title_and_a_bad_phone(app, app_ctx, world, tmp_path):
    from app.extensions import db
    from app.models import Person

    assert IMPORT_COLUMNS[5:] == ["职称", "专业", "联系电话"]
    path = save(tmp_path, [["T0000101", "王超", NEW_ID, "甲医院", "心内科", "超级", "内科", "13912345678"],
                           ["T0000102", "李电", idcard.make("110101", datetime.date(1987, 1, 2), 11),
                            "甲医院", "心内科", "护士", "", "12345"]])
    job = run_import("inst_a", path)
    assert job.status == "failed"
    assert "共2处错误" in job.message and "职称“超级”不在字典中" in job.message, job.message
    assert db.session.query(Person).filter(Person.card_no.like("T00001%")).count() == 0


# ------------------------------------------------------------------ statistics
def test_statistics_over_a_legacy_bad_row_make_no_fifth_level(app, world):
    from app.extensions import db
    from app.models import Person
    from app.services import stats
    from app.services.compliance import recompute
    from app.services.rule_sets import policy_params
    from app.services.scope import Scope
    from tests.rule_helpers import add_credit, rule_set

    with app.app_context():
        db.session.get(Person, world.pa).title_level = "超级"  # typed before issue 15.5
        db.session.get(Person, world.pa2).title_level = "初级"
        add_credit(world.pa, 30, datetime.date(2025, 1, 5))
        db.session.commit()
        bj = rule_set("BJ2025")
        recompute(db.session, policy_params(bj), bj.id, 2025, Scope("all"))
        db.session.commit()
        rows = stats.rate_by_title_level(db.session, Scope("all"), 2025, bj.id)
        labels = [r.label for r in rows]
        assert "超级" not in labels
        assert set(labels) <= {"初级", "中级", "副高", "正高", "其他/未填写"}
        other = next(r for r in rows if r.label == "其他/未填写")
        assert (other.persons, other.met, other.rate) == (1, 1, 100.0)
        assert sum(r.persons for r in rows) == db.session.query(Person).count()
        assert labels == sorted(labels, key=["初级", "中级", "副高", "正高", "其他/未填写"].index)
