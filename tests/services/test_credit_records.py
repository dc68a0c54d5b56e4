"""Credit records and their stored compliance results (issue 3 points 3 and 5).

Seed 001: "2021 年 11 月 1 日至 2022 年 10 月 31 日期间卫生技术人员获取的继续医学教育学分" is the
2022 credit year, so Beijing 2025 (in force in 2025) judges 2024-11-01 … 2025-10-31. A single
person's result follows their credits: the session hook recomputes it before the commit.
"""
import datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select

from app.services.compliance import compliance_year, recompute
from app.services.rule_sets import BEIJING_2025_POLICY as BJ
from app.services.rule_sets import NATIONAL_2006_POLICY as CN
from app.services.rule_sets import XUZHOU_2024_POLICY as XZ
from app.services.scope import Scope

D = datetime.date


# ------------------------------------------------------------------------------ compliance_year
def test_compliance_year_of_seed_001_window():
    assert compliance_year(BJ, D(2021, 11, 1)) == 2022
    assert compliance_year(BJ, D(2022, 10, 31)) == 2022
    assert compliance_year(BJ, D(2022, 11, 1)) == 2023
    assert compliance_year(BJ, D(2022, 1, 1)) == 2022


def test_compliance_year_calendar_windows_and_gaps():
    assert compliance_year(XZ, D(2024, 1, 1)) == 2024
    assert compliance_year(XZ, D(2024, 12, 31)) == 2024
    assert compliance_year(CN, D(2006, 6, 1)) == 2006
    short = {**BJ, "window": {"start": "03-01", "end": "10-31"}}
    assert compliance_year(short, D(2022, 1, 15)) is None
    assert compliance_year(short, D(2022, 3, 1)) == 2022


# ------------------------------------------------------------------------------ helpers
def _add(person_id, credits, on, status="unit_approved", category="国家级继续医学教育项目", months=None,
         content=None, uploaded_at=None):
    from app.extensions import db
    from app.models import Credit, Person

    p = db.session.get(Person, person_id)
    c = Credit(person_id=p.id, district_id=p.district_id, institution_id=p.institution_id,
               department_id=p.department_id, activity_type="继续医学教育项目",
               content=content or f"活动{credits}", granted_on=on, category=category,
               credits=Decimal(str(credits)), months=months, status=status, source="unit",
               uploaded_at=uploaded_at or datetime.datetime.combine(on, datetime.time(9)))
    db.session.add(c)
    return c


def _results(person_id=None):
    from app.extensions import db
    from app.models import ComplianceResult, RuleSet

    q = (select(ComplianceResult.person_id, ComplianceResult.year, RuleSet.code, ComplianceResult.total,
                ComplianceResult.met).join(RuleSet, RuleSet.id == ComplianceResult.rule_set_id))
    if person_id is not None:
        q = q.where(ComplianceResult.person_id == person_id)
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in db.session.execute(q)}


# ------------------------------------------------------------------------------ which rule set
def test_region_parameter_selects_the_rule_set_of_a_year(app, world):
    from app.extensions import db
    from app.models import Parameter
    from app.services import credit_records as cr

    with app.app_context():
        assert cr.region(db.session) == "北京市"  # seeded system parameter
        assert cr.rule_set_for_year(db.session, "北京市", 2025).code == "BJ2025"
        assert cr.rule_set_for_year(db.session, "北京市", 2026) is None
        assert cr.rule_set_for_year(db.session, "徐州市", 2024).code == "XZ2024"
        assert cr.years(db.session, "北京市") == [2025]
        assert cr.default_year(db.session, "北京市", D(2025, 6, 1)) == 2025
        assert cr.default_year(db.session, "北京市", D(2026, 11, 28)) == 2025  # newest judged year
        db.session.query(Parameter).filter_by(key="region").update({"value": "徐州市"})
        db.session.commit()
        assert cr.region(db.session) == "徐州市"
        assert cr.default_year(db.session, cr.region(db.session), D(2024, 5, 1)) == 2024


def test_affected_pairs_follow_the_window(app, world):
    from app.extensions import db
    from app.services import credit_records as cr

    with app.app_context():
        bj = cr.rule_set_for_year(db.session, "北京市", 2025).id
        # 2024-11-01 already belongs to 2025 (seed 001 window 11-01 … 10-31); 2024-10-31 to 2024 (no rule set)
        assert cr.affected(db.session, [world.pa], [D(2024, 11, 1)]) == {(2025, bj)}
        assert cr.affected(db.session, [world.pa], [D(2024, 10, 31)]) == set()
        assert cr.affected(db.session, [world.pa], [D(2025, 11, 1)]) == set()
        assert cr.affected(db.session, [], [D(2025, 3, 1)]) == set()


