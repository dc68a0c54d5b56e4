"""In Chromium at 1366×768: the role editor's permission matrix (issue 15.6) and a technician's first
login by IC card number with the initial password (seed 002 附件一2: "输入用户名/IC 卡号及登录密码，初始登录
密码为 000000"), which lands on 修改密码 until the password is changed."""
from __future__ import annotations

import os

from tests.browser.conftest import SHOT_DIR

NEW_PASSWORD = "Xz-first-2026"


def _shot(page, name):
    os.makedirs(SHOT_DIR, exist_ok=True)
    page.screenshot(path=os.path.join(SHOT_DIR, name), full_page=False)


def test_role_matrix_ticks_a_row_and_saves(page, login_as):
    page.set_viewport_size({"width": 1366, "height": 768})
    login_as("city")
    page.goto("/roles/add")
    assert page.locator("#perm-matrix details").count() >= 3
    page.fill("#name", "统计查看员")
    page.fill("#perm-filter", "学员")
    row = page.locator("tr.cme-perm-row", has_text="学员").first
    row.locator("input[data-perm-row]").check()
    ticked = row.locator('input[name="permissions"]:checked').count()
    assert ticked >= 3
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, width  # the matrix fits the office laptop without a horizontal scroll
    _shot(page, "role-matrix-1366.png")
    shown = page.locator("#perm-matrix details:visible").count()
    assert 1 <= shown < page.locator("#perm-matrix details").count()  # the filter hides other groups
    with page.expect_navigation():
        page.click("#model_form [type=submit]")
    assert "新增成功" in " ".join(page.locator(".alert").all_inner_texts())
    assert not page.js_errors


def test_technician_first_login_by_card_must_change_password(page, login_as, browser_app):
    page.set_viewport_size({"width": 1366, "height": 768})
    login_as("inst_a")
    page.goto("/persons/list/")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("#open-all-accounts [type=submit]")
    assert "已开通" in page.locator(".alert").all_inner_texts()[0]
    page.context.clear_cookies()
    login_as("A0000002", "000000")
    assert "/resetmypassword/form" in page.url
    assert "初始密码" in " ".join(page.locator(".alert").all_inner_texts())
    page.goto("/transcript/me")
    assert "/resetmypassword/form" in page.url
    page.fill("#password", NEW_PASSWORD)
    page.fill("#conf_password", NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("form", has=page.locator("#conf_password")).locator("[type=submit]").click()
    page.goto("/transcript/me")
    assert "/transcript/me" in page.url
    _shot(page, "technician-after-first-login-1366.png")
    assert not page.js_errors
