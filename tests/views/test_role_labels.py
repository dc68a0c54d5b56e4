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
    from app.services.roles import ALL_ROLES

    assert len(builtin) == len(ALL_ROLES)  # the roles of SPEC.md (FAB's Public role has no permission)
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


def _matrix(html: str) -> dict[str, dict[str, list[str]]]:
    """{group: {page: [action titles / labels of its checkboxes]}} of the role form's matrix."""
    groups = {}
    for group, body in re.findall(r'<details class="panel[^"]*cme-perm-group".*?<summary[^>]*>.*?>\s*([^<]+?)\s*</label>'
                                  r'(.*?)</details>', html, re.DOTALL):
        rows = {}
        for page, cells in re.findall(r'<tr class="cme-perm-row">\s*<th><label[^>]*><input[^>]*>\s*([^<]+?)\s*</label></th>'
                                      r'(.*?)</tr>', body, re.DOTALL):
            titles = re.findall(r'title="[^"：]*：([^"]+)"', cells)
            others = re.findall(r'name="permissions" value="\d+"[^>]*>\s*([^<]+?)\s*</label>', cells)
            rows[page] = titles + others
        groups[group] = rows
    return groups


def test_role_form_is_a_grouped_matrix_in_chinese(app, world, login):
    """Issue 15.6: page × action checkboxes grouped by menu, not one flat select of ~380 options."""
    html = login("city").get("/roles/add").get_data(as_text=True)
    assert "<option" not in html.split('id="perm-matrix"')[1].split("</details>")[0]
    matrix = _matrix(html)
    assert {"组织机构", "系统管理"} <= set(matrix), list(matrix)
    assert {"列表", "新增", "编辑", "删除", "导入", "导出"} <= set(matrix["人员管理"]["学员"]) or \
        any({"列表", "新增"} <= set(rows.get("学员", [])) for rows in matrix.values())
    assert {"列表", "删除"} <= set(matrix["组织机构"]["医疗机构"])
    cells = " ".join(" ".join(a) + page for rows in matrix.values() for page, a in rows.items())
    assert not RAW.search(cells), RAW.search(cells)
    boxes = re.findall(r'<input type="checkbox" name="permissions" value="(\d+)"', html)
    assert len(boxes) == len(set(boxes)) > 100  # every permission once


def test_role_saved_from_the_matrix_keeps_the_ticked_permissions(app, world, login):
    from flask_appbuilder.security.sqla.models import PermissionView, Role

    from app.extensions import db

    c = login("city")
    html = c.get("/roles/add").get_data(as_text=True)
    row = re.search(r'<tr class="cme-perm-row">\s*<th><label[^>]*><input[^>]*>\s*学员\s*</label></th>(.*?)</tr>',
                    html, re.DOTALL).group(1)
    ticked = re.findall(r'name="permissions" value="(\d+)"', row)[:2]
    token = dict(re.findall(r'name="(csrf_token|_submit_token)"[^>]*value="([^"]*)"', html))
    r = c.post("/roles/add", data={"name": "统计查看员", "permissions": ticked, **token})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    with app.app_context():
        role = db.session.scalar(select(Role).where(Role.name == "统计查看员"))
        assert sorted(str(p.id) for p in role.permissions) == sorted(ticked)
        pid = role.id
        assert all(isinstance(p, PermissionView) for p in role.permissions)
    edit = c.get(f"/roles/edit/{pid}").get_data(as_text=True)
    checked = re.findall(r'name="permissions" value="(\d+)"[^>]*checked', edit)
    assert sorted(checked) == sorted(ticked)


def test_a_builtin_role_opens_its_detail_instead_of_the_matrix(app, world, login):
    c = login("city")
    pk = _role_id(app, "机构管理员")
    r = c.get(f"/roles/edit/{pk}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/roles/show/{pk}")
    assert c.post(f"/roles/edit/{pk}", data={"name": "机构管理员", "permissions": []}).status_code == 302
    assert "内置角色的权限由系统规则决定" in c.get(f"/roles/show/{pk}").get_data(as_text=True)


def test_fab_internal_permission_pages_are_gone(app, world, login):
    c = login("city")
    for url in ("/permissions/list/", "/viewmenus/list/", "/permissionviews/list/"):
        assert c.get(url).status_code == 404
    html = c.get("/").get_data(as_text=True)
    assert "/permissions/list/" not in html and "/permissionviews/list/" not in html


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
