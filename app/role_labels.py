"""Chinese names for Flask-AppBuilder's permissions in the role editor (issue 2 point 5).

FAB shows a permission as ``can list on PersonView`` and a built-in role (ours are all built in:
regexes in services/roles.py) as the raw Python list of those regexes. Here a permission reads
``学员：列表`` — the page named by its menu label, the action by a Chinese word — and a built-in
role's permissions are the pages and actions its regexes actually grant, grouped by page.
"""
from __future__ import annotations

import re
from typing import Any

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

PERMISSION_LABELS = {
    "can_list": _l("列表"), "can_show": _l("详情"), "can_add": _l("新增"), "can_edit": _l("编辑"),
    "can_delete": _l("删除"), "muldelete": _l("批量删除"), "can_muldelete": _l("批量删除"),
    "can_export": _l("导出"), "can_import": _l("导入"), "can_template": _l("下载模板"),
    "menu_access": _l("菜单"), "can_download": _l("下载"), "can_file": _l("查看附件"),
    "can_get": _l("读取"), "can_post": _l("新增"), "can_put": _l("修改"), "can_info": _l("字段信息"),
    "can_read": _l("查看"), "can_write": _l("写入"), "can_api_read": _l("读取"),
    "can_picker": _l("选择搜索"), "can_publish": _l("发布"), "can_clear": _l("清空"),
    "can_accounts": _l("开通账号/重置密码"), "unlock": _l("解锁"), "can_reply": _l("填写回执"),
    "can_replies": _l("回执情况"), "can_upload": _l("上传"),
    "can_review": _l("审核"), "can_submit": _l("提交"), "can_grant": _l("授分"), "can_return": _l("退回"),
    "can_compute": _l("计算"), "can_recompute": _l("重新计算"), "can_whatif": _l("试算"),
    "can_me": _l("本人"), "can_mine": _l("我的"), "can_copy": _l("复制"), "can_set": _l("设置"),
    "can_use": _l("使用"), "can_form": _l("表单"), "can_apply": _l("申请"), "can_adopt": _l("采纳"),
    "can_appeal": _l("复审"), "can_attendance": _l("考勤"), "can_certificate": _l("证明"),
    "can_checkin": _l("签到"), "can_decide": _l("决定"), "can_draw": _l("抽取"), "can_rerun": _l("重新抽取"),
    "can_judge": _l("审核结论"), "can_manager": _l("负责人"), "can_qr": _l("二维码"), "can_score": _l("评分"),
    "can_sms": _l("短信"), "can_this_form_get": _l("打开表单"), "can_this_form_post": _l("提交表单"),
    "can_userinfo": _l("个人资料"), "userinfoedit": _l("编辑个人资料"), "resetmypassword": _l("修改本人密码"),
    "resetpasswords": _l("重置密码"), "copyrole": _l("复制角色"),
    "can_add_role_permissions": _l("添加角色权限"), "can_list_role_permissions": _l("查看角色权限"),
    "can_update_role_users": _l("设置角色用户"), "can_update_role_groups": _l("设置角色用户组"),
}
# Views that have no menu entry of their own.
VIEW_LABELS = {
    "HomeView": _l("首页"), "JobView": _l("我的任务"), "UserInfoEditView": _l("个人资料"),
    "ResetMyPasswordView": _l("修改密码"), "ResetPasswordView": _l("重置密码"),
    "CmeUserDBModelView": _l("用户列表"), "RoleModelView": _l("角色列表"), "CmeAuthDBView": _l("登录"),
    "LocaleView": _l("切换语言"), "UtilView": _l("通用功能"), "SwaggerView": _l("接口文档"),
    "OpenApi": _l("接口文档"), "MenuApi": _l("菜单接口"), "SecurityApi": _l("登录接口"),
    "TranscriptView": _l("学分档案"),
    # FAB's security REST APIs
    "User": _l("用户接口"), "Role": _l("角色接口"), "Group": _l("用户组接口"), "Permission": _l("权限接口"),
    "ViewMenu": _l("视图菜单接口"), "PermissionViewMenu": _l("视图菜单权限接口"),
    # views and APIs of the areas without a menu entry or a model (a view may instead declare
    # ``permission_label``)
    "ComplianceApi": _l("达标计算接口"), "CreditRulesApi": _l("授分计算接口"),
    "DictPickerApi": _l("字典选择接口"), "AuditReviewApi": _l("专家审验接口"),
    "SiteMobileView": _l("现场会务（手机端）"),
}


def permission_label(name: str) -> str:
    label = PERMISSION_LABELS.get(name)
    return str(label) if label is not None else name


def _view_labels() -> dict[str, Any]:
    """{view / menu name: label (lazy)}: menu items first, then APIs by their model, then views
    with a list title. Built once per app (views and menus are fixed after start)."""
    cached = current_app.extensions.get("cme_view_labels")
    if cached is not None:
        return cached
    appbuilder = current_app.appbuilder
    labels: dict[str, Any] = {}

    def walk(items):
        for item in items:
            label = item.label or item.name
            labels.setdefault(item.name, label)
            if item.baseview is not None:
                labels.setdefault(item.baseview.class_permission_name, label)
            walk(item.childs)

    walk(appbuilder.menu.get_list())
    for view in appbuilder.baseviews:
        name = view.class_permission_name
        if name in labels:
            continue
        if getattr(view, "permission_label", None):
            labels[name] = view.permission_label
            continue
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        module = getattr(model, "__module_label__", None)
        if name.endswith("Api") and module:
            labels[name] = _l("%(module)s接口", module=_l(module))
        elif getattr(view, "list_title", None) and not str(view.list_title).startswith("List "):
            labels[name] = view.list_title
    current_app.extensions["cme_view_labels"] = labels
    return labels


