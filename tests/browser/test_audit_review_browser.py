"""Browser walk of 专家审验 (issue 7 "Done when"): an expert logs in, opens a person, fails one credit with a
reason, passes the rest, recomputes compliance, and the result list shows the new status; the unit's
certificate PDF downloads and its QR verification page (public, no login) confirms it."""
from __future__ import annotations

import re

from tests.audit_review.helpers import audit_world
from tests.helpers import PASSWORD


def _world_ids(app):
    from types import SimpleNamespace

    from sqlalchemy import select

    from app.extensions import db
    from app.models import Org, Person

    with app.app_context():
        people = dict(db.session.execute(select(Person.card_no, Person.id)).all())
        orgs = dict(db.session.execute(select(Org.code, Org.id)).all())
        db.session.remove()
    return SimpleNamespace(pa=people["A0000001"], pa2=people["A0000002"], pb=people["B0000001"], a=orgs["TA"],
                           b=orgs["TB"])


def test_expert_judges_computes_and_unit_prints_verified_certificate(browser_app, live_url, browser, page, login_as,
                                                                     clock):
    from tests.audit_review.helpers import IN_PERIOD

    clock.at(IN_PERIOD, tick=True)  # verdicts only inside the cycle's 审验时间
    world = _world_ids(browser_app)
    with browser_app.app_context():
        aw = audit_world(world)

    login_as("expert")
    page.goto(f"/audit-review/?cycle={aw.cycle}")
    assert page.locator("#count-total").inner_text() == "2"
    assert page.locator("#count-pending").inner_text() == "2"
    page.click("#go-persons")
    assert page.locator("#audit-persons").get_by_text("李四").count() == 0  # not allocated to this expert
    page.locator("#audit-persons tr", has_text="张三").get_by_text("明细审核").click()
    assert page.locator("#h-name").inner_text() == "张三"

    # 不通过 one credit: the reason is required (the page says so), then given
    row = page.locator(f'#audit-credits tr[data-credit="{aw.c3}"]')
    alerts: list[str] = []
    page.once("dialog", lambda d: (alerts.append(d.message), d.accept()))
    row.locator(".row-fail").click()
    assert alerts == ["请填写不通过原因"]
    page.fill("#reason", "无学分证书")
    with page.expect_navigation():
        row.locator(".row-fail").click()
    assert "已将1条学分审核为“不通过”" in page.locator(".alert").first.inner_text()
    assert "无学分证书" in page.locator(f'#audit-credits tr[data-credit="{aw.c3}"] .verdict').inner_text()

    # 通过 the rest in bulk
    for credit_id in (aw.c1, aw.c2, aw.c4):
        page.check(f'#audit-credits tr[data-credit="{credit_id}"] .cme-row')
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("#btn-pass")
    assert "已将3条学分审核为“通过”" in page.locator(".alert").first.inner_text()

    # 达标计算 with its explanation, then mark 已审
    with page.expect_navigation():
        page.click("#btn-compute")
    assert page.locator("#summary").inner_text() == "达标（25/25学分）"
    assert "未计入：审验不通过（无学分证书）" in page.locator("#explanation-lines").inner_text()
    with page.expect_navigation():
        page.click("#btn-reviewed")
    assert page.locator("#reviewed-state").inner_text() == "已审"

    page.goto(f"/audit-results/?cycle={aw.cycle}")
    assert "达标" in page.locator('#audit-results tr', has_text="张三").locator(".met").inner_text()
    page.goto(f"/audit-review/?cycle={aw.cycle}")
    assert page.locator("#count-reviewed").inner_text() == "1"
    assert not page.js_errors

    # the unit prints the certificate
    unit = browser.new_context(base_url=live_url, accept_downloads=True, locale="zh-CN")
    up = unit.new_page()
    up.goto("/login/")
    up.fill("#username", "inst_a")
    up.fill("#password", PASSWORD)
    with up.expect_navigation():
        up.click("form[name=login] [type=submit]")
    up.goto(f"/audit-results/?cycle={aw.cycle}")
    with up.expect_download() as info:
        up.locator('#audit-results tr', has_text="张三").locator(".cert-link").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF")
    match = re.search(rb"(http://[^)\s]+/audit-verify/[A-Z0-9-]{19})", data)
    assert match, "the verification address (the QR's content) is in the PDF"
    verify_url = match.group(1).decode()
    unit.close()

    # anybody (no login) opens the QR's address
    anon = browser.new_context(locale="zh-CN")
    ap = anon.new_page()
    ap.goto(verify_url)
    assert ap.locator("#verify-result").inner_text() == "证明真实有效"
    assert "张三" in ap.locator("#verify-detail").inner_text()
    assert ap.locator("#verify-met").inner_text().startswith("达标")
    anon.close()
