"""扫码签到 on the technician's phone (public): a topic's QR code inside its sign-in window (the topic's own,
else the project's 项目微信签到时间), and a practice activity's inside its own window (添加继教实践活动).

The window is checked here, on the server, at the moment of the scan: outside it the page answers 403
whatever the phone shows. Failed identity checks per card number are counted in the operation log and
lock the card for a while, so nobody can try all 10,000 "last 4 digits" of a card.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import Person
from app.models.projects import PracticeActivity, Topic
from app.oplog import record
from app.services import checkin as checkins
from app.services import practice_activities as practice
from app.services import projects as svc
from app.views.actions import act
from app.views.base import acting_user
from app.views.projects.common import MODULE

SIGNIN_MAX_FAILURES = 5
SIGNIN_LOCK_MINUTES = 15
ACTION = "扫码签到"


def _signin_failures(card: str, now: datetime.datetime) -> int:
    from app.models import OperationLog

    if not card:
        return 0
    since = now - datetime.timedelta(minutes=SIGNIN_LOCK_MINUTES)
    return db.session.scalar(select(func.count(OperationLog.id)).where(
        OperationLog.operator == card, OperationLog.module == MODULE, OperationLog.action == ACTION,
        OperationLog.status.is_(False), OperationLog.created_at >= since)) or 0


@dataclass
class Target:
    """What a QR code signs in to: the card shown on the phone, its window and the check-in itself."""

    card: dict
    window: str
    is_open: bool
    closed_error: str
    label: str  # the operation log's detail
    sign: Callable[[Person, datetime.datetime], Any]  # → object with .duplicate
    duplicate_text: str


def _topic_target(topic: Topic, now: datetime.datetime) -> Target:
    window = checkins.window_text(topic)
    unset = svc.signin_window(topic) is None

    def sign(person, at):
        outcome = checkins.check_in(db.session, topic, person, "qr", at)
        svc.refresh_flags(db.session, topic.project)
        return outcome

    return Target(
        card={"title": topic.project.name, "lines": [(_("课题"), f"{topic.code} {topic.name}"),
                                                     (_("主讲"), topic.lecturer)]},
        window=window, is_open=svc.in_window(topic, now),
        closed_error=_("本课题未设置签到时间，不能签到") if unset else
        _("不在签到时间内，不能签到（签到时间：%(w)s）", w=window),
        label=f"{topic.project.approval_no} {topic.code}", sign=sign,
        duplicate_text=_("您已签到过本课题，本次记为重复签到，不重复授分。"))


def _activity_target(activity: PracticeActivity, now: datetime.datetime) -> Target:
    window = practice.window_text(activity)
    return Target(
        card={"title": activity.name, "lines": [(_("活动形式"), activity.form or ""), (_("地点"), activity.place or ""),
                                                (_("负责人"), activity.lecturer or "")]},
        window=window, is_open=practice.in_window(activity, now),
        closed_error=_("本活动未设置签到时间，不能签到") if activity.signin_from is None else
        _("不在签到时间内，不能签到（签到时间：%(w)s）", w=window),
        label=f"实践活动{activity.id} {activity.name}",
        sign=lambda person, at: practice.check_in(db.session, activity, person, "qr", at),
        duplicate_text=_("您已签到过本活动，本次不重复记录。"))


class SignInView(BaseView):
    """扫码签到 on the technician's phone: inside the window, by login or card + name + ID last 4."""

    route_base = "/signin"
    default_view = "signin"

    @expose("/<token>", methods=["GET", "POST"])
    def signin(self, token):
        topic = db.session.scalar(select(Topic).where(Topic.qr_token == token)) if len(token) <= 48 else None
        if topic is None:
            return self._page(error=_("签到二维码无效")), 404
        now = datetime.datetime.now()
        return self._sign(_topic_target(topic, now), now)

    @expose("/practice/<token>", methods=["GET", "POST"])
    def practice(self, token):
        activity = db.session.scalar(select(PracticeActivity).where(PracticeActivity.qr_token == token)) \
            if len(token) <= 48 else None
        if activity is None:
            return self._page(error=_("签到二维码无效")), 404
        now = datetime.datetime.now()
        return self._sign(_activity_target(activity, now), now)

    def _page(self, **kwargs):
        return self.render_template("projects/signin.html", **kwargs)

    def _sign(self, target: Target, now: datetime.datetime):
        page = {"card": target.card, "window": target.window}
        if not target.is_open:
            return self._page(error=target.closed_error, **page), 403
        user = acting_user()
        me = db.session.get(Person, user.person_id) if user is not None and getattr(user, "person_id", None) else None
        login_url = self.appbuilder.get_url_for_login_with(request.url)
        if request.method != "POST":
            return self._page(me=me, form={}, login_url=login_url, **page)
        if request.form.get("as_me") and me is not None:
            person = me
        else:
            card = (request.form.get("card_no") or "").strip()[:32]
            person = None
            locked = _signin_failures(card, now) >= SIGNIN_MAX_FAILURES
            if not locked:
                person = checkins.find_signer(db.session, card, request.form.get("name"), request.form.get("id_last4"))
            if person is None:
                if not locked:
                    record(MODULE, ACTION, f"验证失败 {target.label}", False, operator=card or "-")
                error = (_("验证失败次数过多，请%(m)s分钟后再试，或请会务人员手工签到", m=SIGNIN_LOCK_MINUTES)
                         if locked else _("卡号、姓名或身份证号后4位不正确"))
                return self._page(me=me, error=error, form=request.form, login_url=login_url, **page), (
                    429 if locked else 422)
        outcome = act(lambda: target.sign(person, now))
        if not hasattr(outcome, "duplicate"):  # refused: act flashed and redirected
            return outcome
        record(MODULE, ACTION, f"{target.label} {person.card_no}" + ("（重复）" if outcome.duplicate else ""),
               operator=person.card_no)
        return self._page(done=True, duplicate=outcome.duplicate, duplicate_text=target.duplicate_text,
                          person=person, at=now, **page)
