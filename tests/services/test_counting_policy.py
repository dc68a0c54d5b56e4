"""Counting policy per rule set and source, and multi-year requirements (issue 16 items 6 and 7).

Seed 002 (Xuzhou 2024), the lines implemented:
  附件一 3/4: "个人学分录入 … 点击“授分” … 提交审核" and "对于特殊情况补录往年学分的，学员录入后，需先提交所在单位
      审核 … 市级审核后，根据审核结果决定是否授予学分" — manual and late (补录) entries count after the city.
  三 3: "刷卡记录需在项目结束一周内上传 ICME 系统，经市级审核通过后授予学分" — card swipes (and QR sign-in,
      the seed's 签到) count only after the city's review.
SPEC "Rule facts": "staff of provincial units and tertiary hospitals need 10 national-project credits
within 5 years" — the multi-year requirement, judged by both evaluators.
"""
import datetime
from decimal import Decimal
from types import SimpleNamespace as C

import pytest
from sqlalchemy import select

from app.services import counting
from app.services.compliance import PolicyError, evaluate, recompute, validate_policy
from app.services.rule_sets import BEIJING_2025_POLICY as BJ
from app.services.rule_sets import NATIONAL_FIVE_YEARS
from app.services.rule_sets import XUZHOU_2024_POLICY as XZ
from app.services.scope import Scope

D = datetime.date
NATIONAL = "国家级继续医学教育项目"
CITY = "市级继续医学教育项目"


def credit(amount, source, status, *, id=None, category=CITY, on=D(2024, 5, 1)):
    return C(id=id, content=f"{source}-{status}", category=category, credit_class=None,
             credits=Decimal(str(amount)), months=None, granted_on=on, status=status, source=source)


# ------------------------------------------------------------------------------------ one person
def test_xuzhou_swipe_and_qr_wait_for_the_city_beijing_counts_them():
    """三 3 "刷卡记录 … 经市级审核通过后授予学分": a swipe grant at 单位审核通过 does not count in Xuzhou yet."""
    credits = [credit(10, "card", "unit_approved", id=1), credit(10, "qr", "unit_approved", id=2),
               credit(5, "card", "city_approved", id=3)]
    xz = evaluate(XZ, 2024, credits)
    assert xz.total == Decimal(5)
    notes = {ln.credit_id: ln.note for ln in xz.lines}
    assert "待市级审核，暂不计入" in notes[1] and "刷卡" in notes[1]
    assert "待市级审核，暂不计入" in notes[2] and "扫码" in notes[2]
    assert notes[3] == "计入"
    assert evaluate(BJ, 2024, credits).total == Decimal(25)  # Beijing as today


def test_xuzhou_manual_and_late_entries_count_after_the_city():
    """附件一 3/4: hand entries (the technician's and the unit's 补录) count after 市级审核."""
    credits = [credit(8, "manual", "unit_approved", id=1),  # technician's entry, unit passed it
               credit(6, "unit", "unit_approved", id=2),  # unit's late entry (补录)
               credit(4, "unit", "unit_approved", id=3),  # unit's entry for its staff in an open year
               credit(7, "unit", "unit_approved", id=4),  # the wizard: no hand-entry row
               credit(3, "manual", "city_approved", id=5)]
    hand = {1: False, 2: True, 3: False, 5: False}
    xz = evaluate(XZ, 2024, credits, hand=hand)
    assert xz.total == Decimal(10)  # the wizard's 7 and the city-passed 3
    notes = {ln.credit_id: ln.note for ln in xz.lines}
    assert "手工录入学分须经市级审核通过后计入" in notes[1]
    assert "补录学分须经市级审核通过后计入" in notes[2]
    assert "待市级审核" in notes[3] and notes[4] == "计入"
    assert evaluate(BJ, 2024, credits, hand=hand).total == Decimal(28)


def test_submitted_or_rejected_never_count_whatever_the_source():
    credits = [credit(10, "card", "submitted", id=1), credit(10, "manual", "rejected", id=2)]
    ev = evaluate(XZ, 2024, credits, hand={2: False})
    assert ev.total == 0
    assert all(ln.note.startswith("未计入：状态为") for ln in ev.lines)


