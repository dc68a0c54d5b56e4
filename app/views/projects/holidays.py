"""节假日设置: the public holidays and worked weekend days the 5-working-day rule counts with (city office)."""
from __future__ import annotations

from flask import abort
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.models.projects import Holiday


class HolidayView(ModelView):
    """法定节假日与调休: the data the 5-working-day rule counts with (city office)."""

    datamodel = SQLAInterface(Holiday)
    route_base = "/holidays"
    list_title = _l("节假日设置")
    add_title = _l("新增节假日")
    edit_title = _l("编辑节假日")
    show_title = _l("节假日详情")
    label_columns = {"day": _l("日期"), "name": _l("名称"), "workday": _l("调休上班")}
    list_columns = ["day", "name", "workday"]
    add_columns = edit_columns = show_columns = list_columns
    search_columns = ["day", "name", "workday"]
    base_order = ("day", "desc")
    formatters_columns = {"workday": lambda v: _("是") if v else _("否")}
    description_columns = {"workday": _l("勾选表示该日虽为周末但需上班（调休）；不勾选表示该日放假")}

    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    def _init_forms(self):
        from app.views.base import checkbox_may_stay_unticked

        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            checkbox_may_stay_unticked(form)
