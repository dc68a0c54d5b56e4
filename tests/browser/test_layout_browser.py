"""Issue 15 items 2 and 8 in headless Chromium: the one list layout and the one look.

At 1366×768 (the office laptop) and 390×844 (a phone): no list cell wraps (every cell of a row is one line
high, measured), the filter row is open above the list, dates read YYYY-MM-DD HH:MM, the page uses the full
width at 1920, the brand is not clipped and the login page names the system. Screenshots are kept in
CME_BROWSER_SHOTS (default /tmp/cme-browser-shots) as test artifacts.
"""
from __future__ import annotations

import datetime
import os
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete

from tests.browser.conftest import SHOT_DIR

LONG = "心血管疾病介入治疗新进展暨基层医师规范化诊疗能力提升学习班（第三期）"

# One line of body text is ~22px; a wrapped cell is at least two (~40px). Row heights of a list must
# stay under this whatever the column (buttons make a row ~30px).
ONE_LINE_MAX = 36

MEASURE = """(sel) => {
  const table = document.querySelector(sel);
  if (!table) return null;
  const out = [];
  for (const tr of table.querySelectorAll('tbody > tr')) {
    for (const td of tr.children) {
      if (td.offsetParent === null) continue;  // a hidden column
      const r = td.getBoundingClientRect();
      out.push({h: Math.round(r.height), text: td.innerText.trim().slice(0, 30)});
    }
  }
  return {cells: out, width: table.getBoundingClientRect().width,
          wrap: table.parentElement.getBoundingClientRect().width};
}"""


def shot(page, name: str) -> str:
    os.makedirs(SHOT_DIR, exist_ok=True)
    path = os.path.join(SHOT_DIR, f"layout-{name}.png")
    page.screenshot(path=path, full_page=False)
    return path


@pytest.fixture(scope="module")
def credits(browser_app):
    """Credits with long texts and datetimes with microseconds (what made cells wrap and show raw times)."""
    from app.extensions import db
    from app.models import Credit
    from tests.credit_helpers import credit
    from tests.helpers import build_world  # noqa: F401 - the world is built by conftest

    with browser_app.app_context():
        from app.models import Person

        people = [p.id for p in db.session.query(Person).order_by(Person.id)]
        for i, pid in enumerate(people):
            credit(pid, 10 + i, datetime.date(2025, 3, 1 + i), content=LONG, project_no=f"2025-01-{i:02d}(01)",
                   subject="心血管病学", hours=Decimal(30), source="card", grantor_name="北京市继续医学教育委员会",
                   remark="备注：" + LONG, uploaded_at=datetime.datetime(2026, 12, 6, 17, 21, 54, 272263))
        db.session.commit()
        db.session.remove()
    yield
    with browser_app.app_context():
        db.session.execute(delete(Credit))
        db.session.commit()
        db.session.remove()


def _assert_one_line(page, selector: str = "table.cme-fit") -> dict:
    data = page.evaluate(MEASURE, selector)
    assert data is not None, f"no {selector} on {page.url}"
    tall = [c for c in data["cells"] if c["h"] > ONE_LINE_MAX]
    assert not tall, f"cells wrap on {page.url}: {tall[:5]}"
    return data


