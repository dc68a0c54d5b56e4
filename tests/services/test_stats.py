"""Dashboard statistics (SYS-7): GROUP BY numbers for a small world with known credits and results.

Beijing 2025, credit year 2025 (2024-11-01 … 2025-10-31), 25 a year:
pa 初级 甲医院(三级, 东城区) 20 → no;  pa2 甲医院 25 → yes;  pc 丙社区(一级, 东城区) 0 → no;
pb 乙医院(二级, 西城区) 30 → yes;  pb2 乙医院 10 → no.
"""
import datetime
from decimal import Decimal

import pytest

from app.services import stats
from app.services.compliance import recompute, window
from app.services.rule_sets import policy_params
from app.services.scope import Scope
from tests.rule_helpers import add_credit, rule_set

D = datetime.date


@pytest.fixture
def results(app, world):
    from app.extensions import db
    from app.models import Person

    with app.app_context():
        db.session.get(Person, world.pa).title_level = "初级"
        add_credit(world.pa, 20, D(2024, 11, 5))
        add_credit(world.pa2, 10, D(2025, 1, 10))
        add_credit(world.pa2, 15, D(2025, 1, 20))
        add_credit(world.pb, 30, D(2025, 10, 31))
        add_credit(world.pb2, 10, D(2025, 3, 3))
        add_credit(world.pb2, 40, D(2025, 3, 4), status="rejected")  # not counted anywhere
        add_credit(world.pa, 40, D(2024, 10, 31))  # before the credit year
        db.session.commit()
        bj = rule_set("BJ2025")
        recompute(db.session, policy_params(bj), bj.id, 2025, Scope("all"))
        db.session.commit()
        yield bj.id


def _table(rows):
    return [(r.label, r.persons, r.met, r.rate) for r in rows]


def test_rates_for_the_city(app, world, results):
    from app.extensions import db

    with app.app_context():
        everyone = Scope("all")
        assert stats.result_years(db.session, everyone) == [(2025, results, "北京市2025年授分标准")]
        assert _table(stats.rate_by_district(db.session, everyone, 2025, results)) == [
            ("东城区", 3, 1, 33.3), ("西城区", 2, 1, 50.0)]
        assert _table(stats.rate_by_institution_level(db.session, everyone, 2025, results)) == [
            ("三级", 2, 1, 50.0), ("二级", 2, 1, 50.0), ("一级", 1, 0, 0.0)]
        assert _table(stats.rate_by_title_level(db.session, everyone, 2025, results)) == [
            ("初级", 1, 0, 0.0), ("中级", 4, 2, 50.0)]


def test_credits_per_month_counts_approved_credits_in_the_window(app, world, results):
    from app.extensions import db

    with app.app_context():
        start, end = window(policy_params(rule_set("BJ2025")), 2025)
        months = stats.credits_by_month(db.session, Scope("all"), start, end)
        assert [m.month for m in months][:3] == ["2024-11", "2024-12", "2025-01"] and len(months) == 12
        got = {m.month: (m.count, m.credits) for m in months if m.count}
        assert got == {"2024-11": (1, Decimal(20)), "2025-01": (2, Decimal(25)), "2025-03": (1, Decimal(10)),
                       "2025-10": (1, Decimal(30))}


def test_institution_admin_sees_only_its_institution(app, world, results):
    from app.extensions import db

    with app.app_context():
        inst_a = Scope("institution", org_id=world.a)
        data = stats.dashboard(db.session, inst_a, 2025, results)
        assert _table(data["district"]) == [("东城区", 2, 1, 50.0)]
        assert _table(data["institution_level"]) == [("三级", 2, 1, 50.0)]
        assert _table(data["title_level"]) == [("初级", 1, 0, 0.0), ("中级", 1, 1, 100.0)]
        assert {m.month: m.count for m in data["months"] if m.count} == {"2024-11": 1, "2025-01": 2}
        assert stats.result_years(db.session, Scope("institution", org_id=-1)) == []


def test_credits_per_month_count_what_the_rule_sets_policy_counts(app, world):
    """Seed 002 三 3: "刷卡记录需在项目结束一周内上传 ICME 系统，经市级审核通过后授予学分" — Xuzhou 2024 counts a
    swipe / QR grant (and a hand entry) only once the city passed it, so the month table leaves out the
    unit-approved ones; Beijing 2025 (no counting section) counts them as before."""
    from app.extensions import db
    from app.models import ManualCredit
    from tests.credit_helpers import credit

    with app.app_context():
        credit(world.pa, 10, D(2024, 11, 5), source="card")  # unit_approved: waits for the city in Xuzhou
        credit(world.pa, 4, D(2024, 11, 6), source="card", status="city_approved")
        credit(world.pa, 3, D(2024, 12, 1), source="qr")
        credit(world.pa, 2, D(2024, 12, 2), source="unit")  # the wizard's entry: no hand-entry row
        hand = credit(world.pa, 1, D(2024, 12, 3), source="unit")  # the unit's hand entry for its staff
        db.session.add(ManualCredit(credit_id=hand.id, year=2024, late=False, entered_by="unit"))
        credit(world.pa, 7, D(2024, 12, 4), source="card", status="submitted")  # counted nowhere
        db.session.commit()

        def months(code: str, year: int) -> dict:
            data = stats.dashboard(db.session, Scope("all"), year, rule_set(code).id)
            return {m.month: (m.count, m.credits) for m in data["months"] if m.count}

        assert months("XZ2024", 2024) == {"2024-11": (1, Decimal(4)), "2024-12": (1, Decimal(2))}
        assert months("BJ2025", 2025) == {"2024-11": (2, Decimal(14)), "2024-12": (3, Decimal(6))}
        # no policy at all: the default statuses, as Beijing's
        plain = stats.credits_by_month(db.session, Scope("all"), D(2024, 11, 1), D(2024, 12, 31))
        assert [(m.month, m.count, m.credits) for m in plain] == [("2024-11", 2, Decimal(14)),
                                                                   ("2024-12", 3, Decimal(6))]
