"""Sort and filter only on declared columns, everywhere (issue 17.4): sorting persons by the masked ID number
recovered it. Every list view refuses an undeclared ``_oc_`` / ``_flt_``; the REST API its order_column and
filters; the detail page hides the birth date (digits 7–14 of the number) from who sees it masked."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select


def _list_views(app):
    """(class name, list URL, declared order columns, every model column) of each list view."""
    rules = {r.endpoint: str(r) for r in app.url_map.iter_rules()}
    out = []
    for view in app.appbuilder.baseviews:
        name = type(view).__name__
        url = rules.get(f"{name}.list")
        if url is None or getattr(view, "order_columns", None) is None or not hasattr(view, "datamodel"):
            continue
        out.append((name, url, list(view.order_columns), view.datamodel.get_columns_list()))
    return out


def test_every_list_refuses_undeclared_sort_and_filter_columns(app, world, login):
    c = login("city")
    views = _list_views(app)
    assert {"PersonView", "CreditView", "InstitutionView"} <= {v[0] for v in views}
    checked = 0
    for name, url, declared, columns in views:
        for column in columns:
            if column not in declared:
                r = c.get(url, query_string={f"_oc_{name}": column, f"_od_{name}": "asc"})
                assert r.status_code == 400, (name, column, r.status_code)
                checked += 1
        r = c.get(url, query_string={"_flt_0_id_number": "1"})
        assert r.status_code == 400, (name, "filter")
    assert checked > 50
    # Declared ones still work.
    assert c.get("/persons/list/?_oc_PersonView=name&_od_PersonView=desc").status_code == 200
    assert c.get("/persons/list/?_flt_0_name=%E5%BC%A0").status_code == 200
    assert c.get("/persons/list/?_flt_9_active=y").status_code == 400  # no 10th filter: 400, not 500


@pytest.mark.parametrize("username", ["district1", "inst_a", "sec_a"])
def test_masked_id_number_cannot_be_sorted_filtered_or_read_back(app, world, login, username):
    from app.extensions import db
    from app.models import Person

    c = login(username)
    assert c.get("/persons/list/?_oc_PersonView=id_number&_od_PersonView=asc").status_code == 400
    assert c.get("/persons/list/?_oc_PersonView=birth_date&_od_PersonView=asc").status_code == 400
    assert c.get("/persons/export/?_oc_PersonView=id_number&_od_PersonView=asc").status_code == 400
    assert c.get("/persons/list/?_flt_0_id_number=1101").status_code == 400
    for q in ("(order_column:id_number,order_direction:asc)", "(order_column:birth_date,order_direction:asc)",
              "(filters:!((col:id_number,opr:sw,value:'1101')))"):
        assert c.get(f"/api/v1/person/?q={q}").status_code == 400, q
    with app.app_context():
        birth = db.session.scalar(select(Person.birth_date).where(Person.id == world.pa))
    page = c.get(f"/persons/show/{world.pa}").get_data(as_text=True)
    assert "张三" in page
    assert str(birth) not in page and f"{birth:%Y%m%d}" not in page and "出生日期" not in page


def test_the_city_sees_the_birth_date(app, world, login):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        birth = db.session.scalar(select(Person.birth_date).where(Person.id == world.pa))
    assert isinstance(birth, datetime.date)
    page = login("city").get(f"/persons/show/{world.pa}").get_data(as_text=True)
    assert "出生日期" in page and str(birth) in page


def test_every_rest_api_refuses_undeclared_order_and_filter_columns(app, world, login):
    from flask_appbuilder import ModelRestApi

    c = login("city")
    apis = [v for v in app.appbuilder.baseviews if isinstance(v, ModelRestApi)]
    assert {"person", "credit"} <= {v.resource_name for v in apis}
    checked = 0
    for api in apis:
        url = f"/api/v1/{api.resource_name}/"
        for column in api.datamodel.get_columns_list():
            if column not in api.order_columns:
                r = c.get(url, query_string={"q": f"(order_column:{column},order_direction:asc)"})
                assert r.status_code == 400, (url, column, r.status_code)
                checked += 1
            if column not in api.search_columns:
                r = c.get(url, query_string={"q": f"(filters:!((col:{column},opr:eq,value:'1')))"})
                assert r.status_code == 400, (url, "filter", column, r.status_code)
    assert checked > 20


def test_no_list_or_api_sorts_or_searches_the_id_number_or_birth_date(app):
    """Only the city sees ID numbers in full: no list may sort or filter by them (nor by the birth date)."""
    hidden = {"id_number", "birth_date"}
    offenders = [(type(v).__name__, c) for v in app.appbuilder.baseviews
                 for c in list(getattr(v, "order_columns", None) or []) + list(getattr(v, "search_columns", None) or [])
                 if c in hidden]
    assert offenders == []
