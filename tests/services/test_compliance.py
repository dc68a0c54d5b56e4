"""Compliance (ICME-10): the explained evaluator and the set-based recompute agree.

Beijing 2025 policy: 25 a year (SPEC rule facts, national 2024 reform), self-study ≤ 10,
≥ 3 months further study = full year; credit year 11-01 … 10-31 (seed 001: "2021 年 11 月 1 日至
2022 年 10 月 31 日期间卫生技术人员获取的继续医学教育学分"). National 2006: class I 5–10, class II 15–20.
"""
import datetime
from decimal import Decimal
from types import SimpleNamespace as C

import pytest
from sqlalchemy import select

from app.services.compliance import evaluate, recompute, window
from app.services.rule_sets import BEIJING_2025_POLICY as BJ
from app.services.rule_sets import NATIONAL_2006_POLICY as CN
from app.services.rule_sets import XUZHOU_2024_POLICY as XZ
from app.services.scope import Scope

D = datetime.date


def credit(credits, category="国家级继续医学教育项目", on=D(2022, 3, 1), status="unit_approved",
           credit_class=None, months=None, i=[0]):
    i[0] += 1
    return C(id=i[0], content=f"活动{i[0]}", category=category, credit_class=credit_class,
             credits=Decimal(str(credits)), months=None if months is None else Decimal(str(months)),
             granted_on=on, status=status)


def test_window_of_seed_001():
    assert window(BJ, 2022) == (D(2021, 11, 1), D(2022, 10, 31))
    assert window(XZ, 2024) == (D(2024, 1, 1), D(2024, 12, 31))


def test_exactly_25_is_met():
    r = evaluate(BJ, 2022, [credit(10), credit(10), credit(5)])
    assert r.met and r.total == Decimal("25") and r.missing == []


def test_24_8_is_not_met_and_says_what_is_missing():
    r = evaluate(BJ, 2022, [credit(10), credit(10), credit("4.8")])
    assert not r.met
    assert r.missing[0].startswith("还差0.2学分")


def test_self_study_capped_at_10():
    r = evaluate(BJ, 2022, [credit(8, "有计划的自学", D(2022, 1, 1)), credit(6, "有计划的自学", D(2022, 2, 1)),
                            credit(12)])
    assert r.by_category["有计划的自学"] == Decimal("10")
    assert r.total == Decimal("22") and not r.met
    capped = [ln for ln in r.lines if ln.note.startswith("封顶")]
    assert len(capped) == 1 and capped[0].counted == Decimal("2") and "每年最多10学分" in capped[0].note


def test_full_year_further_study_with_nothing_else():
    r = evaluate(BJ, 2022, [credit(25, "进修学习", months=3)])
    assert r.met and r.full_year and "满3个月" in r.summary
    short = evaluate(BJ, 2022, [credit(5, "进修学习", months="2.5")])
    assert not short.met and short.full_year is None


def test_credit_outside_the_window_does_not_count():
    r = evaluate(BJ, 2022, [credit(20), credit(10, on=D(2021, 10, 31)), credit(10, on=D(2022, 11, 1))])
    assert r.total == Decimal("20") and not r.met
    assert sum("不在学分年度" in ln.note for ln in r.lines) == 2


def test_rejected_credit_does_not_count():
    r = evaluate(BJ, 2022, [credit(20), credit(10, status="rejected")])
    assert r.total == Decimal("20")
    assert any("审核不通过" in ln.note for ln in r.lines)


def test_2006_class_split_26_credits_but_class_one_4_is_not_met():
    r = evaluate(CN, 2006, [credit(4, "Ⅰ类学分项目", D(2006, 3, 1), credit_class="Ⅰ类"),
                            credit(22, "Ⅱ类学分项目", D(2006, 4, 1), credit_class="Ⅱ类")])
    assert not r.met
    assert any("Ⅰ类学分还差1分" in m for m in r.missing)
    ok = evaluate(CN, 2006, [credit(5, "Ⅰ类学分项目", D(2006, 3, 1), credit_class="Ⅰ类"),
                             credit(20, "Ⅱ类学分项目", D(2006, 4, 1), credit_class="Ⅱ类")])
    assert ok.met


def test_required_per_title_level():
    policy = dict(BJ, required_by_title_level={"初级": 20})
    assert evaluate(policy, 2022, [credit(20)], title_level="初级").met
    assert not evaluate(policy, 2022, [credit(20)], title_level="中级").met


