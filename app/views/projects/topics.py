"""课题 and 课程微信签到时间设置: a project's topics with their QR sign-in window and code (seed 003)."""
from __future__ import annotations

import datetime

from flask import request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Optional

from app.extensions import db
from app.models import Person
from app.models.projects import CheckIn, Topic
from app.services import checkin as checkins
from app.services import projects as svc
from app.views.actions import refusing
from app.views.base import InputError, ScopedModelView, ScopeFilter, current_scope, qr_png_response
from app.views.projects.common import TOPIC_LABELS, date_text, institution, num
from app.views.widgets import BOX


def signin_url(topic: Topic) -> str:
    return url_for("SignInView.signin", token=topic.qr_token, _external=True)


class TopicView(ScopedModelView):
    datamodel = SQLAInterface(Topic)
    route_base = "/topics"
    list_title = _l("课程微信签到时间设置")
    add_title = _l("添加课题")
    edit_title = _l("编辑课题")
    show_title = _l("课题详情")
    label_columns = TOPIC_LABELS
    list_columns = ["project", "code", "name", "lecturer", "lecturer_unit", "lecturer_title", "credits", "hours",
                    "place", "starts_at", "window"]
    show_columns = ["project", "code", "name", "lecturer", "lecturer_unit", "lecturer_title", "credits", "hours",
                    "place", "starts_at", "ends_at", "signin_from", "signin_to", "description"]
    add_columns = ["project", "code", "name", "lecturer", "lecturer_card", "lecturer_unit", "lecturer_title",
                   "credits", "hours", "place", "starts_at", "ends_at", "signin_from", "signin_to", "description"]
    edit_columns = add_columns
    search_columns = ["project", "code", "name", "lecturer", "starts_at"]
    base_order = ("starts_at", "desc")
    formatters_columns = {"credits": num, "hours": num, "starts_at": date_text, "ends_at": date_text,
                          "signin_from": date_text, "signin_to": date_text}
    description_columns = {"signin_from": _l("课程微信签到时间设置：签到二维码只在此时间内有效（不填则用项目微信签到时间）"),
                           "lecturer_card": _l("填写后可为主讲教师授予主讲人学分")}
    show_template = "projects/topic_show.html"

    def __init__(self, **kwargs):
        scoped = [["id", ScopeFilter, None]]
        self.add_form_query_rel_fields = {"project": scoped}
        self.edit_form_query_rel_fields = {"project": scoped}
        self.search_form_query_rel_fields = {"project": scoped}
        self.add_form_extra_fields = {"lecturer_card": StringField(_l("主讲教师IC卡号"), validators=[Optional()],
                                                                   render_kw=BOX)}
        self.edit_form_extra_fields = self.add_form_extra_fields
        super().__init__(**kwargs)

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None and item.lecturer_person is not None:
            form.lecturer_card.data = item.lecturer_person.card_no

    def _check(self, item: Topic) -> None:
        project = item.project
        if project is None or not current_scope().allows(project):
            raise InputError(_("请选择所属继教项目"))
        inst = institution()
        if inst is None or inst.id != project.institution_id:
            raise InputError(_("只有举办单位可以添加或修改课题"))
        card = (request.form.get("lecturer_card") or "").strip()
        if card:
            person = db.session.scalar(select(Person).where(Person.card_no == card))
            if person is None:
                raise InputError(_("主讲教师IC卡号“%(card)s”不存在", card=card))
            item.lecturer_person_id = person.id
        else:
            item.lecturer_person_id = None
        svc.check_topic(db.session, item)

    @refusing
    def pre_add(self, item: Topic) -> None:
        self._check(item)

    @refusing
    def pre_update(self, item: Topic) -> None:
        if item.lecturer_credited or db.session.scalar(select(CheckIn.id).where(
                CheckIn.topic_id == item.id, CheckIn.credited.is_(True)).limit(1)) is not None:
            old_hours = db.session.scalar(select(Topic.hours).where(Topic.id == item.id))
            if old_hours is not None and float(old_hours) != float(item.hours):
                raise InputError(_("课题已授分，不能修改学时"))
        self._check(item)

    @refusing
    def pre_delete(self, item: Topic) -> None:
        if db.session.scalar(select(CheckIn.id).where(CheckIn.topic_id == item.id).limit(1)) is not None:
            raise InputError(_("课题已有签到记录，不能删除"))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        topic = self._scoped_get(pk)
        return self.render_template(self.show_template, topic=topic, url=signin_url(topic),
                                    window=checkins.window_text(topic), fmt=num,
                                    open=svc.in_window(topic, datetime.datetime.now()))

    @expose("/qr/<int:pk>.png")
    @has_access
    @permission_name("qr")
    def qr(self, pk):
        """The sign-in QR code of a topic in scope (seed 003: 微信签到)."""
        topic = self._scoped_get(pk)
        return qr_png_response(signin_url(topic))
