"""What the screens of 继教项目 share: column labels, formatters, the user's institution, logged actions."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import DictItem, DictType, Org
from app.oplog import record
from app.views.base import acting_user
from app.views.widgets import number

MODULE = "继教项目"
CATALOG_LABELS = {"approval_no": _l("审批编号"), "name": _l("项目名称"), "category": _l("学分类别"),
                  "subject": _l("学科"), "credits": _l("总学分"), "hours": _l("总学时"), "year": _l("年度"),
                  "organizer": _l("主办单位"), "planned_count": _l("计划人数")}
PROJECT_LABELS = {**CATALOG_LABELS, "approval_no": _l("项目编号"), "organizer": _l("原主办单位"),
                  "institution": _l("举办单位"), "starts_on": _l("讲授开始日期"), "ends_on": _l("讲授结束日期"),
                  "major": _l("项目专业"), "assessment": _l("考核方式"), "activity_form": _l("活动形式"),
                  "description": _l("描述"), "applied_on": _l("举办申请日期"), "credited_count": _l("授分人数"),
                  "flagged": _l("异常"), "flag_text": _l("异常提示"), "apply_late": _l("举办申请不足5个工作日"),
                  "count_out_of_range": _l("授分人数超出计划±20%"), "upload_late": _l("刷卡数据逾期上传"),
                  "duplicate_count": _l("重复签到次数"), "last_upload_at": _l("最近上传时间"),
                  "signin_from": _l("项目签到开始时间"), "signin_to": _l("项目签到结束时间"),
                  "window": _l("项目微信签到时间")}
TOPIC_LABELS = {"project": _l("所属项目"), "code": _l("课题ID"), "name": _l("名称"), "lecturer": _l("主讲教师"),
                "lecturer_unit": _l("主讲教师所在单位"), "lecturer_title": _l("技术职务"), "credits": _l("学分"),
                "hours": _l("小时"), "place": _l("上课地点"), "starts_at": _l("授课开始时间"),
                "ends_at": _l("授课结束时间"), "signin_from": _l("签到开始时间"), "signin_to": _l("签到结束时间"),
                "description": _l("描述"), "lecturer_card": _l("主讲教师IC卡号"), "window": _l("签到时间")}


def date_text(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


num = number  # views/widgets.number


def dict_choices(code: str):
    def load():
        labels = db.session.scalars(select(DictItem.label).join(DictType).where(
            DictType.code == code, DictItem.active.is_(True)).order_by(DictItem.sort, DictItem.id))
        return [("", "")] + [(v, v) for v in labels]
    return load


def institution() -> Org | None:
    """The institution the acting user works for (a department user: its institution)."""
    org = getattr(acting_user(), "org", None)
    if org is None or not org.institution_id:
        return None
    return db.session.get(Org, org.institution_id)


def logged(action: str, detail: Callable[[Any], str], message: Callable[[Any], str | None] | str | None
           ) -> Callable[[Any], str | None]:
    """``done`` for :func:`app.views.actions.act` that logs the action with its detail (project number,
    counts…) after the commit, then gives the flash message."""
    def done(result: Any) -> str | None:
        record(MODULE, action, detail(result))
        return message(result) if callable(message) else message
    return done
