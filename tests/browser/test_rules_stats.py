"""Issue 3 points 1, 6, 7 in headless Chromium: charts drawn by the bundled Chart.js, the 试算 box,
and copy → policy edit → what-if → publish of a rule set with the real forms (CSRF on)."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import delete, select

from tests.rule_helpers import add_credit, drop_added_rule_sets, rule_set

D = datetime.date


@pytest.fixture
def results(browser_app):
    """Credits for the browser world's persons and Beijing 2025 results; removed afterwards."""
    from app.extensions import db
    from app.models import ComplianceResult, Credit, Person
    from app.services.compliance import recompute
    from app.services.rule_sets import policy_params
    from app.services.scope import Scope

    with browser_app.app_context():
        persons = {p.card_no: p.id for p in db.session.scalars(select(Person))}
        credits = [add_credit(persons["A0000001"], 25, D(2025, 2, 1)),  # 张三 met
                   add_credit(persons["A0000002"], 22, D(2025, 3, 1)),  # 李四 22: met only if 22 are enough
                   add_credit(persons["B0000001"], 10, D(2025, 5, 1))]
        db.session.commit()
        credit_ids = [c.id for c in credits]
        bj = rule_set("BJ2025")
        bj_id = bj.id
        recompute(db.session, policy_params(bj), bj.id, 2025, Scope("all"))
        db.session.commit()
        db.session.remove()
    yield
    with browser_app.app_context():
        db.session.execute(delete(ComplianceResult).where(ComplianceResult.rule_set_id == bj_id,
                                                          ComplianceResult.year == 2025))
        db.session.execute(delete(Credit).where(Credit.id.in_(credit_ids)))
        db.session.commit()
        drop_added_rule_sets()


DRAWN_JS = "() => Array.from(document.querySelectorAll('canvas.cme-chart')).map(c => !!window.Chart.getChart(c))"


def test_statistics_charts_are_drawn_with_their_tables(page, login_as, browser_app, results):
    from app.extensions import db
    from app.models import Org, Person

    with browser_app.app_context():  # other browser tests may have imported people into 甲医院
        inst_a = db.session.scalar(select(Org.id).where(Org.code == "TA"))
        persons = db.session.query(Person).filter(Person.institution_id == inst_a).count()
    login_as("inst_a")
    page.goto("/stats/")
    assert page.evaluate(DRAWN_JS) == [True, True, True, True]
    assert page.inner_text("#table-district tbody").split() == ["东城区", str(persons), "1",
                                                                 f"{100 / persons:.1f}%"]
    assert not page.js_errors


def test_trial_box_on_a_standard(page, login_as, browser_app, results):
    from app.extensions import db
    from app.models import CreditStandard

    with browser_app.app_context():
        sid = db.session.scalar(select(CreditStandard.id).where(
            CreditStandard.rule_set_id == rule_set("BJ2025").id, CreditStandard.seq == 15))
    login_as("city")
    page.goto(f"/standards/show/{sid}")
    page.fill("#trial-amount", "40")  # seed 003 #15 每3小时1分（上限10分）: 40 h → 13 → 10
    with page.expect_navigation():
        page.click("#trial button[type=submit]")
    assert "故授予 10 学分" in page.inner_text("#trial-result") and "上限" in page.inner_text("#trial-result")


def test_copy_edit_policy_what_if_and_publish(page, login_as, results):
    login_as("city")
    page.goto("/rulesets/list/")
    row = page.locator("tr", has_text="北京市2025年授分标准")
    with page.expect_navigation():
        row.locator("a[href*='/show/']").first.click()
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#ruleset-actions button:has-text('复制到下一年')")
    assert "北京市2026年授分标准" in page.inner_text("body") and "草稿" in page.inner_text("#ruleset-actions")
    with page.expect_navigation():
        page.click("text=编辑达标规则")
    page.fill("#required_total", "22")
    with page.expect_navigation():
        page.click("button:has-text('保存')")
    assert "22分" in page.inner_text("#policy")
    with page.expect_navigation():
        page.click("text=发布前试算")
    page.fill("input[name=year]", "2025")
    with page.expect_navigation():
        page.click("#whatif-form button[type=submit]")
    assert page.inner_text("[data-count=gained]") == "1" and "李四" in page.inner_text("#whatif-changes")
    with page.expect_navigation():
        page.click("text=返回")
    with page.expect_navigation():
        page.click("#ruleset-actions button:has-text('发布')")
    assert "已发布" in page.inner_text("#ruleset-actions")
    assert not page.js_errors
