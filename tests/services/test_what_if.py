"""What-if (issue 3 point 6): a draft policy against the published one, set-based, both backends.

Draft = Beijing 2025 copied to 2026 with 20 a year and self-study ≤ 2. For credit year 2025
(2024-11-01 … 2025-10-31) exactly two people gain compliance and one loses it.
"""
import datetime

import pytest
from sqlalchemy import event, func, select

from app.services.compliance import evaluate, result_select
from app.services.rule_sets import copy_rule_set, policy_params
from app.services.scope import Scope
from app.services.what_if import WhatIf, WhatIfError, default_base
from tests.rule_helpers import add_credit, drop_added_rule_sets, rule_set

D = datetime.date
NATIONAL, SELF = "国家级继续医学教育项目", "有计划的自学"
CREDITS = {
    "pa": [(22, NATIONAL)],  # 22 < 25 → 22 ≥ 20: gained
    "pa2": [(25, NATIONAL)],  # met both
    "pc": [(20, NATIONAL)],  # gained
    "pb": [(10, SELF), (15, NATIONAL)],  # 25 met → 2 + 15 = 17: lost
    "pb2": [],  # met neither
}


@pytest.fixture
def draft(app, world):
    from app.extensions import db

    with app.app_context():
        for key, rows in CREDITS.items():
            for n, (amount, category) in enumerate(rows):
                add_credit(getattr(world, key), amount, D(2025, 3, 1) + datetime.timedelta(days=n), category)
        # Neither counts under either policy: rejected, and before the credit year.
        add_credit(world.pb2, 30, D(2025, 3, 1), status="rejected")
        add_credit(world.pb2, 30, D(2024, 10, 31))
        new = copy_rule_set(db.session, rule_set("BJ2025"), 2026)
        params = policy_params(new)
        params.update(required_total=20, category_limits=[{"category": SELF, "max": 2}])
        new.policy.params = params
        db.session.commit()
        draft_id = new.id
    yield draft_id
    with app.app_context():
        drop_added_rule_sets()


def test_default_base_is_the_published_source(app, draft):
    from app.extensions import db
    from app.models import RuleSet

    with app.app_context():
        assert default_base(db.session, db.session.get(RuleSet, draft)).code == "BJ2025"


def test_exactly_two_gain_and_one_loses(app, world, draft):
    from app.extensions import db
    from app.models import ComplianceResult, Credit, Person, RuleSet

    with app.app_context():
        d, base = db.session.get(RuleSet, draft), rule_set("BJ2025")
        # Results the credit hook stored when the credits were committed; what-if adds none.
        stored = db.session.scalar(select(func.count()).select_from(ComplianceResult))
        what_if = WhatIf(d, base, 2025, Scope("all"))
        statements = []
        listen = lambda *args: statements.append(args[2])
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            s = what_if.summary(db.session)
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert len(statements) == 1  # both policies judged and compared in one statement
        assert (s.persons, s.base_met, s.draft_met, s.lost, s.gained) == (5, 2, 3, 1, 2)
        rows = what_if.changes(db.session)
        assert {(r.id, r.change) for r in rows} == {(world.pa, "gained"), (world.pc, "gained"),
                                                    (world.pb, "lost")}
        pb = next(r for r in rows if r.id == world.pb)
        assert (float(pb.base_total), float(pb.draft_total), float(pb.draft_required)) == (25, 17, 20)
        # The SQL agrees with the explained evaluator person by person.
        for r in rows:
            credits = list(db.session.scalars(select(Credit).where(Credit.person_id == r.id)))
            assert evaluate(policy_params(base), 2025, credits).met == bool(r.base_met)
            assert evaluate(policy_params(d), 2025, credits).met == bool(r.draft_met)
        # Paged: one row per page, three pages.
        assert [len(what_if.changes(db.session, page, 1)) for page in (1, 2, 3, 4)] == [1, 1, 1, 0]
        assert [r[0] for r in what_if.export_rows(db.session)] == [r.card_no for r in rows]
        # Nothing was stored.
        assert db.session.scalar(select(func.count()).select_from(ComplianceResult)) == stored
        assert db.session.get(Person, world.pa) is not None


def test_scope_limits_the_comparison(app, world, draft):
    from app.extensions import db
    from app.models import RuleSet

    with app.app_context():
        what_if = WhatIf(db.session.get(RuleSet, draft), rule_set("BJ2025"), 2025,
                         Scope("institution", org_id=world.b))
        s = what_if.summary(db.session)
        assert (s.persons, s.lost, s.gained) == (2, 1, 0)
        assert [r.id for r in what_if.changes(db.session)] == [world.pb]


def test_same_rule_set_or_missing_policy_is_refused(app, draft):
    from app.extensions import db
    from app.models import RuleSet

    with app.app_context():
        d = db.session.get(RuleSet, draft)
        with pytest.raises(WhatIfError):
            WhatIf(d, d, 2025, Scope("all"))
        d.policy = None
        db.session.flush()
        with pytest.raises(WhatIfError, match="尚未设置达标规则"):
            WhatIf(d, rule_set("BJ2025"), 2025, Scope("all"))
        db.session.rollback()


def test_result_select_is_one_row_per_person_in_scope(app, world, draft):
    from app.extensions import db

    with app.app_context():
        base = rule_set("BJ2025")
        stmt = result_select(policy_params(base), base.id, 2025, Scope("district", org_id=world.d1))
        rows = {r.person_id: r for r in db.session.execute(stmt)}
        assert set(rows) == {world.pa, world.pa2, world.pc}
        assert [bool(rows[k].met) for k in (world.pa, world.pa2, world.pc)] == [False, True, False]