def test_policy_helpers():
    assert counting.needs_city_review(XZ, "card") and counting.needs_city_review(XZ, "late")
    assert not counting.needs_city_review(XZ, "unit") and not counting.needs_city_review(BJ, "card")
    assert counting.grant_source(XZ, "card", "project_import") == "card"
    assert counting.grant_source(BJ, "card", "project_import") == "project_import"
    assert counting.source_key("unit", None) == "unit" and counting.source_key("unit", False) == "manual"
    assert counting.source_key("unit", True) == "late" and counting.source_key("manual", False) == "manual"


def test_policy_validation_names_bad_counting_and_multi_year():
    validate_policy(dict(XZ, multi_year=[NATIONAL_FIVE_YEARS]))
    with pytest.raises(PolicyError) as exc:
        validate_policy(dict(XZ, counting={"by_source": {"fax": ["city_approved"], "card": ["approved"]}},
                             multi_year=[{"years": 0, "categories": [], "min": -1}]))
    text = "；".join(exc.value.errors)
    assert "未知的学分来源“fax”" in text and "刷卡计入状态必须是非空列表" in text
    assert "年数必须是1到10的整数" in text and "至少有一个学分类别" in text and "最少学分必须是大于0" in text


def test_multi_year_requirement_explained():
    """SPEC: 10 national-project credits within 5 years for tertiary staff (2020-01-01 … 2024-12-31)."""
    policy = dict(XZ, multi_year=[NATIONAL_FIVE_YEARS])
    year = [credit(25, "unit", "unit_approved", id=1, category=CITY)]
    history = year + [credit(4, "unit", "unit_approved", id=2, category=NATIONAL, on=D(2020, 3, 1)),
                      credit(3, "unit", "unit_approved", id=3, category=NATIONAL, on=D(2023, 3, 1)),
                      credit(9, "unit", "unit_approved", id=4, category=NATIONAL, on=D(2019, 12, 31))]
    ev = evaluate(policy, 2024, year, history=history, institution_level="三级")
    assert not ev.met and ev.total == Decimal(25)
    (m,) = ev.multi_year
    assert (m["start"], m["end"], m["got"], m["min"]) == (D(2020, 1, 1), D(2024, 12, 31), Decimal(7), Decimal(10))
    assert any("5年内国家级继续医学教育项目学分" in s and "还差3学分" in s for s in ev.missing)
    assert evaluate(policy, 2024, year, history=history, institution_level="一级").met  # applies to 三级 only
    history.append(credit(3, "unit", "unit_approved", id=5, category=NATIONAL, on=D(2024, 2, 1)))
    assert evaluate(policy, 2024, year, history=history, institution_level="三级").met


