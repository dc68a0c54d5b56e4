"""Race: two city admins click 复制到下一年 (年度结转 of a rule set) on the same rule set at the same
instant. One draft for the next year is made (one winner, the source row locked while it copies);
the other is told in Chinese that the year was already copied — no 500, no second draft, no
unique-key error."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import RuleSet
from app.services import roles as R
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split
from tests.rule_helpers import drop_added_rule_sets

pytestmark = PG_ONLY
TIMES = 5


def test_two_admins_copy_the_same_year(app, world, add_user, clients):
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")
    with app.app_context():
        bj = db.session.scalar(select(RuleSet.id).where(RuleSet.code == "BJ2025"))
        db.session.remove()

    def once(i):
        try:
            rs = replies(race([lambda c=c: post(c, f"/rulesets/copy/{bj}") for c in players]))
            (won,), (lost,) = split(rs, lambda r: [c for c, _ in r.flashes] == ["success"])
            assert won.says("已复制为草稿")
            assert lost.says("已复制到2026年", "未重复复制"), (lost.status, lost.flashes)
            with app.app_context():
                copies = db.session.scalar(select(func.count()).select_from(RuleSet).where(
                    RuleSet.copied_from_id == bj, RuleSet.year == 2026))
                assert copies == 1
                db.session.remove()
        finally:
            with app.app_context():
                drop_added_rule_sets()
                db.session.remove()

    repeat(TIMES, once)
