"""Sampling rules of seed 001 on demo data (AUD-3, AUD-4): quotas, reproducible draws, 是否重复抽取, merge."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from app.cli import add_user
from app.extensions import db
from app.models import Org, Person
from app.models.audit import (
    AuditDraw,
    AuditDrawnPerson,
    AuditFinalPerson,
    AuditSampledInstitution,
    AuditStandard,
)
from app.services import audit_sampling as S
from app.services import roles as R
from app.services.scope import Scope
from tests.audit.audit_helpers import demo_city, make_cycle, make_standard

CITY = Scope("all")


def _admin():
    return add_user("audit_city", R.CITY_ADMIN, last_name="市继教办", first_name="")


def _draw(cycle, user, kind="institution", standard=None, seed=None):
    draw = S.create_draw(db.session, cycle, user.id, kind=kind, standard=standard, seed=seed)
    S.run_draw(db.session, draw)
    db.session.commit()
    return draw


def _sampled(cycle):
    return db.session.execute(select(AuditSampledInstitution.district_id, AuditSampledInstitution.level,
                                     AuditSampledInstitution.institution_id)
                              .where(AuditSampledInstitution.cycle_id == cycle.id)).all()


def test_quota_draw_gives_exactly_the_seed_numbers_per_district(app_ctx):
    # Seed 001 四(二)2(1): "各三级医疗卫生机构均参加抽审。各区分别抽取二级医疗卫生机构 1 家，一级医疗卫生机构
    # 2 家，社会办医疗卫生机构 2 家。"
    orgs = demo_city(institutions=250, persons=500)
    user = _admin()
    cycle = make_cycle(2022)
    draw = _draw(cycle, user, seed=20221025)
    rows = _sampled(cycle)
    per = Counter((d, lvl) for d, lvl, _ in rows)
    tertiary = Counter(i.district_id for i in orgs["institutions"] if i.level == "三级")
    assert len(orgs["districts"]) == 16
    for district in orgs["districts"]:
        assert per[(district.id, "三级")] == tertiary[district.id] >= 1  # every tertiary institution
        assert per[(district.id, "二级")] == 1
        assert per[(district.id, "一级")] == 2
        assert per[(district.id, "社会办医")] == 2
    assert draw.drawn_count == len(rows) == sum(tertiary.values()) + 16 * 5
    assert draw.params["quotas"] == {"三级": "all", "二级": 1, "一级": 2, "社会办医": 2}
    assert draw.params["shortfall"] == []
    # Each sampled institution really is of its district and level.
    levels = {i.id: (i.district_id, i.level) for i in orgs["institutions"]}
    assert all(levels[i] == (d, lvl) for d, lvl, i in rows)


def test_quotas_are_cycle_parameters_and_a_short_district_gives_all_it_has(app_ctx):
    orgs = demo_city(institutions=64, persons=200)  # the small demo: 0–1 private institution per district
    user = _admin()
    cycle = make_cycle(2022, quotas={"三级": "all", "二级": 2, "一级": 1, "社会办医": 2})
    draw = _draw(cycle, user, seed=7)
    per = Counter((d, lvl) for d, lvl, _ in _sampled(cycle))
    have = Counter((i.district_id, i.level) for i in orgs["institutions"])
    for district in orgs["districts"]:
        assert per[(district.id, "二级")] == min(2, have[(district.id, "二级")])
        assert per[(district.id, "一级")] == min(1, have[(district.id, "一级")])
        assert per[(district.id, "社会办医")] == min(2, have[(district.id, "社会办医")])
    assert draw.params["shortfall"], "districts with fewer private institutions than the quota are reported"
    with pytest.raises(S.AuditError):
        S.normalise_quotas({"三级": "all", "二级": -1})


def test_same_seed_same_list_and_rerun_reproduces(app_ctx):
    demo_city(institutions=64, persons=4000)
    user = _admin()
    cycle = make_cycle(2022)
    first = _draw(cycle, user, seed=123456789)
    inst_first = sorted(i for _, _, i in _sampled(cycle))
    second = _draw(cycle, user, seed=123456789)  # re-run with the same seed
    assert sorted(i for _, _, i in _sampled(cycle)) == inst_first
    assert second.params["digest"] == first.params["digest"]
    other = _draw(cycle, user, seed=987654321)
    assert sorted(i for _, _, i in _sampled(cycle)) != inst_first
    _draw(cycle, user, seed=123456789)

    standard = make_standard(cycle, per_department=1)
    d1 = _draw(cycle, user, kind="person", standard=standard, seed=42)
    list1 = sorted(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == standard.id)))
    assert list1 and d1.drawn_count == len(list1)
    # 按指定单位的科室人员抽取: one person of every department of the sampled institutions that has staff.
    sampled = [i for _, _, i in _sampled(cycle)]
    departments = db.session.scalar(select(func.count(func.distinct(Person.department_id)))
                                    .where(Person.institution_id.in_(sampled), Person.active.is_(True)))
    assert len(list1) == departments
    d2 = _draw(cycle, user, kind="person", standard=standard, seed=42)
    list2 = sorted(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == standard.id)))
    assert list2 == list1 and d2.params == d1.params
    _draw(cycle, user, kind="person", standard=standard, seed=43)
    list3 = sorted(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == standard.id)))
    assert list3 != list1 and len(list3) == len(list1)
    # The draw record keeps seed, parameters, operator and time.
    rec = db.session.get(AuditDraw, d1.id)
    assert (rec.seed, rec.operator_fk, rec.status) == (42, user.id, "done") and rec.created_at
    assert rec.params["standard"]["per_department"] == 1 and rec.params["candidates"] > 0
    assert other.seed == 987654321


def test_no_repeat_excludes_persons_drawn_last_cycle(app_ctx):
    demo_city(institutions=64, persons=3000)
    user = _admin()
    last = make_cycle(2021)
    _draw(last, user, seed=1)
    old = make_standard(last, per_department=3)
    _draw(last, user, kind="person", standard=old, seed=2)
    drawn_last = set(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.cycle_id == last.id)))
    assert drawn_last

    cycle = make_cycle(2022)
    _draw(cycle, user, seed=1)  # same institutions as last year
    everyone = make_standard(cycle, name="全部", per_department=0, allow_repeat=True)
    _draw(cycle, user, kind="person", standard=everyone, seed=5)
    all_now = set(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == everyone.id)))
    assert drawn_last <= all_now  # 是否重复抽取=是: they may be drawn again
    fresh = make_standard(cycle, name="不重复", per_department=0, allow_repeat=False)
    _draw(cycle, user, kind="person", standard=fresh, seed=5)
    no_repeat = set(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == fresh.id)))
    assert no_repeat == all_now - drawn_last  # 是否重复抽取=否


def test_standard_filters_levels_titles_and_named_units(app_ctx):
    orgs = demo_city(institutions=64, persons=3000)
    user = _admin()
    cycle = make_cycle(2022)
    _draw(cycle, user, seed=9)
    standard = make_standard(cycle, unit_levels=["三级"], titles=["主治医师"], per_department=0)
    _draw(cycle, user, kind="person", standard=standard, seed=3)
    rows = db.session.execute(select(Person.title, Org.level).join(AuditDrawnPerson, AuditDrawnPerson.person_id == Person.id)
                              .join(Org, Org.id == Person.institution_id)
                              .where(AuditDrawnPerson.standard_id == standard.id)).all()
    assert rows and {t for t, _ in rows} == {"主治医师"} and {lvl for _, lvl in rows} == {"三级"}
    named = orgs["institutions"][5]
    pick = make_standard(cycle, name="指定单位", institution_ids=[named.id], per_department=0)
    _draw(cycle, user, kind="person", standard=pick, seed=3)
    assert set(db.session.scalars(select(AuditDrawnPerson.institution_id).where(AuditDrawnPerson.standard_id == pick.id))) == {named.id}


def test_merge_has_no_duplicates_and_remove_and_clear(app_ctx):
    demo_city(institutions=64, persons=3000)
    user = _admin()
    cycle = make_cycle(2022)
    _draw(cycle, user, seed=11)
    a = make_standard(cycle, name="甲", per_department=2)
    b = make_standard(cycle, name="乙", per_department=2)
    _draw(cycle, user, kind="person", standard=a, seed=1)
    _draw(cycle, user, kind="person", standard=b, seed=2)
    la = set(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == a.id)))
    lb = set(db.session.scalars(select(AuditDrawnPerson.person_id).where(AuditDrawnPerson.standard_id == b.id)))
    assert la & lb, "the two lists overlap, so the merge must drop duplicates"
    added = S.merge_into_final(db.session, CITY, cycle, [a.id, b.id], user.id)
    db.session.commit()
    final = list(db.session.scalars(select(AuditFinalPerson.person_id).where(AuditFinalPerson.cycle_id == cycle.id)))
    assert len(final) == len(set(final)) == added == len(la | lb)
    assert S.merge_into_final(db.session, CITY, cycle, [a.id, b.id], user.id) == 0  # merging again adds nobody
    with pytest.raises(S.AuditError):
        S.merge_into_final(db.session, Scope("district", org_id=1), cycle, [a.id], user.id)

    row = db.session.scalar(select(AuditDrawnPerson).where(AuditDrawnPerson.standard_id == a.id).limit(1))
    S.remove_drawn_person(db.session, CITY, row)
    db.session.commit()
    assert len(la) - 1 == db.session.scalar(select(func.count()).select_from(AuditDrawnPerson)
                                            .where(AuditDrawnPerson.standard_id == a.id))
    assert S.clear_standard_list(db.session, CITY, b) == len(lb)
    with pytest.raises(S.AuditError):
        S.delete_standard(db.session, CITY, a)  # still has a list
    S.clear_standard_list(db.session, CITY, a)
    S.delete_standard(db.session, CITY, a)
    db.session.commit()
    assert db.session.get(AuditStandard, a.id) is None


def test_grouped_list_counts_and_compliance(app_ctx):
    demo_city(institutions=64, persons=3000)
    user = _admin()
    cycle = make_cycle(2022)
    _draw(cycle, user, seed=4)
    std = make_standard(cycle, per_department=2)
    _draw(cycle, user, kind="person", standard=std, seed=4)
    crit = S.standard_list_criterion(std.id, CITY)
    counts = S.group_counts(db.session, AuditDrawnPerson, crit)
    rows = db.session.execute(S.list_query(AuditDrawnPerson, crit)).all()
    assert counts["persons"] == len(rows)
    assert sum(counts["departments"].values()) == counts["persons"]
    levels = [r[0].level for r in rows]
    order = ["三级", "二级", "一级", "社会办医"]
    assert levels == sorted(levels, key=order.index)  # grouped level → unit → department
    assert all(v <= 2 for v in counts["departments"].values())
