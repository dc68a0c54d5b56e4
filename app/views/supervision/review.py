"""报备审核 (SUP-2): the supervising district / city passes or fails, returns (退回) or deletes filings."""
from __future__ import annotations

from flask import request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models.supervision import Filing
from app.services import supervision as sup
from app.views.actions import act
from app.views.base import ScopeFilter, acting_user
from app.views.supervision.common import MODULE, refused_to
from app.views.supervision.filings import FilingBase


class _WithInstitution(SQLAInterface):
    """Loads each row's 申报单位 in the list's own query (no query per row)."""

    def apply_all(self, query, *args, **kwargs):
        return super().apply_all(query, *args, **kwargs).options(joinedload(self.obj.institution))


class FilingReviewView(FilingBase):
    """报备审核: the supervising district / city passes or fails, returns (退回) or deletes filings."""

    datamodel = _WithInstitution(Filing)

    route_base = "/filingreview"
    list_title = _l("报备审核")
    list_columns = ["name", "project_no", "institution", "project_type", "place", "starts_at", "ends_at", "status",
                    "id"]
    base_filters = [["id", ScopeFilter, lambda: None],
                    ["status", FilterNotEqual, "draft"]]
    base_permissions = ["can_list", "can_show", "can_review", "can_file", "can_delete", "can_return"]
    reviewer = True

    @property
    def formatters_columns(self):
        return {**FilingBase.formatters_columns, "id": lambda pk: Markup(
            '<a class="btn btn-xs btn-default" href="{}">{}</a>').format(
            url_for("FilingReviewView.show", pk=pk), _("报备详情 / 日志"))}

    @formatters_columns.setter
    def formatters_columns(self, value):
        pass

    def _decide(self, pk: int, action: str, log_action: str, done: str):
        filing = self._scoped_get(pk)
        return act(lambda: sup.apply(db.session, filing, action, acting_user(), request.form.get("reason", "")),
                   log=(MODULE, log_action, lambda _r: f"{filing.project_no}：{sup.ACTION_LABELS[action]}"
                        if action != "return" else filing.project_no),
                   done=done, then=url_for("FilingReviewView.list"),
                   failed=refused_to(url_for("FilingReviewView.show", pk=pk)))

    @expose("/review/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self, pk):
        action = "pass" if request.form.get("result") == "pass" else "fail"
        return self._decide(pk, action, "审核", _("已审核：%(result)s", result=sup.ACTION_LABELS[action]))

    @expose("/return/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("return")
    def return_(self, pk):
        return self._decide(pk, "return", "退回", _("已退回"))
