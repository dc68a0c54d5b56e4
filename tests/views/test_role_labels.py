"""The role editor in Chinese (issue 2 point 5, FAB-NOTES "Chinese UI"): FAB shows permissions as
``can list on PersonView`` and built-in roles as their raw regexes; here the pages and actions are
named in Chinese, and a built-in role shows what its rules grant."""
from __future__ import annotations

import re

from sqlalchemy import select

RAW = re.compile(r"can_\w+|\bcan \w+ on\b|menu_access|PersonView|\[\(|\.\*")


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>|\s+", " ", m).strip()
            for m in re.findall(r'class="[^"]*cme-role-permissions[^"]*">(.*?)</t(?:d|able)>', html, re.DOTALL)]


def _role_id(app, name: str) -> int:
    from flask_appbuilder.security.sqla.models import Role

    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(Role.id).where(Role.name == name))


def test_role_list_names_pages_in_chinese(app, world, login):
    html = login("city").get("/roles/list/").get_data(as_text=True)
    cells = _cells(html)
    assert len(cells) >= 7
    assert not [c for c in cells if RAW.search(c)], cells
    builtin = [c for c in cells if c.startswith("内置角色，可使用")]
    assert len(builtin) == 7  # the seven roles of SPEC.md (FAB's Public role has no permission)
    assert any("学员" in c and "医疗机构" in c and "操作日志" in c for c in builtin)


def test_builtin_role_detail_shows_its_actions_per_page(app, world, login):
    html = login("city").get(f"/roles/show/{_role_id(app, '机构管理员')}").get_data(as_text=True)
    rows = dict(re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html))
    assert {"列表", "新增", "编辑", "删除", "导入", "导出"} <= set(rows["学员"].split("、"))
    assert "列表" in rows["医疗机构"].split("、") and "新增" not in rows["医疗机构"].split("、")
    assert "区县" not in rows and "操作日志" not in rows  # not granted to an institution admin
    assert not RAW.search(" ".join(rows) + " ".join(rows.values()))
    # The technician's role grants no personnel page.
    html = login("city").get(f"/roles/show/{_role_id(app, '学员')}").get_data(as_text=True)
    rows = dict(re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html))
    assert "我的学分档案" in rows and "学员" not in rows


def test_role_form_offers_permissions_in_chinese(app, world, login):
    html = login("city").get("/roles/add").get_data(as_text=True)
    options = re.findall(r"<option[^>]*>([^<]*)</option>", html)
    assert "学员：列表" in options and "医疗机构：删除" in options
    assert not [o for o in options if "can " in o or " on " in o]


def test_permission_reads_in_chinese_and_falls_back_outside_the_app(app):
    from flask_appbuilder.security.sqla.models import (
        Permission,
        PermissionView,
        ViewMenu,
    )

    pv = PermissionView(permission=Permission(name="can_list"), view_menu=ViewMenu(name="PersonView"))
    with app.test_request_context("/"):
        assert str(pv) == "学员：列表"
    from flask_babel import force_locale

    with app.test_request_context("/"), force_locale("en"):
        assert str(pv) == "Persons: list"
    # Outside any app (a thread has no context): FAB's own wording, no error.
    import threading

    seen = []
    thread = threading.Thread(target=lambda: seen.append(str(pv)))
    thread.start()
    thread.join()
    assert seen == ["can list on PersonView"]
