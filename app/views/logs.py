"""Login log and operation log lists (SYS-5): filter, export, clear (city admin only, logged)."""
import json

from flask import abort, request, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.actions import action as fab_action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from app.extensions import db
from app.models import LoginLog, OperationLog
from app.views.actions import act
from app.views.base import ExportMixin


def _time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def field_labels(appbuilder, table: str) -> dict:
    """Labels of a table's fields, taken from the views that show that table."""
    labels: dict = {}
    for view in appbuilder.baseviews:
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        if getattr(model, "__tablename__", None) == table:
            for key, value in (getattr(view, "label_columns", None) or {}).items():
                labels.setdefault(key, value)
    return labels


def render_changes(value: str | None, labels: dict) -> Markup:
    """The JSON {field: [old, new]} of a log row as a small table with the fields' labels."""
    try:
        changes = json.loads(value) if value else {}
    except ValueError:
        return escape(value)
    if not isinstance(changes, dict) or not changes:
        return escape(value or "")
    def label(key):  # a link's id column reads as the link ("org_id" → 所属机构)
        return labels.get(key[:-3]) if key.endswith("_id") and key[:-3] in labels else labels.get(key, key)

    def shown(v):
        return "" if v is None else (_("是") if v else _("否")) if isinstance(v, bool) else v

    rows = Markup("").join(
        Markup("<tr><td>{}</td><td>{}</td><td>{}</td></tr>").format(label(key), shown(pair[0]), shown(pair[1]))
        for key, pair in changes.items() if isinstance(pair, list) and len(pair) == 2)
    head = Markup("<tr><th>{}</th><th>{}</th><th>{}</th></tr>").format(_("字段"), _("原值"), _("新值"))
    return Markup('<table class="table table-condensed table-bordered cme-changes">') + head + rows + Markup(
        "</table>")


class _LogView(ExportMixin, ModelView):
    """Read-only; the only write is 清空 (can_clear), which city admins alone hold."""

    base_permissions = ["can_list", "can_show", "can_export", "can_clear"]
    base_order = ("created_at", "desc")
    list_template = "logs/list.html"

    # 清除 only (bulk, city admin, permission can_clear): FAB's single-row action route stays closed.
    method_permission_name = {"remove": "clear"}

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        abort(404)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        if name not in self.actions:
            abort(404)
        if not self.appbuilder.sm.has_access(self.get_action_permission_name(name), self.class_permission_name):
            abort(403)
        return super().action_post()

    @fab_action("remove", _l("清除"), _l("确定删除所选日志吗？此操作不可恢复。"), "fa-eraser", single=False)
    def remove(self, items):
        """清除: delete the selected rows (seed 003 系统安全日志: 清除 / 清空); the deletion is logged."""
        model = self.datamodel.obj
        ids = sorted(item.id for item in (items if isinstance(items, list) else [items]) if item is not None)

        def remove_rows():
            if ids:
                db.session.query(model).filter(model.id.in_(ids)).delete(synchronize_session=False)
            return len(ids)

        return act(remove_rows, log=(model.__module_label__, "清除", f"清除{len(ids)}条：{'、'.join(map(str, ids[:100]))}"),
                   done=lambda n: _("已删除 %(n)s 条日志", n=n), then=url_for(f"{type(self).__name__}.list"))

    @expose("/clear/", methods=["POST"])
    @has_access
    @permission_name("clear")
    def clear(self):
        model = self.datamodel.obj
        return act(lambda: db.session.query(model).delete(synchronize_session=False),
                   log=(model.__module_label__, "清空", lambda n: f"清空{n}条"),
                   done=lambda n: _("已清空 %(n)s 条日志", n=n), then=url_for(f"{type(self).__name__}.list"))


class LoginLogView(_LogView):
    datamodel = SQLAInterface(LoginLog)
    route_base = "/loginlog"
    list_title = _l("登录日志")
    show_title = _l("登录日志详情")
    label_columns = {"id": _l("访问编号"), "username": _l("用户名称"), "ip": _l("登录地址"), "location": _l("登录地点"),
                     "browser": _l("浏览器"), "os": _l("操作系统"), "success": _l("登录状态"),
                     "message": _l("操作信息"), "created_at": _l("登录日期")}
    list_columns = ["id", "username", "ip", "location", "browser", "os", "success", "message", "created_at"]
    show_columns = list_columns
    search_columns = ["username", "ip", "success", "created_at"]
    export_columns = list_columns
    export_name = "登录日志"
    formatters_columns = {"success": lambda v: _("成功") if v else _("失败"), "created_at": _time}
    export_formatters = {"success": lambda r: "成功" if r.success else "失败"}


class OperationLogView(_LogView):
    datamodel = SQLAInterface(OperationLog)
    route_base = "/oplog"
    list_title = _l("操作日志")
    show_title = _l("操作日志详情")
    label_columns = {"id": _l("日志编号"), "module": _l("系统模块"), "action": _l("操作类型"),
                     "operator": _l("操作人员"), "ip": _l("操作地址"), "location": _l("操作地点"),
                     "status": _l("操作状态"),
                     "created_at": _l("操作日期"), "duration_ms": _l("消耗时间(毫秒)"), "url": _l("请求地址"),
                     "method": _l("请求方式"), "target": _l("操作对象"), "changes": _l("变更内容"),
                     "message": _l("说明")}
    list_columns = ["id", "module", "action", "operator", "ip", "location", "status", "created_at", "duration_ms"]
    show_columns = ["id", "module", "action", "operator", "ip", "location", "method", "url", "target", "status",
                    "message", "changes", "created_at", "duration_ms"]
    search_columns = ["module", "operator", "action", "status", "created_at"]
    export_columns = ["id", "module", "action", "operator", "ip", "location", "status", "target", "message",
                      "changes", "created_at", "duration_ms"]
    export_name = "操作日志"
    formatters_columns = {"status": lambda v: _("成功") if v else _("失败"), "created_at": _time}
    export_formatters = {"status": lambda r: "成功" if r.status else "失败"}

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        # The changes read as a table with the changed model's own labels (姓名, 联系电话 …).
        table = (item.target or "").split(":")[0]
        labels = field_labels(self.appbuilder, table) if table else {}
        widgets = widgets or {}
        widgets["show"] = self.show_widget(
            pk=pk, label_columns=self.label_columns, include_columns=self.show_columns,
            value_columns=self.datamodel.get_values_item(item, self.show_columns),
            formatters_columns=dict(self.formatters_columns,
                                    changes=lambda value: render_changes(value, labels)),
            actions=actions or self.actions, fieldsets=show_fieldsets or self.show_fieldsets,
            modelview_name=self.__class__.__name__)
        return widgets