# ------------------------------------------------------------------------------ the hook
def test_adding_and_rejecting_a_credit_flips_the_stored_result(app, world):
    from app.extensions import db
    from app.models import Credit

    with app.app_context():
        _add(world.pa, 10, D(2024, 11, 15))  # credit year 2025
        _add(world.pa, 10, D(2025, 3, 1))
        db.session.commit()
        assert _results(world.pa) == {(world.pa, 2025, "BJ2025"): (Decimal("20.00"), False)}
        last = _add(world.pa, 5, D(2025, 10, 31), content="最后一次")
        db.session.commit()
        last_id = last.id
        assert _results(world.pa)[(world.pa, 2025, "BJ2025")] == (Decimal("25.00"), True)
        # another person's result is not touched
        assert _results(world.pb) == {}

        db.session.get(Credit, last_id).status = "rejected"
        db.session.commit()
        assert _results(world.pa)[(world.pa, 2025, "BJ2025")] == (Decimal("20.00"), False)

        db.session.get(Credit, last_id).status = "city_approved"
        db.session.commit()
        assert _results(world.pa)[(world.pa, 2025, "BJ2025")] == (Decimal("25.00"), True)

        db.session.delete(db.session.get(Credit, last_id))
        db.session.commit()
        assert _results(world.pa)[(world.pa, 2025, "BJ2025")] == (Decimal("20.00"), False)


def test_moving_a_credit_recomputes_both_persons_and_both_years(app, world):
    from app.extensions import db
    from app.models import Credit

    with app.app_context():
        for _ in range(3):
            _add(world.pa, 10, D(2025, 2, 1))
        db.session.commit()
        moved = db.session.scalars(select(Credit.id).where(Credit.person_id == world.pa)).first()
        db.session.remove()
        # expired object: the old person is read from the database by the hook
        credit = db.session.get(Credit, moved)
        db.session.expire(credit)
        credit.person_id = world.pa2
        db.session.commit()
        assert _results(world.pa)[(world.pa, 2025, "BJ2025")] == (Decimal("20.00"), False)
        assert _results(world.pa2)[(world.pa2, 2025, "BJ2025")] == (Decimal("10.00"), False)
        # moved out of the year (2024-10-31 is credit year 2024, judged by no Beijing rule set)
        credit = db.session.get(Credit, moved)
        credit.granted_on = D(2024, 10, 31)
        db.session.commit()
        assert _results(world.pa2)[(world.pa2, 2025, "BJ2025")] == (Decimal("0.00"), False)


def test_rollback_forgets_and_skip_flag_defers(app, world):
    from app.extensions import db
    from app.services import credit_records as cr

    with app.app_context():
        _add(world.pa, 25, D(2025, 3, 1))
        db.session.flush()
        db.session.rollback()
        db.session.commit()
        assert _results() == {}
        db.session.info[cr.SKIP] = True
        _add(world.pa, 25, D(2025, 3, 1))
        db.session.commit()
        assert _results() == {}  # a bulk job sets SKIP and recomputes the scope itself
        db.session.info.pop(cr.SKIP)


def test_stored_results_under_another_rule_set_are_kept_current(app, world):
    from app.extensions import db
    from app.models import Credit, RuleSet

    with app.app_context():
        xz = db.session.scalar(select(RuleSet).where(RuleSet.code == "XZ2024"))
        recompute(db.session, xz.policy.params, xz.id, 2024, Scope("all"), [world.pb])
        db.session.commit()
        assert _results(world.pb) == {(world.pb, 2024, "XZ2024"): (Decimal("0.00"), False)}
        _add(world.pb, 25, D(2024, 6, 1))  # 2024: Beijing judges nothing, Xuzhou's stored result follows
        db.session.commit()
        assert _results(world.pb) == {(world.pb, 2024, "XZ2024"): (Decimal("25.00"), True)}
        db.session.execute(delete(Credit))
        db.session.commit()


# ------------------------------------------------------------------------------ explicit recompute
def test_recompute_persons_after_a_bulk_insert(app, world):
    from app.extensions import db
    from app.models import Credit, Person
    from app.services import credit_records as cr

    with app.app_context():
        rows = []
        for pid in (world.pa, world.pb):
            p = db.session.get(Person, pid)
            rows.append(dict(person_id=pid, district_id=p.district_id, institution_id=p.institution_id,
                             department_id=p.department_id, activity_type="继续医学教育项目", content="批量",
                             granted_on=D(2025, 5, 1), category="市级继续医学教育项目", credits=Decimal(25),
                             status="unit_approved", source="card", uploaded_at=datetime.datetime(2025, 5, 1)))
        db.session.execute(insert(Credit), rows)  # bulk: no hook
        db.session.commit()
        assert _results() == {}
        written = cr.recompute_persons(db.session, [world.pa, world.pb], [D(2025, 5, 1)])
        db.session.commit()
        assert written == 2
        assert _results() == {(world.pa, 2025, "BJ2025"): (Decimal("25.00"), True),
                              (world.pb, 2025, "BJ2025"): (Decimal("25.00"), True)}


