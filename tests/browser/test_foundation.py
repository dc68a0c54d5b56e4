"""Issue 2 point 11 in real headless Chromium: menus per role, personnel search, Excel import.

Runs against the dedicated SQLite app of tests/browser/conftest.py (CSRF on, jobs in a
background thread), logging in through the real login page.
"""
from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest

from app.services import idcard

# Top-level menus (categories) and menu items of the foundation, as the navbar shows them.
CATEGORIES = {"组织机构", "人员管理", "系统管理", "用户权限", "个人信息"}
ITEMS = {"区县", "医疗机构", "科室", "学员", "人员导入", "字典管理", "字典数据", "参数设置", "通知公告",
         "操作日志", "登录日志", "用户列表", "角色列表", "我的任务"}

# role user → (categories it sees, items it sees); everything else of the sets above is hidden.
EXPECTED_MENUS = {
    "city": (CATEGORIES, ITEMS),
    "district1": ({"组织机构", "人员管理", "系统管理", "个人信息"},
                  {"区县", "医疗机构", "科室", "学员", "人员导入", "字典管理", "字典数据", "参数设置",
                   "通知公告", "我的任务"}),
    "inst_a": ({"组织机构", "人员管理", "个人信息"}, {"医疗机构", "科室", "学员", "人员导入", "我的任务"}),
    "sec_a": ({"人员管理", "个人信息"}, {"学员", "我的任务"}),
    "tech_a": ({"个人信息"}, {"我的任务"}),
    "expert": ({"个人信息"}, {"我的任务"}),
    "site": ({"个人信息"}, {"我的任务"}),
}

# URLs behind menus the role does not have, and text that would betray data behind them.
FORBIDDEN = {
    "district1": ["/oplog/list/", "/loginlog/list/", "/users/list/"],
    "inst_a": ["/districtview/list/", "/oplog/list/", "/dicttypes/list/", "/users/list/"],
    "sec_a": ["/institutionview/list/", "/departmentview/list/", "/oplog/list/", "/persons/import/"],
    "tech_a": ["/persons/list/", "/departmentview/list/", "/oplog/list/"],
    "expert": ["/persons/list/", "/institutionview/list/", "/loginlog/list/"],
    "site": ["/persons/list/", "/districtview/list/", "/users/list/"],
}
DATA_MARKERS = ["张三", "李四", "王五", "孙七", "赵六", "东城区", "西城区", "乙医院", "丙社区卫生服务中心",
                "A0000001", "B0000001", "inst_b", "district2"]

NAVBAR_JS = """() => Array.from(document.querySelectorAll('ul.nav.navbar-nav:not(.navbar-right) > li'))
  .map(li => [li.querySelector(':scope > a').innerText.trim(),
              Array.from(li.querySelectorAll('ul.dropdown-menu a')).map(a => a.innerText.trim())])"""


def navbar(page) -> dict[str, list[str]]:
    return {category: items for category, items in page.evaluate(NAVBAR_JS)}


def person_rows(page) -> list[str]:
    """The 姓名 column of the personnel list on the current page ([] when FAB shows no table)."""
    if page.locator("table.table-bordered").count() == 0:
        return []
    headers = [h.strip() for h in page.locator("table.table-bordered thead th").all_inner_texts()]
    col = headers.index("姓名")
    return [r.strip() for r in page.locator(f"table.table-bordered tbody tr td:nth-child({col + 1})")
            .all_inner_texts()]


def open_person_list(page) -> None:
    page.click("ul.nav.navbar-nav >> text=人员管理")
    with page.expect_navigation():
        page.click("ul.dropdown-menu >> text=学员")
    assert page.locator("h4.panel-title", has_text="人员列表").count() == 1


def search(page, filter_label: str, value: str) -> None:
    """Use FAB's search widget (open above the list, issue 15.2): add the filter, type, submit."""
    page.click("#filter_form button.dropdown-toggle")
    page.click(f"#filter_form ul.dropdown-menu a.filter >> text={filter_label}")
    field = page.locator("#filter_form table.filters .filter_val").last
    field.fill(value)
    # Submitted by the form itself, given time: a click during the panel's opening was once lost (CI).
    with page.expect_navigation(timeout=30000):
        page.locator("#filter_form").evaluate("form => form.requestSubmit()")


