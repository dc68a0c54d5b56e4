"""个人资料 (issue 15 item 6): one name field instead of FAB's 名/姓 split — an organization account
(市继教办, 某医院继教办) has a 名称, a person's account a 姓名 written family name first; stored in
``last_name`` (FAB requires ``first_name``: it keeps what does not fit, usually nothing)."""
from __future__ import annotations

from flask import flash, g, request
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.views import UserInfoEditView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

NAME_MAX = 128


class ProfileForm(DynamicForm):
    full_name = StringField(_l("名称"), validators=[DataRequired(), Length(max=NAME_MAX)],
                            widget=BS3TextFieldWidget(),
                            description=_l("机构账号填写机构或科室名称，个人账号填写姓名"))


def split_name(name: str) -> tuple[str, str]:
    """(last_name, first_name) of a one-field name: everything in last_name while it fits."""
    name = (name or "").strip()
    return name[:64], name[64:NAME_MAX]


def is_org_account(user) -> bool:
    return user is not None and user.person_id is None


class CmeUserInfoEditView(UserInfoEditView):
    # FAB's own name, route and permission: roles grant "UserInfoEditView" (services/roles._COMMON).
    route_base = "/userinfoeditview"
    class_permission_name = "UserInfoEditView"
    form = ProfileForm
    form_title = _l("编辑个人资料")
    message = _l("个人资料已保存")

    def form_get(self, form) -> None:
        user = self.appbuilder.sm.get_user_by_id(g.user.id)
        form.full_name.data = user.get_full_name()
        if not is_org_account(user):
            form.full_name.label.text = _("姓名")
            form.full_name.description = _("姓在前、名在后，不加空格")

    def form_post(self, form) -> None:
        form = self.form.refresh(request.form)
        user = self.appbuilder.sm.get_user_by_id(g.user.id)
        user.last_name, user.first_name = split_name(form.full_name.data)
        self.appbuilder.sm.update_user(user)
        flash(self.message, "info")
