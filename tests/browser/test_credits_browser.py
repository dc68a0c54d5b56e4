"""Issue 3 points 3–5 in headless Chromium (CSRF on, jobs in a background thread): filtering the credit
list with FAB's filter widget, the 达标计算 button's progress bar, the transcript, and the compute API
called by page JavaScript from a logged-in session (token required)."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import delete, select

from tests.rule_helpers import add_credit

D = datetime.date


@pytest.fixture
def credits(browser_app):
    """Credits of 张三 (甲医院) and 王五 (乙医院); removed afterwards with their stored results."""
    from app.extensions import db
    from app.models import ComplianceResult, Credit, Person

    with browser_app.app_context():
        persons = {p.card_no: p.id for p in db.session.scalars(select(Person))}
        pa, pb = persons["A0000001"], persons["B0000001"]
        rows = [add_credit(pa, 10, D(2025, 3, 1)), add_credit(pa, 8, D(2024, 12, 1), category="有计划的自学"),
                add_credit(pb, 25, D(2025, 5, 1))]
        rows[0].content, rows[0].source = "心血管介入新进展", "card"
        rows[1].content, rows[1].source = "自学一", "self_study"
        rows[2].content = "乙医院专属活动"
        db.session.commit()
        ids = [c.id for c in rows]
        db.session.remove()
    yield {"pa": pa, "pb": pb}
    with browser_app.app_context():
        db.session.execute(delete(ComplianceResult).where(ComplianceResult.person_id.in_([pa, pb])))
        db.session.execute(delete(Credit).where(Credit.id.in_(ids)))
        db.session.commit()


def test_filter_the_credit_list_by_source(page, login_as, credits):
    login_as("inst_a")
    page.goto("/credits/list/")
    assert "心血管介入新进展" in page.inner_text("table.table-bordered") and "乙医院专属活动" not in page.content()
    page.click("#filter_form button.dropdown-toggle")  # the filter row is open (issue 15.2)
    page.click("#filter_form ul.dropdown-menu a.filter >> text=学分来源")
    page.locator("#filter_form select.filter_val").last.select_option("card")
    with page.expect_navigation():
        page.click("#filter_form button[type=submit]")
    table = page.inner_text("table.table-bordered")
    assert "心血管介入新进展" in table and "自学一" not in table and "刷卡" in table
    assert page.get_attribute("a:has-text('导出Excel')", "href").endswith("_flt_0_source=card")
    assert not page.js_errors


def test_recompute_button_shows_the_progress_bar(page, login_as, credits):
    login_as("inst_a")
    page.goto("/compliance/list/")
    with page.expect_navigation():
        page.click("#recompute-form button[type=submit]")
    assert "job=" in page.url
    page.wait_for_selector(".cme-job[data-done=finished]")
    assert page.inner_text(".cme-job .progress-bar") == "100%"
    assert "2025年度达标计算完成" in page.inner_text(".cme-job-message")
    page.goto("/compliance/list/")
    assert "张三（A0000001）" in page.inner_text("table.table-bordered") and "王五" not in page.content()
    assert not page.js_errors


def test_transcript_and_live_compute_from_the_session(page, login_as, credits, browser_app):
    from app.extensions import db
    from app.models import CreditStandard, RuleSet

    with browser_app.app_context():
        standard = db.session.scalar(select(CreditStandard.id).join(RuleSet).where(
            RuleSet.code == "BJ2025", CreditStandard.seq == 15))
    login_as("inst_a")
    page.goto(f"/transcript/{credits['pa']}?year=2025")
    assert "还差7学分（要求25学分，已获18学分）" in page.inner_text("#compliance-explanation")
    page.goto(f"/transcript/{credits['pb']}?year=2025")
    assert "乙医院专属活动" not in page.content()
    page.goto("/compliance/list/")  # a page carrying the session's CSRF token
    call = """async ([standard, withToken]) => {
        const token = document.querySelector('input[name=csrf_token]').value;
        const headers = {'Content-Type': 'application/json'};
        if (withToken) headers['X-CSRFToken'] = token;
        const r = await fetch('/api/v1/credit_rules/compute', {method: 'POST', headers,
            body: JSON.stringify({standard_id: standard, amount: 7})});
        return [r.status, await r.json()];
    }"""
    status, body = page.evaluate(call, [standard, False])
    assert status == 400 and "CSRF" in body["message"]
    status, body = page.evaluate(call, [standard, True])
    assert status == 200 and body["credits"] == 2 and body["explanation"].endswith("得2分")


def test_city_moves_a_credit_with_the_ajax_person_picker(page, login_as, credits, browser_app):
    from app.extensions import db
    from app.models import Credit, Person

    with browser_app.app_context():
        credit_id = db.session.scalar(select(Credit.id).where(Credit.content == "心血管介入新进展"))
        pa2 = db.session.scalar(select(Person.id).where(Person.card_no == "A0000002"))
    login_as("city")
    page.goto(f"/credits/edit/{credit_id}")
    assert page.locator("select#person option").count() == 2  # blank + the current person, never everyone
    page.click("#person + .select2 .select2-selection")
    page.fill(".select2-search__field", "李")
    page.click(".select2-results__option >> text=李四")
    with page.expect_navigation():
        page.click("form:has(#person) button[type=submit]")  # not the navbar's logout form
    assert not page.js_errors
    with browser_app.app_context():
        assert db.session.get(Credit, credit_id).person_id == pa2
        db.session.remove()


def test_transcript_reads_as_cards_on_a_phone(page, login_as, credits):
    """Issue 15.7: at 390×844 the transcript's credit table is one card per credit, each line "列名: 值",
    nothing wider than the screen (it shrank to one-character columns before)."""
    import os

    from tests.browser.conftest import SHOT_DIR

    page.set_viewport_size({"width": 390, "height": 844})
    login_as("inst_a")
    page.goto(f"/transcript/{credits['pa']}?year=2025")
    table = page.locator("#transcript-credits")
    assert "cme-cards" in (table.get_attribute("class") or "")
    first = page.locator("#transcript-credits tbody tr", has_text="心血管介入新进展")
    assert first.locator("td[data-label='活动内容']").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("getComputedStyle(document.querySelector('#transcript-credits thead')).position") == "absolute"
    assert ":" in first.locator("td[data-label='上传时间']").inner_text() and first.locator(
        "td[data-label='上传时间']").inner_text().count(":") == 1  # YYYY-MM-DD HH:MM, no seconds (issue 15.2)
    cell = first.locator("td[data-label='活动内容']")
    assert cell.bounding_box()["width"] > 200  # a full-width line, not a one-character column
    os.makedirs(SHOT_DIR, exist_ok=True)
    page.screenshot(path=os.path.join(SHOT_DIR, "transcript-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.evaluate("getComputedStyle(document.querySelector('#transcript-credits thead')).position") != "absolute"
    assert not page.js_errors
