"""审验专家 (AUD-2): expert accounts of a year, 密码初始化, 注销 / 启用, Excel export."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Optional

from app.extensions import db
from app.models.audit import EXPERT_STATUSES, AuditExpert
from app.oplog import record
from app.services import audit as A
from app.views.actions import act, refusing
from app.views.audit.common import BOX, MODULE, ComputedInterface, per_row, post_button
from app.views.base import ExportMixin
from app.views.widgets import ChoiceFiltersMixin, TextFilter


class FilterUsername(TextFilter):
    """专家账号 searched by 用户名 (seed 003: "年度 用户名 负责人 [查询] [新增] [导出]")."""

    name = _l("包含")
    arg_name = "username"

    def criterion(self, value):
        from app.models import CmeUser

        return self.model.user_id.in_(select(CmeUser.id).where(CmeUser.username.contains(value)))


def expert_ops(e: AuditExpert) -> Markup:
    parts = [post_button(url_for("AuditExpertView.resetpassword", pk=e.id), _("密码初始化"),
                         _("重置该专家的密码？新密码只显示一次"))]
    if e.status == "active":
        parts.append(post_button(url_for("AuditExpertView.status", pk=e.id, status="disabled"), _("注销"),
                                 _("注销后该专家不能登录审验")))
    else:
        parts.append(post_button(url_for("AuditExpertView.status", pk=e.id, status="active"), _("启用")))
    return Markup(" ").join(parts)


def username(e: AuditExpert) -> str:
    return e.user.username if e.user else ""


class AuditExpertView(ChoiceFiltersMixin, ExportMixin, ModelView):
    datamodel = ComputedInterface(AuditExpert, {
        "username": per_row(username), "role": per_row(lambda e: _("专家")),
        "allocated": per_row(lambda e: A.expert_allocated_count(db.session, e.id)), "ops": per_row(expert_ops)})
    route_base = "/auditexpert"
    list_title = show_title = _l("审验专家")
    add_title = _l("新增审验专家")
    edit_title = _l("编辑审验专家")
    list_columns = ["username", "role", "name", "contact", "unit", "year", "status", "ops"]
    show_columns = ["username", "name", "contact", "unit", "year", "status", "allocated", "created_at"]
    add_columns = ["username", "password", "name", "contact", "unit", "year"]
    edit_columns = ["name", "contact", "unit"]
    search_columns = ["year", "user", "name", "contact", "unit", "status"]
    custom_filters = {"user": [FilterUsername]}
    search_form_extra_fields = {"user": StringField(_l("用户名"), render_kw=BOX)}
    list_template = "audit/expert_list.html"
    order_columns = ["year", "name"]
    base_order = ("year", "desc")
    label_columns = {"username": _l("用户名"), "user": _l("用户名"), "role": _l("角色"), "name": _l("负责人"), "contact": _l("联系方式"),
                     "unit": _l("专家单位"), "year": _l("年度"), "status": _l("状态"), "ops": _l("操作"),
                     "password": _l("初始密码"), "allocated": _l("分配人数"), "created_at": _l("创建时间")}
    description_columns = {"password": _l("留空则自动生成，保存后只显示一次"),
                           "username": _l("已是其他年度专家的用户名可直接再次添加")}
    add_form_extra_fields = {
        "username": StringField(_l("用户名"), validators=[InputRequired()], render_kw=BOX),
        "password": PasswordField(_l("初始密码"), validators=[Optional()], render_kw=BOX),
    }
    export_columns = ["username", "name", "contact", "unit", "year", "status"]
    export_name = "审验专家"
    export_formatters = {"username": lambda e: e.user.username, "status": lambda e: e.status_label}

    formatters_columns = {"status": lambda v: EXPERT_STATUSES.get(v, v)}

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        form = self.add_form.refresh()
        if request.method == "POST" and form.validate():
            def create():
                return A.create_expert(
                    db.session, username=form.username.data, name=form.name.data, year=form.year.data,
                    contact=form.contact.data, unit=form.unit.data, password=form.password.data or None)

            def refused(exc):
                flash(str(exc), "danger")  # the form again, with what was typed

            result = act(create, log=(MODULE, "新增专家", lambda r: f"{r[0].user.username}（{r[0].year}年度）"),
                         done=lambda r: None if r[1] else _("已添加审验专家"), failed=refused)
            if result is not None:
                expert, password = result
                if password:
                    return self.render_template("audit/password.html", expert=expert, password=password)
                return redirect(url_for("AuditExpertView.list"))
        return self.render_template(self.add_template, title=self.add_title, widgets=self._get_add_widget(form=form))

    @refusing
    def pre_delete(self, item):
        A.check_expert_deletable(db.session, item)

    def post_delete(self, item):
        if A.retire_expert_login(db.session, item.user):
            db.session.commit()

    def _expert(self, pk: int) -> AuditExpert:
        return db.session.get(AuditExpert, pk) or abort(404)

    @expose("/resetpassword/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def resetpassword(self, pk):
        """密码初始化: a new random password shown once on the next page, never again."""
        expert = self._expert(pk)
        password = A.reset_expert_password(db.session, expert)
        db.session.commit()
        record(MODULE, "密码初始化", expert.user.username)
        return self.render_template("audit/password.html", expert=expert, password=password)

    @expose("/status/<int:pk>/<status>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def status(self, pk, status):
        expert = self._expert(pk)
        return act(lambda: A.set_expert_status(db.session, expert, status),
                   log=(MODULE, "注销专家" if status == "disabled" else "启用专家", lambda _r: expert.user.username),
                   done=_("已更新专家状态"), then=url_for("AuditExpertView.list"))
