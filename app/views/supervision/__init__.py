"""项目督查 (seed 003 part 02, SUP-1..7), one module per screen and audience:

* filings.py — 项目报备 (the unit) and the screens it shares with 报备审核; managers.py — 指定负责人, login
  codes, QR sheets and the documents for the site managers (part of 项目报备);
* review.py — 报备审核 (district / city);
* manage.py — 督查管理: feedback, scoring, publishing, export, the development SMS outbox;
* phone.py, phone_periods.py — the site managers' phone site, a plain Flask Blueprint (/m) with its own
  login.

Every back-office page loads its filing through the user's data scope (Scope + __scope_columns__): a guessed
id of another institution's or district's filing, venue, manager, photo or file answers 404. The phone pages
see only the periods of the manager's own project.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from app.views.supervision import phone_periods  # noqa: F401 - its routes join the phone blueprint
from app.views.supervision.common import login_url
from app.views.supervision.filings import FilingView
from app.views.supervision.manage import SupervisionView
from app.views.supervision.phone import bp as phone_blueprint
from app.views.supervision.review import FilingReviewView

_login_url = login_url  # the name the browser test imports


def register(appbuilder) -> None:
    cat = "项目督查"
    appbuilder.add_view(FilingView, "项目报备", label=_l("项目报备"), icon="fa-file-signature", category=cat,
                        category_label=_l("项目督查"), category_icon="fa-binoculars")
    appbuilder.add_view(FilingReviewView, "报备审核", label=_l("报备审核"), icon="fa-clipboard-check", category=cat)
    appbuilder.add_view(SupervisionView, "督查管理", label=_l("督查管理"), icon="fa-tasks", category=cat)
    appbuilder.add_link("短信发送记录", href="/supervision/sms", label=_l("短信发送记录"), icon="fa-sms",
                        category=cat)
    current_app.register_blueprint(phone_blueprint)  # registered inside the factory's app context


__all__ = ["FilingReviewView", "FilingView", "SupervisionView", "login_url", "phone_blueprint", "register"]
