"""The widgets Flask-AppBuilder drives from JavaScript speak Chinese too (issue 2, point 1).

ab.js / ab_actions.js hard-code English (select2 "Select", "No row selected") and the bundled
bootstrap-datepicker has no Chinese: cme.js and bootstrap-datepicker.zh-CN.js fill that in.
"""


def test_select_datepicker_alert_and_filters_are_chinese(page, login_as):
    login_as("city")

    page.goto("/departmentview/add")
    # The blank choice of a relation (option "__None") shows FAB's placeholder, in Chinese.
    assert page.locator("#s2id_parent, .select2-selection__rendered").first.inner_text().strip() == "请选择"

    page.goto("/rulesets/add")
    page.click("input[name=effective_from]")
    calendar = page.locator(".datepicker-days").first
    assert "年" in calendar.locator(".datepicker-switch").inner_text()
    assert calendar.locator("th.dow").all_inner_texts()[:2] == ["一", "二"]

    page.goto("/persons/list/")
    page.click("text=批量操作")
    page.click(".dropdown-menu >> text=删除")
    assert page.locator("#modal-alert .modal-text").inner_text() == "请先勾选记录"
    assert page.locator("#modal-alert button").inner_text().strip() == "确定"

    page.goto("/persons/list/")
    page.click("text=添加筛选条件")
    page.click("#filter_form .dropdown-menu a[name=name]")
    operations = page.locator("select.filter-op").first.evaluate("s => Array.from(s.options).map(o => o.text)")
    assert "开头是" in operations and "等于" in operations
    assert page.js_errors == []


def test_widgets_switch_to_english(page, login_as):
    login_as("city")
    page.goto("/lang/en")
    page.goto("/rulesets/add")
    page.click("input[name=effective_from]")
    assert page.locator(".datepicker-days th.dow").first.inner_text() == "Su"
    page.goto("/lang/zh")