def view_label(name: str) -> str:
    if name in VIEW_LABELS:
        return str(VIEW_LABELS[name])
    label = _view_labels().get(name)
    return str(label) if label is not None else name


def permission_view_label(pv: Any) -> str:
    """``学员：列表`` for FAB's ``can list on PersonView`` (FAB's own wording outside the app)."""
    from flask import has_app_context

    if not has_app_context():
        return f"{str(pv.permission).replace('_', ' ')} on {pv.view_menu}"
    return gettext("%(view)s：%(permission)s", view=view_label(pv.view_menu.name),
                   permission=permission_label(pv.permission.name))


def builtin_role_summary(role_name: str) -> list[tuple[str, list[str]]]:
    """A built-in role's permissions as [(page, [actions])], what its regexes grant among the
    permissions that exist, in menu order of the pages."""
    from flask_appbuilder.security.sqla.models import PermissionView

    from app.extensions import db

    rules = current_app.appbuilder.sm.builtin_roles.get(role_name) or []
    if not rules:
        return []
    compiled = [(re.compile(v), re.compile(p)) for v, p in rules]
    grouped: dict[str, list[str]] = {}
    for pv in db.session.query(PermissionView).all():  # permission and view_menu load joined
        view, perm = pv.view_menu.name, pv.permission.name
        if any(v.match(view) and p.match(perm) for v, p in compiled):
            actions = grouped.setdefault(view_label(view), [])
            label = permission_label(perm)
            if label not in actions:
                actions.append(label)
    return sorted(grouped.items())


def install(app) -> None:
    """Chinese permission names everywhere FAB prints a PermissionView, and the role summary for
    the role list / show templates."""
    from flask_appbuilder.security.sqla.models import PermissionView

    PermissionView.__repr__ = permission_view_label
    PermissionView.__str__ = permission_view_label
    app.jinja_env.globals["cme_role_summary"] = builtin_role_summary


# ====================================================================== the role editor's matrix
# Columns of the page × action matrix (issue 15.6); a page's other permissions sit in its last cell.
MATRIX_COLUMNS = ["menu_access", "can_list", "can_show", "can_add", "can_edit", "can_delete", "can_export",
                  "can_import"]


def _matrix_row(label: str, pvs: list[Any]) -> dict[str, Any]:
    cells: dict[str, Any] = {}
    others = []
    for pv in pvs:
        key = pv.permission.name
        if key in MATRIX_COLUMNS and key not in cells:
            cells[key] = pv
        else:
            others.append((permission_label(key), pv))
    others.sort(key=lambda pair: pair[0])
    return {"label": label, "cells": cells, "others": others}


def permission_matrix(pvs: list[Any]) -> list[dict[str, Any]]:
    """The permissions as groups of rows, in menu order: [{label, rows: [{label, cells: {column:
    pv}, others: [(label, pv)]}]}]. A menu category is a group; each of its entries a row (the
    entry's menu_access and its view's permissions); the category's own menu_access a first row;
    pages and APIs without a menu entry end in a group of their own."""
    by_view: dict[str, list[Any]] = {}
    for pv in pvs:
        by_view.setdefault(pv.view_menu.name, []).append(pv)
    used: set[int] = set()

    def take(names: list[str]) -> list[Any]:
        found = [pv for name in names for pv in by_view.get(name, []) if pv.id not in used]
        used.update(pv.id for pv in found)
        return found

    groups: list[dict[str, Any]] = []
    loose: list[dict[str, Any]] = []
    for item in current_app.appbuilder.menu.get_list():
        entries = [c for c in (item.childs or []) if c.name != "-"]
        if not entries:
            names = [item.name] + ([item.baseview.class_permission_name] if item.baseview else [])
            found = take(names)
            if found:
                loose.append(_matrix_row(str(item.label or item.name), found))
            continue
        rows = []
        own = take([item.name])
        if own:
            rows.append(_matrix_row(gettext("%(menu)s（菜单）", menu=str(item.label or item.name)), own))
        for child in entries:
            names = [child.name] + ([child.baseview.class_permission_name] if child.baseview else [])
            found = take(names)
            if found:
                rows.append(_matrix_row(str(child.label or child.name), found))
        if rows:
            groups.append({"label": str(item.label or item.name), "rows": rows})
    rest = sorted(((view_label(name), name) for name in by_view), key=lambda pair: pair[0])
    for label, name in rest:
        found = take([name])
        if found:
            loose.append(_matrix_row(label, found))
    if loose:
        groups.append({"label": gettext("其他页面与接口"), "rows": loose})
    return groups


def matrix_columns() -> list[tuple[str, str]]:
    return [(key, permission_label(key)) for key in MATRIX_COLUMNS]