@pytest.mark.parametrize("size", [(1366, 768), (390, 844)], ids=["laptop", "phone"])
def test_credit_list_fits_one_line_with_filters_open(page, login_as, credits, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    login_as("city")
    page.goto("/credits/list/")
    expect(page.locator("#cme-filters #filter_form")).to_be_visible()
    # the filter row is open with the list's first filters ready to type into (no click on 搜索)
    expect(page.locator("#filter_form table.filters tr").first).to_be_visible()
    assert page.locator("#filter_form table.filters tr").count() >= 1
    data = _assert_one_line(page)
    body = page.inner_text("table.cme-fit")
    if size[0] < 768:  # the phone scrolls the table sideways: every column is there
        assert "2026-12-06 17:21" in body, body[:300]
    assert ".272263" not in page.content() and "17:21:54" not in body
    if size[0] >= 768:
        # the table fits the page: some columns went behind 显示列 instead of wrapping
        assert data["width"] <= data["wrap"] + 1, data
        expect(page.locator("#cme-columns")).to_be_visible()
        # the header row stays in view while the list scrolls
        assert page.locator("table.cme-fit thead th").first.evaluate("th => getComputedStyle(th).position") == "sticky"
        # a cut text keeps its full text as a tooltip
        clipped = page.locator("td.cme-clip").first
        assert LONG in (clipped.get_attribute("title") or "")
    shot(page, f"credit-list-{size[0]}")


def test_columns_chooser_shows_a_hidden_column(page, login_as, credits):
    page.set_viewport_size({"width": 1366, "height": 768})
    login_as("city")
    page.goto("/credits/list/")
    hidden = page.locator("table.cme-fit thead th.cme-col-hidden")
    n = hidden.count()
    assert n >= 1
    label = hidden.first.inner_text().strip()
    page.click("#cme-columns > button")
    page.locator("#cme-columns label", has_text=label).locator("input").check()
    expect(page.locator("table.cme-fit thead th.cme-col-hidden")).to_have_count(n - 1)
    _assert_one_line(page)
    # remembered on the next visit
    page.reload()
    expect(page.locator("table.cme-fit thead th.cme-col-hidden")).to_have_count(n - 1)
    page.evaluate("localStorage.clear()")


def test_filter_row_searches_without_empty_filters(page, login_as, credits):
    page.set_viewport_size({"width": 1366, "height": 768})
    login_as("city")
    page.goto("/persons/list/")
    first = page.locator("#filter_form table.filters tr").first
    expect(first).to_be_visible()
    with page.expect_navigation():
        page.click("#filter_form button[type=submit]")
    assert "_flt_" not in page.url  # the untouched filters are not sent
    assert page.locator("table.cme-fit tbody tr").count() >= 5
    _assert_one_line(page)
    shot(page, "person-list-1366")


def test_empty_list_says_what_to_do(page, login_as):
    page.set_viewport_size({"width": 1366, "height": 768})
    login_as("city")
    page.goto("/persons/list/?_flt_0_name=不存在的人名")
    expect(page.locator("#cme-empty")).to_contain_text("没有符合筛选条件的记录")
    expect(page.locator("#cme-clear-filters")).to_be_visible()
    shot(page, "empty-list")


def test_full_width_brand_and_login_title(page, login_as):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/login/")
    expect(page.locator(".cme-login-title h1")).to_have_text("继续医学教育学分管理系统")
    shot(page, "login-1366")
    login_as("city")
    brand = page.locator(".cme-navbar .navbar-brand a")
    box = brand.evaluate("a => [a.scrollWidth, a.clientWidth, a.getBoundingClientRect().right]")
    assert box[0] <= box[1] + 1, box  # not clipped
    menus = page.locator(".cme-navbar .navbar-nav").first.bounding_box()
    assert brand.bounding_box()["x"] >= 0 and brand.bounding_box()["x"] + brand.bounding_box()["width"] <= menus["x"] + 2
    shot(page, "home-1366")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto("/persons/list/")
    panel = page.locator(".cme-list-panel").bounding_box()
    assert panel["width"] > 1800, panel  # no 1170px container
    shot(page, "person-list-1920")


def test_one_date_widget(page, login_as):
    page.set_viewport_size({"width": 1366, "height": 768})
    login_as("inst_a")
    page.goto("/manual-credits/add")
    if page.locator("input.cme-date").count() == 0:
        pytest.skip("no date field on this page")
    field = page.locator("input.cme-date").first
    assert field.get_attribute("type") == "text"
    field.click()
    expect(page.locator(".datepicker.dropdown-menu")).to_be_visible()
    assert re.search(r"\d{4}", page.inner_text(".datepicker.dropdown-menu"))
    shot(page, "datepicker")


# FAB lists of the city admin (and the institution's own lists): every one in the one layout.
SWEEP = {
    "city": ["/credits/list/", "/compliance/list/", "/persons/list/", "/oplog/list/", "/loginlog/list/",
             "/standards/list/", "/rulesets/list/", "/dictitems/list/", "/notices/list/", "/auditcycle/list/",
             "/projects/list/", "/orgs/list/"],
    "inst_a": ["/practiceplan/list/", "/filing/list/", "/selfstudy/list/", "/activities/study/"],
}


@pytest.mark.parametrize("user", list(SWEEP))
def test_every_list_fits_on_one_line_at_1366(page, login_as, credits, user):
    page.set_viewport_size({"width": 1366, "height": 768})
    login_as(user)
    seen = 0
    for url in SWEEP[user]:
        response = page.goto(url)
        if response.status in (403, 404):  # a list this role does not have
            continue
        assert response.status == 200, (url, response.status)
        if page.locator("table.cme-fit").count():
            data = _assert_one_line(page, "table.cme-fit")
            assert data["width"] <= data["wrap"] + 1, (url, data)
            assert not re.search(r"\d{2}:\d{2}:\d{2}", page.inner_text("table.cme-fit")), url  # no seconds
            seen += 1
        else:
            assert page.locator("#cme-empty, .cme-empty, .alert").count(), url
        if page.locator("#filter_form").count():
            expect(page.locator("#filter_form")).to_be_visible()
        shot(page, f"sweep-{user}-{url.strip('/').replace('/', '-')}")
    assert seen >= (3 if user == "city" else 1)
    assert not page.js_errors, page.js_errors
