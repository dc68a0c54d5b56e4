"""统计分析 (SYS-7): compliance rates by district, institution level and title level, credits per month,
inside the user's data scope, each drawn as a chart (bundled Chart.js) with its table."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.services import stats
from app.views.base import current_scope


def charts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per chart: what Chart.js draws (labels, values) and the table shown with it."""
    out = []
    for key, heading, first in (("district", _("各区县达标率"), _("区县")),
                                ("institution_level", _("各级别医疗机构达标率"), _("机构级别")),
                                ("title_level", _("各职称级别达标率"), _("职称级别"))):
        rows = data[key]
        out.append({"key": key, "heading": heading, "unit": "%", "series": _("达标率"),
                    "labels": [r.label for r in rows], "points": [r.rate for r in rows],
                    "header": [first, _("人数"), _("达标人数"), _("达标率")],
                    "rows": [[r.label, r.persons, r.met, f"{r.rate:.1f}%"] for r in rows]})
    months = data["months"]
    out.append({"key": "months", "heading": _("每月授予学分"), "unit": "", "series": _("学分"),
                "labels": [m.month for m in months], "points": [float(m.credits) for m in months],
                "header": [_("月份"), _("学分记录数"), _("学分合计")],
                "rows": [[m.month, m.count, f"{float(m.credits):g}"] for m in months]})
    return out


class StatsView(BaseView):
    route_base = "/stats"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("read")
    def index(self):
        scope = current_scope()
        options = stats.result_years(db.session, scope)
        chosen = request.args.get("result", "")
        selected = next((o for o in options if f"{o[0]}-{o[1]}" == chosen), options[0] if options else None)
        data = stats.dashboard(db.session, scope, selected[0], selected[1]) if selected else None
        return self.render_template("stats/index.html", options=options, selected=selected, data=data,
                                    charts=charts(data) if data else [], title=_("统计分析"))
