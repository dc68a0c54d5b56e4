"""刷卡/扫码学分市级审核 (issue 16.6, seed 002 三 3): the city's work list of granted credits a rule set's
counting policy holds back until the city passes them (services/grant_review.py)."""
from __future__ import annotations

from flask import request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models.credits import CREDIT_SOURCES
from app.services import counting, grant_review
from app.views.actions import act
from app.views.base import current_scope
from app.views.submit import once
from app.views.widgets import number, page, pages

PAGE_SIZE = 20
MODULE = "学分审核"


class GrantReviewView(BaseView):
    route_base = "/grant-review"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        q = (request.args.get("q") or "").strip()[:64]
        source = request.args.get("source", "")
        current = page()
        rows, total = grant_review.pending_page(db.session, current_scope(), q, source, current - 1, PAGE_SIZE)
        return self.render_template(
            "distance/grant_review.html", rows=rows, total=total, page=current, pages=pages(total, PAGE_SIZE),
            q=q, source=source, number=number,
            sources={k: CREDIT_SOURCES.get(k, counting.SOURCE_LABELS.get(k, k)) for k in counting.GRANT_SOURCES},
            title=_("刷卡/扫码学分市级审核"))

    @expose("/review", methods=["POST"])
    @has_access
    @permission_name("review")
    @once
    def review(self):
        ids = [x for x in request.form.getlist("rowid") if x.isdigit()]
        passed = request.form.get("decision") == "pass"
        return act(lambda: grant_review.review(db.session, current_user, current_scope(), ids, passed,
                                               request.form.get("reason")),
                   log=(MODULE, "刷卡学分审核通过" if passed else "刷卡学分审核不通过"),
                   done=lambda n: _("已审核通过 %(n)s 条学分", n=n) if passed else _("已审核不通过 %(n)s 条学分", n=n),
                   then=url_for("GrantReviewView.list"))


def register(appbuilder) -> None:
    appbuilder.add_view(GrantReviewView, "刷卡扫码学分审核", label=_l("刷卡/扫码学分审核"), icon="fa-id-card",
                        category="学分管理", category_label=_l("学分管理"), category_icon="fa-graduation-cap")