# ------------------------------------------------------------------------------------ both evaluators agree
# (source, late flag or None for no hand-entry row, status, amount, category, date)
Y = D(2024, 5, 1)
AGREE = [
    ("xuzhou swipe waiting", XZ, [("card", None, "unit_approved", 20, CITY, Y), ("unit", None, "unit_approved", 5, CITY, Y)],
     False, "5"),
    ("xuzhou swipe passed", XZ, [("card", None, "city_approved", 20, CITY, Y), ("qr", None, "city_approved", 5, CITY, Y)],
     True, "25"),
    ("xuzhou manual and late waiting", XZ, [("manual", False, "unit_approved", 10, CITY, Y),
                                            ("unit", True, "unit_approved", 10, CITY, Y),
                                            ("unit", None, "unit_approved", 10, CITY, Y)], False, "10"),
    ("xuzhou manual and late passed", XZ, [("manual", False, "city_approved", 10, CITY, Y),
                                           ("unit", True, "city_approved", 10, CITY, Y),
                                           ("unit", False, "city_approved", 5, CITY, Y)], True, "25"),
    ("beijing counts them at unit level", BJ, [("card", None, "unit_approved", 10, CITY, D(2025, 3, 1)),
                                               ("unit", True, "unit_approved", 10, CITY, D(2025, 3, 1)),
                                               ("manual", False, "unit_approved", 5, CITY, D(2025, 3, 1))], True, "25"),
    ("five years short", dict(XZ, multi_year=[NATIONAL_FIVE_YEARS]),
     [("unit", None, "unit_approved", 25, CITY, Y), ("unit", None, "unit_approved", 6, NATIONAL, D(2021, 1, 5)),
      ("unit", None, "unit_approved", 9, NATIONAL, D(2019, 6, 1))], False, "25"),
    ("five years met, late entry passed", dict(XZ, multi_year=[NATIONAL_FIVE_YEARS]),
     [("unit", None, "unit_approved", 25, CITY, Y), ("unit", None, "unit_approved", 6, NATIONAL, D(2021, 1, 5)),
      ("unit", True, "city_approved", 4, NATIONAL, D(2022, 6, 1))], True, "25"),
    ("five years: a late entry waiting does not count", dict(XZ, multi_year=[NATIONAL_FIVE_YEARS]),
     [("unit", None, "unit_approved", 25, CITY, Y), ("unit", None, "unit_approved", 6, NATIONAL, D(2021, 1, 5)),
      ("unit", True, "unit_approved", 4, NATIONAL, D(2022, 6, 1))], False, "25"),
    ("five years met by the full year? no", dict(XZ, multi_year=[NATIONAL_FIVE_YEARS]),
     [("unit", None, "unit_approved", 25, "进修学习", Y)], False, "25"),
]


@pytest.mark.parametrize("name, policy, rows, met, total", AGREE, ids=[a[0] for a in AGREE])
@pytest.mark.parametrize("who", ["pa", "pc"])
def test_set_based_and_explained_agree(app, world, name, policy, rows, met, total, who):
    """The same person judged by compliance.recompute (SQL) and by evaluate with counting.context (the
    transcript's path): 张三 works at a 三级 hospital, 赵六 at a 一级 centre (no multi-year rule)."""
    from app.extensions import db
    from app.models import ComplianceResult, Credit, ManualCredit, Person, RuleSet

    year = 2025 if policy is BJ else 2024
    if policy is not BJ and policy is not XZ:
        policy = dict(policy)
    with app.app_context():
        rs_id = db.session.scalar(select(RuleSet.id).where(RuleSet.code == ("BJ2025" if policy is BJ else "XZ2024")))
        person = db.session.get(Person, getattr(world, who))
        for n, (source, late, status, amount, category, on) in enumerate(rows):
            c = Credit(person_id=person.id, institution_id=person.institution_id, district_id=person.district_id,
                       department_id=person.department_id, activity_type="继续医学教育项目", content=f"{name}-{n}",
                       granted_on=on, category=category, credits=Decimal(amount),
                       months=Decimal(6) if category == "进修学习" else None, status=status, source=source)
            db.session.add(c)
            db.session.flush()
            if late is not None:
                db.session.add(ManualCredit(credit_id=c.id, year=on.year, late=late,
                                            entered_by="unit" if source == "unit" else "person"))
        db.session.commit()
        recompute(db.session, policy, rs_id, year, Scope("all"), person_ids=[person.id])
        db.session.commit()
        stored = db.session.scalar(select(ComplianceResult).where(
            ComplianceResult.person_id == person.id, ComplianceResult.rule_set_id == rs_id,
            ComplianceResult.year == year))
        window_credits = [c for c in db.session.scalars(select(Credit).where(Credit.person_id == person.id))
                          if c.granted_on.year == year or policy is BJ]
        ev = evaluate(policy, year, window_credits, person.title_level,
                      **counting.context(db.session, person, policy, year, window_credits))
        expected_met = met if who == "pa" or not policy.get("multi_year") else ev.met
        assert (stored.met, Decimal(str(stored.total))) == (ev.met, ev.total)
        assert ev.total == Decimal(total) and ev.met == expected_met
        if who == "pc" and policy.get("multi_year"):  # 一级: the five-year rule does not apply
            assert ev.met == (ev.total >= 25 or ev.full_year is not None)


