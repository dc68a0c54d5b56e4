"""Races on publishing rule sets (授分规则 发布): two city users publish the same draft, or two drafts
of one region with overlapping dates, at the same instant. One is published; the other is told
someone else published first (or that the dates overlap); never two overlapping published sets."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import RuleSet
from app.services import roles as R
from app.services import rule_sets as rs_service
from tests.concurrency.harness import PG_ONLY, post, race, repeat, replies, split

pytestmark = PG_ONLY
TIMES = 5


def _drafts(app, i: int, n: int) -> list[int]:
    """``n`` drafts for 2031 copied from Beijing 2025 (dates 2030-11-01 … 2031-10-31, all overlapping)."""
    with app.app_context():
        source = db.session.scalar(select(RuleSet).where(RuleSet.code == "BJ2025"))
        ids = [rs_service.copy_rule_set(db.session, source, 2031, code=f"RACE{i}{k}").id for k in range(n)]
        db.session.commit()
        db.session.remove()
        return ids


def _drop(app, ids: list[int]) -> None:
    """Rule sets survive the per-test reset: remove the race's copies."""
    with app.app_context():
        for rs in db.session.scalars(select(RuleSet).where(RuleSet.id.in_(ids))):
            rs_service.prepare_delete(db.session, rs)
            db.session.delete(rs)
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("same", [True, False], ids=["same-draft", "overlapping-drafts"])
def test_two_publishers(app, world, add_user, clients, same):
    add_user("city_2", R.CITY_ADMIN, org_id=world.city)
    players = clients("city", "city_2")

    def once(i):
        ids = _drafts(app, i, 1 if same else 2)
        targets = [ids[0], ids[0]] if same else ids
        try:
            rs = replies(race([lambda c=c, t=t: post(c, f"/rulesets/publish/{t}") for c, t in zip(players, targets)]))
            (won,), (lost,) = split(rs, lambda r: [c for c, _ in r.flashes] == ["success"])
            if same:
                # who loaded the draft before the other's commit is told someone else published it
                # first; who loaded it after sees it published already.
                assert lost.says("已由他人先", "当前为“已发布”") or lost.says("当前为已发布"), lost.flashes
            else:
                assert lost.says("生效日期重叠"), lost.flashes
            with app.app_context():
                published = db.session.scalars(select(RuleSet.id).where(
                    RuleSet.id.in_(ids), RuleSet.status == "published")).all()
                assert published == [targets[rs.index(won)]]
                db.session.remove()
        finally:
            _drop(app, ids)

    repeat(TIMES, once)