# ------------------------------------------------------------------ set-based recompute, both backends
CASES = {
    "pa": [(10, "国家级继续医学教育项目", None), (10, "国家级继续医学教育项目", None), (5, "市级继续医学教育项目", None)],
    "pa2": [(10, "国家级继续医学教育项目", None), (10, "国家级继续医学教育项目", None), ("4.8", "区级继续医学教育项目", None)],
    "pc": [(25, "进修学习", 3)],
    "pb": [(8, "有计划的自学", None), (6, "有计划的自学", None), (12, "国家级继续医学教育项目", None)],
    "pb2": [],
}


def test_recompute_matches_evaluate(app, world):
    from app.extensions import db
    from app.models import ComplianceResult, Credit, Person, RuleSet

    with app.app_context():
        rs = db.session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025"))
        policy = rs.policy.params
        for key, rows in CASES.items():
            person = db.session.get(Person, getattr(world, key))
            for n, (amount, category, months) in enumerate(rows):
                db.session.add(Credit(person_id=person.id, institution_id=person.institution_id,
                                      district_id=person.district_id, department_id=person.department_id,
                                      activity_type="继续医学教育项目", content=f"{key}-{n}",
                                      granted_on=D(2022, 1, 1) + datetime.timedelta(days=n), category=category,
                                      credits=Decimal(str(amount)), months=months, status="unit_approved"))
        # a rejected and an out-of-window credit for pa2 change nothing
        p = db.session.get(Person, world.pa2)
        for status, on in (("rejected", D(2022, 5, 1)), ("unit_approved", D(2021, 10, 31))):
            db.session.add(Credit(person_id=p.id, institution_id=p.institution_id, district_id=p.district_id,
                                  activity_type="继续医学教育项目", content="x", granted_on=on, category="国家级继续医学教育项目",
                                  credits=Decimal("10"), status=status))
        db.session.commit()
        written = recompute(db.session, policy, rs.id, 2022, Scope("all"))
        db.session.commit()
        assert written == 5
        stored = {r.person_id: r for r in db.session.scalars(select(ComplianceResult))}
        for key in CASES:
            pid = getattr(world, key)
            credits = list(db.session.scalars(select(Credit).where(Credit.person_id == pid)))
            expected = evaluate(policy, 2022, credits)
            assert stored[pid].met == expected.met, key
            assert Decimal(stored[pid].total) == expected.total, key
        assert [stored[world.pa].met, stored[world.pa2].met, stored[world.pc].met, stored[world.pb].met,
                stored[world.pb2].met] == [True, False, True, False, False]
        assert Decimal(stored[world.pb].total) == Decimal("22")

        # Recomputing one institution leaves the others' rows alone and replaces its own.
        again = recompute(db.session, policy, rs.id, 2022, Scope("institution", org_id=world.b))
        db.session.commit()
        assert again == 2
        assert db.session.query(ComplianceResult).count() == 5


@pytest.mark.parametrize("classes, met", [((4, 22), False), ((5, 20), True), ((12, 14), False)])
def test_recompute_class_split(app, world, classes, met):
    from app.extensions import db
    from app.models import ComplianceResult, Credit, Person, RuleSet

    with app.app_context():
        rs = db.session.scalar(select(RuleSet).where(RuleSet.code == "CN2006"))
        person = db.session.get(Person, world.pa)
        for cls, amount in zip(("Ⅰ类", "Ⅱ类"), classes):
            db.session.add(Credit(person_id=person.id, institution_id=person.institution_id,
                                  activity_type="继续医学教育项目", content=cls, granted_on=D(2006, 5, 1),
                                  category=f"{cls}学分项目", credit_class=cls, credits=Decimal(amount),
                                  status="city_approved"))
        db.session.commit()
        recompute(db.session, rs.policy.params, rs.id, 2006, Scope("all"), person_ids=[person.id])
        db.session.commit()
        row = db.session.scalar(select(ComplianceResult).where(ComplianceResult.person_id == person.id))
        credits = list(db.session.scalars(select(Credit).where(Credit.person_id == person.id)))
        assert row.met is met
        assert evaluate(rs.policy.params, 2006, credits).met is met
        assert Decimal(row.total) == evaluate(rs.policy.params, 2006, credits).total