def test_note_credits_recomputes_core_inserts_at_commit(app, world):
    # Core inserts (projects.grant) hand their rows to note_credits: the same commit recomputes.
    from app.extensions import db
    from app.models import Credit, Person
    from app.services import credit_records as cr

    with app.app_context():
        p = db.session.get(Person, world.pa)
        row = dict(person_id=p.id, district_id=p.district_id, institution_id=p.institution_id,
                   department_id=p.department_id, activity_type="继续医学教育项目", content="签到授分",
                   granted_on=D(2025, 5, 1), category="市级继续医学教育项目", credits=Decimal(25),
                   status="unit_approved", source="card", uploaded_at=datetime.datetime(2025, 5, 1))
        db.session.execute(insert(Credit), [row])
        cr.note_credits(db.session, [row])
        db.session.commit()
        assert _results() == {(world.pa, 2025, "BJ2025"): (Decimal("25.00"), True)}


def test_a_person_moved_or_retitled_has_their_stored_results_follow(app, world):
    from app.extensions import db
    from app.models import ComplianceResult, Person, RuleSet

    with app.app_context():
        _add(world.pa, 20, D(2025, 3, 1))
        db.session.commit()
        pb = db.session.get(Person, world.pb)
        pa = db.session.get(Person, world.pa)
        assert pa.institution_id != pb.institution_id
        pa.district_id, pa.institution_id, pa.department_id = pb.district_id, pb.institution_id, pb.department_id
        db.session.commit()
        stored = db.session.scalar(select(ComplianceResult).where(ComplianceResult.person_id == world.pa))
        assert (stored.institution_id, stored.department_id) == (pb.institution_id, pb.department_id)
        # A policy requiring more of one title level: changing the title changes the required total.
        bj = db.session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025"))
        shipped = dict(bj.policy.params)  # rule sets outlive a test's data reset: put it back
        bj.policy.params = {**shipped, "required_by_title_level": {"正高": 30}}
        db.session.commit()
        try:
            pa.title_level = "正高"
            db.session.commit()
            stored = db.session.scalar(select(ComplianceResult).where(ComplianceResult.person_id == world.pa))
            assert (stored.title_level, stored.required, stored.total) == ("正高", Decimal("30.00"), Decimal("20.00"))
        finally:
            bj.policy.params = shipped
            db.session.commit()


def test_recompute_scope_covers_everyone_in_the_scope_once(app, world):
    from app.extensions import db
    from app.models import Org
    from app.services import credit_records as cr

    with app.app_context():
        _add(world.pa, 25, D(2025, 5, 1))
        _add(world.pb, 25, D(2025, 5, 1))
        db.session.info[cr.SKIP] = True
        db.session.commit()
        db.session.info.pop(cr.SKIP)
        inst_a = db.session.get(Org, world.a)
        rs, written = cr.recompute_scope(db.session, Scope("institution", org_id=inst_a.id), 2025)
        db.session.commit()
        assert rs.code == "BJ2025" and written == 2  # 张三 and 李四, with or without credits
        assert _results() == {(world.pa, 2025, "BJ2025"): (Decimal("25.00"), True),
                              (world.pa2, 2025, "BJ2025"): (Decimal("0.00"), False)}
        with pytest.raises(cr.CreditRecordError, match="没有适用于2026年度的已发布规则集"):
            cr.recompute_scope(db.session, Scope("all"), 2026)


# ------------------------------------------------------------------------------ transcript
def test_transcript_explains_counted_capped_and_not_counted(app, world):
    from app.extensions import db
    from app.models import Person
    from app.services import credit_records as cr

    with app.app_context():
        _add(world.pa, 8, D(2024, 12, 1), category="有计划的自学", content="自学一")
        _add(world.pa, 6, D(2025, 1, 5), category="有计划的自学", content="自学二")
        _add(world.pa, 10, D(2025, 2, 1), content="国家级项目")
        _add(world.pa, 3, D(2025, 3, 1), status="rejected", content="被驳回")
        _add(world.pa, 4, D(2024, 10, 20), content="补传的旧学分", uploaded_at=datetime.datetime(2024, 11, 3, 10))
        _add(world.pa, 9, D(2023, 5, 1), content="往年学分")  # neither granted nor uploaded in 2025
        db.session.commit()
        t = cr.transcript(db.session, db.session.get(Person, world.pa), 2025)
        assert t.rule_set.code == "BJ2025" and t.window == (D(2024, 11, 1), D(2025, 10, 31))
        assert [c.content for c in t.credits] == ["补传的旧学分", "自学一", "自学二", "国家级项目", "被驳回"]
        notes = {ln.content: ln.note for ln in t.evaluation.lines}
        assert notes["自学一"] == "计入"
        assert notes["自学二"] == "封顶：有计划的自学每年最多10学分，本条计入2分"
        assert notes["被驳回"] == "未计入：状态为“审核不通过”"
        assert notes["补传的旧学分"] == "未计入：不在学分年度（2024-11-01至2025-10-31）内"
        assert t.evaluation.total == Decimal(20) and not t.evaluation.met
        assert t.evaluation.missing[0] == "还差5学分（要求25学分，已获20学分）"
        # the stored result (written by the hook) agrees with the explanation
        assert (t.stored.total, t.stored.met) == (Decimal("20.00"), False)
        none = cr.transcript(db.session, db.session.get(Person, world.pa), 2023)
        assert none.rule_set is None and none.evaluation is None
        assert [c.content for c in none.credits] == ["往年学分"]
