"""Issue 4 point 3 "Done when": a technician's manual entry → unit fail with reason → the technician
sees the reason, fixes, resubmits → unit pass → city pass, in headless Chromium with CSRF on."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from tests.conftest import FIXED_NOW

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CONTENT = "浏览器测试：国家级心血管新进展学习班"


def _delete_credits(browser_app, content):
    """Leave the shared browser world as it was: the manual credits of ``content`` and what hangs on them."""
    from app.extensions import db
    from app.models import Attachment, ComplianceResult, Credit, ManualCredit, ReviewLog

    with browser_app.app_context():
        ids = list(db.session.scalars(select(Credit.id).where(Credit.content == content)))
        db.session.execute(delete(ReviewLog).where(ReviewLog.owner_type == "credit", ReviewLog.owner_id.in_(ids)))
        db.session.execute(delete(Attachment).where(Attachment.owner_type == "credit", Attachment.owner_id.in_(ids)))
        db.session.execute(delete(ManualCredit).where(ManualCredit.credit_id.in_(ids)))
        persons = list(db.session.scalars(select(Credit.person_id).where(Credit.id.in_(ids))))
        db.session.execute(delete(Credit).where(Credit.id.in_(ids)))
        db.session.execute(delete(ComplianceResult).where(ComplianceResult.person_id.in_(persons)))
        db.session.commit()


@pytest.fixture
def cleanup(browser_app):
    yield
    _delete_credits(browser_app, CONTENT)


def _switch(page, login_as, user):
    page.goto("/logout/")  # a confirmation page: logout is a POST (issue 17.5)
    with page.expect_navigation():
        page.click("#logout-confirm button[type=submit]")
    login_as(user)


def _row(page):
    return page.locator("#review-list tr", has_text=CONTENT)


def test_manual_entry_review_chain(page, login_as, cleanup, clock):
    clock.at(tick=True)  # a fixed instant (FIXED_NOW), ticking: the app's "today" and the form's agree
    page.on("dialog", lambda d: d.accept())
    login_as("tech_a")
    page.goto("/manual-credits/")
    page.click("#manual-add")
    page.fill("#content", CONTENT)
    page.select_option("#category", "国家级继续医学教育项目")
    page.fill("#project_no", "2026-03-01-088")
    page.fill("#certificate_no", "WRONG-001")
    page.fill("#credits", "5")
    page.fill("#hours", "15")
    page.fill("#organizer", "中华医学会")
    page.fill("#granted_on", FIXED_NOW.date().isoformat())
    page.set_input_files("#evidence", files=[{"name": "电子证书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    with page.expect_navigation():
        page.click("#btn-save")
    assert "草稿" in page.inner_text("#credit-status")
    # Check, then 授分 (confirmed).
    with page.expect_navigation():
        page.click("#btn-submit")
    assert "已提交" in page.inner_text("#credit-status")
    assert page.locator("#btn-submit").count() == 0

    _switch(page, login_as, "inst_a")
    page.goto("/credit-review/")
    row = _row(page)
    assert row.count() == 1
    row.locator("summary").click()  # inline preview, no download
    assert row.locator("iframe.cme-preview-pdf").count() == 1
    row.locator("input.cme-row").check()
    page.fill("#reason", "证书编号与电子学分证书不一致")
    # The opened PDF preview may still be laying itself out when a pointer click lands, which then hits
    # nothing: press the button itself (its onclick checks and confirms, the dialog is accepted above).
    with page.expect_navigation():
        page.locator("#btn-fail").evaluate("button => button.click()")
    assert "已审核不通过 1 条学分" in page.content() and _row(page).count() == 0

    _switch(page, login_as, "tech_a")
    page.goto("/manual-credits/")
    line = page.locator("#manual-list tr", has_text=CONTENT)
    assert "审核不通过" in line.inner_text() and "证书编号与电子学分证书不一致" in line.inner_text()
    with page.expect_navigation():
        line.locator("a", has_text="编辑").click()
    page.fill("#certificate_no", "ZS2026-088")
    with page.expect_navigation():
        page.click("#btn-save-submit")
    assert "已提交" in page.inner_text("#credit-status")
    log = page.inner_text(".cme-review-log")
    assert "单位审核不通过" in log and "证书编号与电子学分证书不一致" in log and "inst_a" in log

    _switch(page, login_as, "inst_a")
    page.goto("/credit-review/")
    _row(page).locator("input.cme-row").check()
    with page.expect_navigation():
        page.click("#btn-pass")
    assert "已审核通过 1 条学分" in page.content()

    _switch(page, login_as, "city")
    page.goto("/credit-review/")
    assert _row(page).count() == 1
    _row(page).locator("input.cme-row").check()
    with page.expect_navigation():
        page.click("#btn-pass")
    assert _row(page).count() == 0

    _switch(page, login_as, "tech_a")
    page.goto("/manual-credits/")
    line = page.locator("#manual-list tr", has_text=CONTENT)
    assert "市级审核通过" in line.inner_text()
    assert not page.js_errors


STD_CONTENT = "浏览器测试：进修学习（按标准计算）"


@pytest.fixture
def cleanup_std(browser_app):
    yield
    _delete_credits(browser_app, STD_CONTENT)


def test_manual_entry_with_standard_computes_live(page, login_as, browser_app, cleanup_std, clock):
    clock.at(tick=True)
    """The 授分标准 picker: "7 进修学习不满3个月 每6小时1分（上限25分）" — 20 hours give 3 credits, shown
    live by /api/v1/credit_rules/compute (CSRF token of the page) and computed again by the server."""
    from app.extensions import db
    from app.models import Credit, CreditStandard, RuleSet

    with browser_app.app_context():
        std = db.session.scalar(select(CreditStandard.id).join(RuleSet).where(
            RuleSet.code == "BJ2025", CreditStandard.seq == 7))
    login_as("tech_a")
    page.goto("/manual-credits/add")
    assert not page.is_visible("#amount")
    page.select_option("#standard_id", str(std))
    assert page.is_visible("#amount") and page.inner_text("#amount-unit") == "小时"
    assert page.input_value("#category") == "进修学习"
    page.fill("#amount", "20")
    page.wait_for_function("document.querySelector('#granted').textContent === '3'")
    assert page.input_value("#credits") == "3" and page.get_attribute("#credits", "readonly") is not None
    assert "每6小时1分" in page.inner_text("#compute-explanation")
    page.fill("#amount", "2")
    page.wait_for_function("document.querySelector('#compute-explanation').textContent.includes('不能授分')")
    page.fill("#amount", "40")
    page.wait_for_function("document.querySelector('#granted').textContent === '6'")
    page.fill("#content", STD_CONTENT)
    page.fill("#project_no", "JX-2026-01")
    page.fill("#certificate_no", "JX-001")
    page.fill("#hours", "40")
    page.fill("#organizer", "北京协和医院")
    page.fill("#granted_on", FIXED_NOW.date().isoformat())
    with page.expect_navigation():
        page.click("#btn-save")
    assert "草稿" in page.inner_text("#credit-status")
    with browser_app.app_context():
        credit = db.session.scalar(select(Credit).where(Credit.content == STD_CONTENT))
        assert credit.credits == 6 and credit.standard_id == std and credit.category == "进修学习"
    assert not page.js_errors