def test_whole_scope_recompute_reads_the_policy(app, world):
    """The job's path (PostgreSQL: the staged recompute): every person judged with the counting policy
    and the five-year rule, as evaluate judges each."""
    from app.extensions import db
    from app.models import ComplianceResult, Credit, Person, RuleSet

    policy = dict(XZ, multi_year=[NATIONAL_FIVE_YEARS])
    with app.app_context():
        rs_id = db.session.scalar(select(RuleSet.id).where(RuleSet.code == "XZ2024"))
        rows = {"pa": [("card", "city_approved", 25, CITY, Y), ("unit", "unit_approved", 10, NATIONAL, D(2021, 2, 1))],
                "pa2": [("card", "city_approved", 25, CITY, Y), ("unit", "unit_approved", 9, NATIONAL, D(2021, 2, 1))],
                "pc": [("card", "unit_approved", 25, CITY, Y), ("unit", "unit_approved", 25, CITY, Y)],
                "pb": [("qr", "unit_approved", 25, CITY, Y)]}
        for key, credits in rows.items():
            p = db.session.get(Person, getattr(world, key))
            for n, (source, status, amount, category, on) in enumerate(credits):
                db.session.add(Credit(person_id=p.id, institution_id=p.institution_id, district_id=p.district_id,
                                      activity_type="继续医学教育项目", content=f"{key}{n}", granted_on=on,
                                      category=category, credits=Decimal(amount), status=status, source=source))
        db.session.commit()
        assert recompute(db.session, policy, rs_id, 2024, Scope("all")) == 5
        db.session.commit()
        stored = {r.person_id: r for r in db.session.scalars(select(ComplianceResult))}
        for key in rows:
            p = db.session.get(Person, getattr(world, key))
            year_credits = [c for c in db.session.scalars(select(Credit).where(Credit.person_id == p.id))
                            if c.granted_on.year == 2024]
            ev = evaluate(policy, 2024, year_credits, p.title_level,
                          **counting.context(db.session, p, policy, 2024, year_credits))
            assert (stored[p.id].met, Decimal(str(stored[p.id].total))) == (ev.met, ev.total), key
        assert [stored[getattr(world, k)].met for k in ("pa", "pa2", "pc", "pb")] == [True, False, True, False]


def test_an_older_credit_refreshes_a_later_five_year_result(app, world):
    """A national-project credit of 2021 entered now changes the stored 2024 result of a five-year rule
    (the commit's hook reads the rule's span, not only the 2024 window)."""
    from app.extensions import db
    from app.models import ComplianceResult, Credit, Parameter, Person, RuleSet
    from app.services import credit_records

    with app.app_context():
        rs = db.session.scalar(select(RuleSet).where(RuleSet.code == "XZ2024"))
        shipped = dict(rs.policy.params)
        try:
            rs.policy.params = dict(shipped, multi_year=[NATIONAL_FIVE_YEARS])
            region = db.session.scalar(select(Parameter).where(Parameter.key == "region"))
            region.value = "徐州市"
            p = db.session.get(Person, world.pa)
            add = dict(person_id=p.id, institution_id=p.institution_id, district_id=p.district_id,
                       activity_type="继续医学教育项目", status="unit_approved", source="unit")
            db.session.add(Credit(**add, content="市级", granted_on=Y, category=CITY, credits=Decimal(25)))
            db.session.commit()
            credit_records.recompute_scope(db.session, Scope("all"), 2024)
            db.session.commit()

            def met() -> bool:
                return db.session.scalar(select(ComplianceResult.met).where(
                    ComplianceResult.person_id == p.id, ComplianceResult.year == 2024))

            assert met() is False  # no national credits within 2020 … 2024
            db.session.add(Credit(**add, content="国家级", granted_on=D(2021, 6, 1), category=NATIONAL,
                                  credits=Decimal(10)))
            db.session.commit()
            assert met() is True
        finally:
            db.session.rollback()
            rs = db.session.scalar(select(RuleSet).where(RuleSet.code == "XZ2024"))
            rs.policy.params = shipped
            db.session.commit()