@pytest.mark.parametrize("username", list(EXPECTED_MENUS))
def test_role_sees_its_chinese_menus_only(page, login_as, username):
    login_as(username)
    menus = navbar(page)
    categories, items = EXPECTED_MENUS[username]
    assert set(menus) & CATEGORIES == categories, menus
    shown = {item for entries in menus.values() for item in entries}
    assert shown & ITEMS == items, menus
    for category in categories:  # no empty dropdowns
        assert menus[category], f"{category} is an empty menu for {username}"
    assert f"欢迎，{username}" in page.inner_text("body")

    for url in FORBIDDEN.get(username, []):
        response = page.goto(url)
        body = page.inner_text("body")
        assert response.status == 403, (username, url, response.status)
        leaked = [m for m in DATA_MARKERS if m in body]
        assert not leaked, f"{username} sees {leaked} at {url}"
        assert page.locator("table.table-bordered tbody tr").count() == 0, url
    assert not page.js_errors


def test_personnel_search_by_name(page, login_as):
    login_as("inst_a")
    open_person_list(page)
    assert sorted(person_rows(page)) == ["张三", "李四"]  # institution B's people are not listed
    toolbar = page.locator(".cme-toolbar")
    assert toolbar.get_by_role("link", name="人员导入").count() == 1
    assert toolbar.get_by_role("link", name="导出Excel").count() == 1

    search(page, "姓名", "张")
    assert person_rows(page) == ["张三"]
    assert "_flt_" in page.url

    # A name of another institution finds nothing, even searched by its exact name.
    page.goto("/persons/list/")
    search(page, "姓名", "王五")
    assert person_rows(page) == []
    assert "王五" not in page.inner_text("body")
    assert not page.js_errors


def test_department_secretary_sees_own_department_without_import(page, login_as):
    login_as("sec_a")
    open_person_list(page)
    assert person_rows(page) == ["张三"]  # 心内科 of 甲医院 only
    assert "1101**********" in page.inner_text("table.table-bordered")  # ID numbers masked
    toolbar = page.locator(".cme-toolbar")
    assert toolbar.get_by_role("link", name="人员导入").count() == 0  # no button to a 403 page
    assert toolbar.get_by_role("link", name="导出Excel").count() == 1
    assert not page.js_errors


def _id_number(n: int) -> str:
    return idcard.make("310101", datetime.date(1985, 1, 1) + datetime.timedelta(days=n), 900 + n)


