"""The one data-scope helper (app/services/scope.py) and how a user's roles map to a scope.

Pure: transient model instances and compiled SQL, no database.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.models import Notice, Org, Person
from app.services import roles as R
from app.services.scope import NO_SCOPE, Scope


def _sql(criterion) -> str:
    return str(criterion.compile(compile_kwargs={"literal_binds": True}))


def _person(**kw) -> Person:
    return Person(**{"district_id": 2, "institution_id": 4, "department_id": 7, "id": 1, **kw})


def _org(kind, **kw) -> Org:
    return Org(kind=kind, **kw)


# ------------------------------------------------------------------------------ criterion
@pytest.mark.parametrize("scope,model,expected", [
    (Scope("district", org_id=2), Person, "person.district_id = 2"),
    (Scope("institution", org_id=4), Person, "person.institution_id = 4"),
    (Scope("department", org_id=7), Person, "person.department_id = 7"),
    (Scope("person", person_id=1), Person, "person.id = 1"),
    (Scope("institution", org_id=4), Org, "org.institution_id = 4"),
    (Scope("district", org_id=2), Notice, "notice.district_id = 2"),
])
def test_criterion_is_one_equality_on_the_anchor_column(scope, model, expected):
    assert _sql(scope.criterion(model)) == expected


def test_all_sees_everything_and_none_sees_nothing():
    assert _sql(Scope("all").criterion(Person)) == "true"
    assert _sql(NO_SCOPE.criterion(Person)) == "false"
    query = select(Person.id)
    assert Scope("all").filter(query, Person) is query  # no WHERE added at all
    assert "WHERE false" in _sql(NO_SCOPE.filter(select(Person.id), Person))


def test_a_level_the_model_does_not_know_matches_nothing():
    # Org has no "person" anchor: a technician's scope sees no organization rows.
    assert _sql(Scope("person", person_id=1).criterion(Org)) == "false"
    # An anchor missing from the scope is no anchor at all (never "column IS NULL").
    assert _sql(Scope("institution").criterion(Person)) == "false"


def test_filter_works_on_select_and_on_legacy_query():
    where = _sql(Scope("department", org_id=7).filter(select(Person.id), Person))
    assert where.endswith("WHERE person.department_id = 7")

    class FakeQuery:
        def __init__(self):
            self.criteria = []

        def filter(self, criterion):
            self.criteria.append(_sql(criterion))
            return self

    assert Scope("district", org_id=3).filter(FakeQuery(), Person).criteria == ["person.district_id = 3"]


def test_unknown_level_and_undeclared_model_are_errors():
    with pytest.raises(ValueError):
        Scope("everyone")

    class Plain:
        __name__ = "Plain"

    with pytest.raises(TypeError):
        Scope("institution", org_id=1).criterion(Plain)


# --------------------------------------------------------------------------------- allows
@pytest.mark.parametrize("scope,row,allowed", [
    (Scope("all"), _person(), True),
    (Scope("district", org_id=2), _person(), True),
    (Scope("district", org_id=3), _person(), False),
    (Scope("institution", org_id=4), _person(), True),
    (Scope("institution", org_id=5), _person(), False),
    (Scope("department", org_id=7), _person(), True),
    (Scope("department", org_id=8), _person(), False),
    (Scope("department", org_id=7), _person(department_id=None), False),
    (Scope("person", person_id=1), _person(), True),
    (Scope("person", person_id=2), _person(), False),
    (NO_SCOPE, _person(), False),
    (Scope("institution"), _person(institution_id=None), False),  # None never equals None here
    (Scope("institution", org_id=4), None, False),
])
def test_allows_one_row(scope, row, allowed):
    assert scope.allows(row) is allowed


@pytest.mark.parametrize("scope,org,allowed", [
    (Scope("all"), _org("institution", institution_id=4, district_id=2), True),
    (Scope("all"), None, False),
    (Scope("district", org_id=2), _org("institution", institution_id=4, district_id=2), True),
    (Scope("district", org_id=2), _org("institution", institution_id=6, district_id=3), False),
    (Scope("district", org_id=2), _org("city"), False),  # a district admin cannot place rows at city level
    (Scope("institution", org_id=4), _org("department", department_id=7, institution_id=4, district_id=2), True),
    (Scope("institution", org_id=4), _org("institution", institution_id=5, district_id=2), False),
    (Scope("institution", org_id=4), _org("district", district_id=2), False),  # its own district: above it
    (Scope("department", org_id=7), _org("department", department_id=7, institution_id=4), True),
    (Scope("department", org_id=7), _org("institution", institution_id=4), False),
    (Scope("person", person_id=1), _org("institution", institution_id=4), False),
    (NO_SCOPE, _org("institution", institution_id=4), False),
])
def test_allows_org_decides_where_rows_may_be_placed(scope, org, allowed):
    assert scope.allows_org(org) is allowed


# ----------------------------------------------------------------------- user → scope
def _user(*role_names, org=None, person_id=None):
    return SimpleNamespace(is_authenticated=True, roles=[SimpleNamespace(name=n) for n in role_names],
                           org=org, person_id=person_id)


D1 = _org("district", district_id=2)
INST_A = _org("institution", district_id=2, institution_id=4)
DEPT_A = _org("department", district_id=2, institution_id=4, department_id=7)


@pytest.mark.parametrize("user,expected", [
    (_user(R.CITY_ADMIN, org=_org("city")), Scope("all")),
    (_user(R.DISTRICT_ADMIN, org=D1), Scope("district", org_id=2)),
    (_user(R.INSTITUTION_ADMIN, org=INST_A), Scope("institution", org_id=4)),
    (_user(R.DEPARTMENT_SECRETARY, org=DEPT_A), Scope("department", org_id=7)),
    (_user(R.TECHNICIAN, person_id=9), Scope("person", person_id=9)),
    (_user(R.EXPERT, org=_org("city")), NO_SCOPE),
    (_user(R.SITE_MANAGER, org=INST_A), NO_SCOPE),
    # the widest role wins
    (_user(R.DEPARTMENT_SECRETARY, R.INSTITUTION_ADMIN, org=DEPT_A), Scope("institution", org_id=4)),
    # an admin anchored to a node above its level gets nothing, not everything
    (_user(R.INSTITUTION_ADMIN, org=D1), NO_SCOPE),
    (_user(R.DISTRICT_ADMIN, org=None), NO_SCOPE),
    (_user(R.TECHNICIAN), NO_SCOPE),
    (_user("Public"), NO_SCOPE),
    (SimpleNamespace(is_authenticated=False, roles=[]), NO_SCOPE),
    (None, NO_SCOPE),
])
def test_scope_for_user(user, expected):
    from app.views.base import scope_for_user

    assert scope_for_user(user) == expected


def test_every_role_has_a_scope_level():
    assert set(R.ROLE_SCOPE) == set(R.ALL_ROLES)
