"""复制到下一年 (the yearly carry-over of a rule set, ICME-2) happens once: a second click — the same
admin's or another's — is told the year was already copied and to which draft, and adds nothing
(the race of two admins on PostgreSQL: tests/concurrency/test_year_copy.py)."""
import pytest
from sqlalchemy import func, select

from tests import helpers
from tests.rule_helpers import drop_added_rule_sets, rule_set


@pytest.fixture(autouse=True)
def _drop_rule_sets(app):
    yield
    with app.app_context():
        drop_added_rule_sets()


def test_a_second_copy_to_the_same_year_is_refused_in_chinese(app, world, login):
    from app.cli import add_user
    from app.extensions import db
    from app.models import OperationLog, Org, RuleSet
    from app.services import roles as R

    with app.app_context():
        add_user("city_2", R.CITY_ADMIN, last_name="city_2", first_name="", password=helpers.PASSWORD,
                 org=db.session.get(Org, world.city))
        db.session.commit()
        bj = rule_set("BJ2025").id
    first, second = login("city"), login("city_2")
    assert first.post(f"/rulesets/copy/{bj}").status_code == 302
    r = second.post(f"/rulesets/copy/{bj}", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "已复制到2026年" in page and "北京市2026年授分标准" in page and "未重复复制" in page
    with app.app_context():
        copies = db.session.scalar(select(func.count()).select_from(RuleSet).where(
            RuleSet.copied_from_id == bj, RuleSet.year == 2026))
        assert copies == 1
        logs = db.session.execute(select(OperationLog.operator, OperationLog.status).where(
            OperationLog.module == "授分规则", OperationLog.action == "复制").order_by(OperationLog.id)).all()
        assert [tuple(x) for x in logs] == [("city", True), ("city_2", False)]
