"""The role editor as a grouped checkbox matrix (issue 15 item 6): page × action, grouped by menu, in
Chinese (app/role_labels.py), instead of FAB's flat select of some 380 permissions. FAB's internal
permission / view-menu pages are not registered (security.configure), so administrators neither see
nor open them."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.security.views import RoleModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app import role_labels


class PermissionMatrixWidget:
    """Renders a QuerySelectMultipleField of PermissionView rows as checkboxes named like the field
    (the field reads the ticked ids as it reads a multiple select)."""

    def __call__(self, field, **kwargs) -> Markup:
        chosen = {pk for pk, _label, selected, *_ in field.iter_choices() if selected}
        objects = [obj for _pk, obj in field._get_object_list()]
        return Markup(render_template("appbuilder/roles/permission_matrix.html", name=field.name,
                                      groups=role_labels.permission_matrix(objects), chosen=chosen,
                                      columns=role_labels.matrix_columns()))


def _permissions_field() -> QuerySelectMultipleField:
    from flask_appbuilder.security.sqla.models import PermissionView

    from app.extensions import db

    return QuerySelectMultipleField(
        _l("权限"), query_func=lambda: db.session.query(PermissionView).order_by(PermissionView.id),
        get_pk_func=lambda pv: pv.id, widget=PermissionMatrixWidget(),
        description=_l("按菜单分组：每行一个页面，勾选该页面允许的操作；内置角色的权限由系统规则决定，在此修改不生效"))


class CmeRoleModelView(RoleModelView):
    class_permission_name = "RoleModelView"  # FAB's permission name, kept
    def __init__(self, **kwargs):
        self.add_form_extra_fields = {"permissions": _permissions_field()}
        self.edit_form_extra_fields = {"permissions": _permissions_field()}
        super().__init__(**kwargs)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        """A built-in role's permissions are the rules of services/roles.py: its matrix would show
        boxes that change nothing, so its page (what the rules grant) opens instead."""
        role = self.datamodel.get(pk)
        if role is not None and role.name in self.appbuilder.sm.builtin_roles:
            flash(_("内置角色的权限由系统规则决定，不能在此修改；其详情页列出它可使用的页面和操作"), "info")
            return redirect(url_for(f"{type(self).__name__}.show", pk=pk))
        return super().edit(pk)
