"""What the supervision screens share: the module name of their log lines, scoped loading of a filing and
its files, the login URL printed on a site manager's sheet."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Org
from app.models.supervision import Filing, SiteManager
from app.services.errors import DomainError
from app.views.base import acting_user, current_scope
from app.views.files import send_attachment

MODULE = "项目督查"
DOC_KINDS = {"notice": "通知公告", "schedule": "项目日程"}
FILING_FILE_KINDS = ("sup_filing", "sup_notice", "sup_schedule")


def format_time(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def institution() -> Org | None:
    """The acting user's 医疗机构 (None for a district, the city, or a user without an institution)."""
    org = getattr(acting_user(), "org", None)
    if org is None or not org.institution_id:
        return None
    return db.session.get(Org, org.institution_id)


def scoped_filing(pk) -> Filing:
    filing = db.session.scalar(current_scope().filter(select(Filing).where(Filing.id == pk), Filing))
    if filing is None:
        abort(404)
    return filing


def send(att: Attachment | None, download: bool = False):
    """A supervision file already found through the caller's scope (404 when there is none)."""
    if att is None:
        abort(404)
    return send_attachment(att, download=download)


def login_url(manager: SiteManager) -> str:
    """The URL of the QR code on the manager's sheet (the phone login with the code filled in)."""
    return url_for("SiteMobileView.login", code=manager.login_code, _external=True)


def refused_to(url: str) -> Callable[[DomainError], object]:
    """``act(…, failed=refused_to(url))``: the refusal flashed, back to ``url`` (success goes elsewhere)."""
    def refused(exc: DomainError):
        flash(str(exc), "danger")
        return redirect(url)
    return refused


def filing_label(filing: Filing) -> str:
    """名称（编号） as the operation log names a filing."""
    return f"{filing.name}（{filing.project_no}）"


FILING_LABELS = {"year": _l("年度"), "project_no": _l("项目编号"), "name": _l("项目名称"),
                 "project_type": _l("项目类型"), "place": _l("举办地点"), "province": _l("举办省份"),
                 "city": _l("举办城市"), "county": _l("举办区县"), "sessions": _l("期数"),
                 "starts_at": _l("开始时间"), "ends_at": _l("结束时间"), "status": _l("报备状态"),
                 "institution": _l("申报单位"), "organizer": _l("主办单位"), "id": _l("操作")}
