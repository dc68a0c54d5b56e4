"""添加继教实践活动 (seed 003 实践活动): a unit's organised practice activities, each with its own QR sign-in
window; the phone sign-in is refused outside it (checked on the server at the moment of the scan).

Seed 003 首页 → 实践活动: "教学活动策划 教学活动策划审核 添加继教实践活动 课程微信签到时间设置
有组织的继教实践活动学分录入". The signed-in persons are the list the unit grants from with the wizard's
有组织的继续医学教育实践活动 standards (每6小时1分 / 单次0.2分).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.i18n import _mark
from app.models import Org, Person
from app.models.projects import PracticeActivity, PracticeCheckIn
from app.services import upsert
from app.services.errors import DomainError
from app.services.projects import new_token, say


class PracticeActivityError(DomainError):
    """A refused practice activity or sign-in: a Chinese message id with named parameters."""


def check(activity: PracticeActivity, institution: Org | None) -> None:
    """The activity's own fields and its sign-in window (both times or neither, in order)."""
    if institution is None or institution.kind != "institution":
        raise PracticeActivityError("只有医疗机构账号可以添加继教实践活动")
    if not (activity.name or "").strip():
        raise PracticeActivityError("请填写活动名称")
    if activity.starts_at is None or activity.ends_at is None or activity.starts_at >= activity.ends_at:
        raise PracticeActivityError("活动结束时间必须晚于开始时间")
    if activity.hours is None or Decimal(str(activity.hours)) <= 0:
        raise PracticeActivityError("学时必须大于0")
    if (activity.signin_from is None) != (activity.signin_to is None):
        raise PracticeActivityError("签到开始时间和结束时间须同时填写")
    if activity.signin_from is not None and activity.signin_from >= activity.signin_to:
        raise PracticeActivityError("签到结束时间必须晚于签到开始时间")
    if activity.institution_id is None:
        activity.institution_id = institution.id
    elif activity.institution_id != institution.id:
        raise PracticeActivityError("只有举办单位可以修改该活动")
    activity.district_id = institution.district_id
    if not activity.qr_token:
        activity.qr_token = new_token()


def in_window(activity: PracticeActivity, now: datetime.datetime) -> bool:
    return activity.signin_from is not None and activity.signin_from <= now <= activity.signin_to


def window_text(activity: PracticeActivity) -> str:
    if activity.signin_from is None:
        return say(_mark("未设置签到时间"))
    return say(_mark("%(start)s 至 %(end)s"), start=f"{activity.signin_from:%Y-%m-%d %H:%M}",
               end=f"{activity.signin_to:%Y-%m-%d %H:%M}")


@dataclass
class Outcome:
    duplicate: bool


def check_in(session: Session, activity: PracticeActivity, person: Person, source: str,
             at: datetime.datetime) -> Outcome:
    """Record one person at one activity, once (INSERT … ON CONFLICT DO NOTHING: two scans at once add
    one row). A QR scan outside the window is refused here too, whatever the caller checked."""
    if source == "qr" and not in_window(activity, at):
        raise PracticeActivityError("不在签到时间内，不能签到（签到时间：%(w)s）", w=window_text(activity))
    added = upsert.insert_ignore(session, PracticeCheckIn, {
        "activity_id": activity.id, "person_id": person.id, "institution_id": activity.institution_id,
        "district_id": activity.district_id, "source": source, "checked_at": at}, ["activity_id", "person_id"])
    return Outcome(duplicate=not added)


def attendees(session: Session, activity: PracticeActivity) -> list[PracticeCheckIn]:
    return list(session.scalars(select(PracticeCheckIn).where(PracticeCheckIn.activity_id == activity.id)
                                .order_by(PracticeCheckIn.checked_at, PracticeCheckIn.id)))
