"""What a list page renders once and reuses (issue 18.4): the search form per list, roles, scope and language;
the row buttons once per page; the REST arguments' schema checked once. Each keeps its old output."""
from __future__ import annotations

import json
import re

import pytest

from app.extensions import db
from app.views import search_cache
from app.views.search_cache import CachedSearchWidget


def _in_page(text: str, page: str) -> bool:
    """``text`` in the page as markup or inside the search form's JSON (which may escape it)."""
    return text in page or json.dumps(text)[1:-1] in page


@pytest.fixture
def renders(monkeypatch):
    calls: list[str] = []
    real = CachedSearchWidget._parts

    def counting(self):
        calls.append(self.template_args.get("route_base"))
        return real(self)

    monkeypatch.setattr(CachedSearchWidget, "_parts", counting)
    return calls


def test_the_search_form_is_rendered_once_per_list_roles_scope_and_language(app, world, login, renders):
    d1, d2 = login("district1"), login("district2")
    first = d1.get("/persons/list/").get_data(as_text=True)
    again = d1.get("/persons/list/?_flt_0_name=张").get_data(as_text=True)  # a filter applied: same form
    assert renders == ["/persons"]
    assert 'id="filter_form"' in first and _in_page("甲医院", first) and not _in_page("乙医院", first)
    # the applied filter is read from each request, not from the cache
    assert '"name"' in again.split("new AdminFilters(")[1].split(");")[0]
    other = d2.get("/persons/list/").get_data(as_text=True)  # same roles, another district: its own form
    assert renders == ["/persons", "/persons"]
    assert _in_page("乙医院", other) and not _in_page("甲医院", other)
    d1.get("/credits/list/")
    assert renders[-1] == "/credits"
    d1.get("/persons/list/?_l_=en")  # English labels: its own rendering
    assert renders[-1] == "/persons" and len(renders) == 4


def test_a_committed_new_choice_empties_the_cache_a_busy_write_does_not(app, world, login, renders):
    from app.models import Org

    city = login("city")
    assert not _in_page("丁医院", city.get("/persons/list/").get_data(as_text=True))
    assert len(renders) == 1
    with app.app_context():
        db.session.add(Org(kind="institution", name="丁医院", code="TD", parent_id=world.d2))
        db.session.flush()
        assert len(search_cache._cache)  # only the commit counts
        db.session.commit()
        assert not len(search_cache._cache)
    page = city.get("/persons/list/").get_data(as_text=True)
    assert _in_page("丁医院", page) and len(renders) == 2
    with app.app_context():  # a credit written (one of the busy tables) keeps the forms
        from tests.credit_helpers import D, credit

        credit(world.pa, 2, D(2025, 3, 1))
        db.session.commit()
        assert len(search_cache._cache)


def test_each_row_buttons_carry_the_rows_own_id(app, world, login):
    from tests.credit_helpers import seed_credits

    with app.app_context():
        seed_credits(world)
    page = login("city").get("/credits/list/").get_data(as_text=True)
    rows = re.findall(r'name="rowid" value="(\d+)"', page)
    shown = re.findall(r'href="/credits/show/(\d+)"', page)
    assert rows and shown == rows  # one show link per row, in row order, each its own id
    assert "__cme_pk__" not in page
    people = login("inst_a").get("/persons/list/").get_data(as_text=True)
    ids = re.findall(r'href="/persons/show/(\d+)"', people)
    transcripts = re.findall(r'href="/transcript/(\d+)"', people)
    assert ids and transcripts == ids and "__cme_pk__" not in people


def test_rest_arguments_are_validated_against_schemas_checked_once(app, world, login):
    import flask_appbuilder.api as fab_api

    client = login("city")
    assert client.get("/api/v1/credit/?q=(page_size:5)").status_code == 200
    assert client.get("/api/v1/credit/?q=(page_size:10)").status_code == 200
    kept = dict(fab_api.jsonschema._validators)
    assert len(kept) >= 1
    bad = client.get("/api/v1/credit/?q=(page_size:abc)")
    assert bad.status_code == 400 and "abc" in bad.get_json()["message"]
    assert fab_api.jsonschema._validators.keys() == kept.keys()  # nothing re-checked
