"""添加继教实践活动 (seed 003 实践活动): the unit's organised practice activities, each with its own QR
sign-in window (微信签到时间); the signed-in list is what the unit grants from with the wizard's
有组织的继续医学教育实践活动 standards."""
from __future__ import annotations

import datetime

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import Optional

from app.extensions import db
from app.models import Person
from app.models.projects import PracticeActivity
from app.services import practice_activities as practice
from app.views.actions import act, refusing
from app.views.base import ScopedModelView, current_scope, qr_png_response
from app.views.projects.common import MODULE, date_text, dict_choices, institution, num
from app.views.submit import once
from app.views.widgets import BOX


def signin_url(activity: PracticeActivity) -> str:
    return url_for("SignInView.practice", token=activity.qr_token, _external=True)


def _holds(activity: PracticeActivity) -> bool:
    """Is the acting user of the unit holding the activity (a district reads only)?"""
    inst = institution()
    return inst is not None and inst.id == activity.institution_id


class PracticeActivityView(ScopedModelView):
    datamodel = SQLAInterface(PracticeActivity)
    route_base = "/practice-activities"
    list_title = _l("添加继教实践活动")
    add_title = _l("添加继教实践活动")
    edit_title = _l("编辑继教实践活动")
    show_title = _l("继教实践活动详情")
    label_columns = {"name": _l("活动名称"), "form": _l("活动形式"), "place": _l("活动地点"),
                     "lecturer": _l("负责人"), "starts_at": _l("活动开始时间"), "ends_at": _l("活动结束时间"),
                     "hours": _l("学时"), "planned_count": _l("计划人数"), "signin_from": _l("签到开始时间"),
                     "signin_to": _l("签到结束时间"), "description": _l("描述"), "institution": _l("举办单位")}
    list_columns = ["name", "form", "institution", "place", "starts_at", "hours", "signin_from", "signin_to"]
    add_columns = edit_columns = ["name", "form", "place", "lecturer", "starts_at", "ends_at", "hours",
                                  "planned_count", "signin_from", "signin_to", "description"]
    search_columns = ["name", "form", "starts_at"]
    base_order = ("starts_at", "desc")
    formatters_columns = {"hours": num, "starts_at": date_text, "ends_at": date_text, "signin_from": date_text,
                          "signin_to": date_text}
    description_columns = {"signin_from": _l("微信签到时间：签到二维码只在此时间内有效")}
    add_form_extra_fields = edit_form_extra_fields = {
        "form": SelectField(_l("活动形式"), choices=dict_choices("activity_form"), validators=[Optional()],
                            render_kw=BOX)}
    show_template = "projects/practice_show.html"
    export_columns = ["name", "form", "place", "lecturer", "starts_at", "ends_at", "hours", "signin_from", "signin_to"]
    export_name = "继教实践活动"

    @refusing
    def pre_add(self, item: PracticeActivity) -> None:
        practice.check(item, institution())

    @refusing
    def pre_update(self, item: PracticeActivity) -> None:
        practice.check(item, institution())

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        activity = self._scoped_get(pk)
        return self.render_template(self.show_template, activity=activity, url=signin_url(activity),
                                    window=practice.window_text(activity), fmt=num,
                                    open=practice.in_window(activity, datetime.datetime.now()),
                                    rows=practice.attendees(db.session, activity), title=_("继教实践活动详情"),
                                    owner=_holds(activity))

    @expose("/checkin/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    @once
    def checkin(self, pk):
        """手工签到: the holding unit signs one person in by IC card number (no phone, no window needed)."""
        activity = self._scoped_get(pk)
        if not _holds(activity):
            abort(403)
        card = (request.form.get("card_no") or "").strip()
        person = db.session.scalar(select(Person).where(Person.card_no == card)) if card else None
        back = url_for("PracticeActivityView.show", pk=pk) + "#attendees"
        if person is None:
            flash(_("IC卡号“%(card)s”不存在", card=card), "danger")
            return redirect(back)
        # A card number must not tell the unit the name of someone outside its scope (issue 17.8).
        name = person.name if current_scope().allows(person) else f"{person.name[:1]}*（{person.card_no}）"
        return act(lambda: practice.check_in(db.session, activity, person, "manual", datetime.datetime.now()),
                   log=(MODULE, "实践活动手工签到"),
                   done=lambda o: _("%(name)s已签到过本活动", name=name) if o.duplicate
                   else _("%(name)s已签到", name=name), then=back)

    @expose("/attendees/<int:pk>.xlsx")
    @has_access
    @permission_name("export")
    def attendees(self, pk):
        """签到名单 of an activity (Excel, for the paper file)."""
        from app.services.exports import stream_xlsx

        activity = self._scoped_get(pk)
        header = [_("IC卡号"), _("姓名"), _("签到方式"), _("签到时间")]
        rows = ([r.person.card_no, r.person.name, _("扫码") if r.source == "qr" else _("手工"), date_text(r.checked_at)]
                for r in practice.attendees(db.session, activity))
        return stream_xlsx(f"{activity.name}-签到名单-{datetime.date.today():%Y%m%d}.xlsx", header, rows)

    @expose("/qr/<int:pk>.png")
    @has_access
    @permission_name("qr")
    def qr(self, pk):
        """The sign-in QR code of an activity in scope."""
        return qr_png_response(signin_url(self._scoped_get(pk)))