def _fill_template(template: bytes, rows: list[list]) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(template))
    ws = wb.worksheets[0]
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(page, content: bytes, name: str) -> None:
    page.set_input_files("#file", files=[{
        "name": name, "buffer": content,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    with page.expect_navigation():
        page.click("#import-form [type=submit]")


def _wait_job_end(page) -> str:
    page.wait_for_selector(".cme-job[data-done]", timeout=20_000)
    return page.get_attribute(".cme-job", "data-done")


def test_personnel_import_with_progress_bar(page, login_as, tmp_path):
    login_as("inst_a")
    page.click("ul.nav.navbar-nav >> text=人员管理")
    with page.expect_navigation():
        page.click("ul.dropdown-menu >> text=人员导入")
    assert page.locator("h4", has_text="人员导入").count() == 1

    with page.expect_download() as info:
        page.get_by_role("link", name="下载导入模板").click()
    download = info.value
    assert download.suggested_filename == "人员导入模板.xlsx"
    with open(download.path(), "rb") as fh:
        template = fh.read()
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(template)).worksheets[0][1]]
    assert header[:5] == ["IC卡号", "姓名", "身份证号", "单位", "科室"]

    good = _fill_template(template, [
        ["BR000001", "欧阳明", _id_number(1), "甲医院", "心内科", "主治医师", "心血管内科", "13800000001"],
        ["BR000002", "钱多多", _id_number(2), "甲医院", "骨科", "住院医师", "骨科", "13800000002"],
        ["BR000003", "周芷若", _id_number(3), "甲医院", "心内科", "", "", ""],
    ])
    _upload(page, good, "人员.xlsx")
    assert _wait_job_end(page) == "finished"
    bar = page.locator(".cme-job .progress-bar")
    assert bar.inner_text().strip() == "100%"
    assert bar.get_attribute("aria-valuenow") == "100"
    assert "progress-bar-success" in bar.get_attribute("class")
    assert re.search(r"导入成功，共3人", page.inner_text(".cme-job-message"))

    open_person_list(page)
    assert {"欧阳明", "钱多多", "周芷若"} <= set(person_rows(page))
    search(page, "拼音首字母", "oy")  # pinyin initials were derived on import
    assert person_rows(page) == ["欧阳明"]

    # A file with one bad row: nothing is written, the bar ends failed, the report downloads.
    page.goto("/persons/import/")
    bad = _fill_template(template, [
        ["BR000004", "吴用", _id_number(4), "甲医院", "心内科", "", "", ""],
        ["BR000005", "郑和", "110101198501011235", "甲医院", "骨科", "", "", ""],
    ])
    _upload(page, bad, "人员-有错.xlsx")
    assert _wait_job_end(page) == "failed"
    assert "progress-bar-danger" in bar.get_attribute("class")
    assert bar.evaluate("b => b.style.width") == "100%"  # the bar reached its end
    assert bar.inner_text().strip() == "失败"
    message = page.inner_text(".cme-job-message")
    assert "失败" in message and "第3行" in message and "身份证号" in message, message
    link = page.locator(".cme-job-download")
    assert link.is_visible() and link.inner_text().strip() == "下载结果文件"
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == "人员导入错误报告.xlsx"
    with open(info.value.path(), "rb") as fh:
        report = openpyxl.load_workbook(io.BytesIO(fh.read())).worksheets[0]
    rows = [[c.value for c in r] for r in report.iter_rows()]
    assert rows[0][:3] == ["行号", "列", "错误原因"]
    assert any(r[0] in (3, "3") and r[1] == "身份证号" for r in rows[1:]), rows

    open_person_list(page)
    assert "吴用" not in person_rows(page)  # all or nothing
    assert not page.js_errors


NAVBAR_LAYOUT_JS = """() => {
  const items = Array.from(document.querySelectorAll('.navbar-collapse ul.nav > li'))
    .filter(li => li.offsetParent !== null);
  return {height: Math.round(document.querySelector('.cme-navbar').getBoundingClientRect().height),
          tops: items.map(li => Math.round(li.getBoundingClientRect().top)),
          toggle: getComputedStyle(document.querySelector('.cme-navbar .navbar-toggle')).display};
}"""


def test_city_navbar_stays_on_one_line_from_1280px_and_collapses_below(page, login_as):
    login_as("city")
    for width in (1920, 1440, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/")
        layout = page.evaluate(NAVBAR_LAYOUT_JS)
        assert len(layout["tops"]) >= 15, layout  # 13 menus of the city admin + language + account
        assert len(set(layout["tops"])) == 1 and layout["height"] < 60, (width, layout)
        assert layout["toggle"] == "none"
    # A shortened label keeps its full text as a tooltip.
    assert page.locator(".cme-navbar a.dropdown-toggle[title='可授学分的继续医学教育活动']").count() == 1

    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto("/")
    layout = page.evaluate(NAVBAR_LAYOUT_JS)
    assert layout["toggle"] == "block" and layout["tops"] == [] and layout["height"] < 60, layout
    page.click(".cme-navbar .navbar-toggle")
    page.wait_for_selector(".cme-navbar .navbar-collapse.in")
    page.wait_for_function("() => !document.querySelector('.cme-navbar .collapsing')")
    tops = page.evaluate(NAVBAR_LAYOUT_JS)["tops"]
    assert len(tops) >= 15 and tops == sorted(tops) and len(set(tops)) == len(tops)  # one per line
    page.click(".cme-navbar .navbar-nav >> text=人员管理")
    with page.expect_navigation():
        page.click(".cme-navbar ul.dropdown-menu >> text=学员")
    assert page.locator("h4.panel-title", has_text="人员列表").count() == 1
    assert not page.js_errors
