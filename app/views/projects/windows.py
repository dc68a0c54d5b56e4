"""项目微信签到时间设置 (seed 003 继教项目 menu, besides 课程微信签到时间设置): one QR sign-in window for a
whole project, used by each of its topics that has no window of its own. The phone sign-in checks it on
the server (views/projects/signin.py)."""
from __future__ import annotations

import datetime
import math

from flask import abort, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models.projects import Project
from app.services import projects as svc
from app.services.errors import DomainError
from app.views.actions import act
from app.views.base import current_scope
from app.views.projects.common import institution, logged
from app.views.submit import once

PAGE_SIZE = 20


class WindowInputError(DomainError):
    """A sign-in time the form could not read."""


def _when(name: str) -> datetime.datetime | None:
    text = (request.form.get(name) or "").strip()
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace(" ", "T")).replace(second=0, microsecond=0)
    except ValueError:
        raise WindowInputError("签到时间格式不正确，应如 2026-05-20 08:00") from None


class ProjectWindowView(BaseView):
    route_base = "/project-signin-window"
    default_view = "list"

    def _project(self, pk: int) -> Project:
        project = db.session.scalar(current_scope().filter(select(Project).where(Project.id == pk), Project))
        if project is None:
            abort(404)
        return project

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        q, year = (request.args.get("q") or "").strip(), request.args.get("year", type=int)
        query = current_scope().filter(select(Project), Project)
        if q:
            query = query.where(or_(Project.name.like(f"%{q}%"), Project.approval_no.like(f"{q}%")))
        if year:
            query = query.where(Project.year == year)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page = max(request.args.get("page", 1, type=int) or 1, 1)
        rows = list(db.session.scalars(query.order_by(Project.id.desc()).offset((page - 1) * PAGE_SIZE)
                                       .limit(PAGE_SIZE)))
        inst = institution()
        return self.render_template("projects/window_list.html", rows=rows, total=total, page=page,
                                    pages=max(math.ceil(total / PAGE_SIZE), 1), q=q, year=year or "",
                                    owner_id=inst.id if inst else None, title=_("项目微信签到时间设置"))

    @expose("/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    @once
    def edit(self, pk):
        project = self._project(pk)
        inst = institution()
        if inst is None or inst.id != project.institution_id:
            abort(403)
        if request.method == "GET":
            return self.render_template("projects/window_form.html", project=project, title=_("项目微信签到时间设置"))

        def save():
            svc.set_project_window(project, _when("signin_from"), _when("signin_to"))
            return project

        return act(save, done=logged("项目微信签到时间设置", lambda p: f"{p.approval_no} {p.signin_from}~{p.signin_to}",
                                     _("项目微信签到时间已保存")),
                   then=url_for("ProjectWindowView.list"))
