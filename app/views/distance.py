"""远程继续医学教育 (issue 16.11, seed 002 一 4, 二 4, 三 4): the distance institution's project filings
and study-record uploads; the city's review of both.

Every row is loaded through the user's data scope (an institution sees only its own, a guessed id of
another institution is 404); the services refuse a review by anyone but the city.
"""
from __future__ import annotations

import datetime

from flask import abort, current_app, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Org
from app.models.distance import (
    DISTANCE_PROJECT_STATUSES,
    DISTANCE_UPLOAD_STATUSES,
    DistanceProject,
    DistanceRecord,
    DistanceUpload,
)
from app.services import credit_records, distance
from app.services.exports import stream_xlsx
from app.views.actions import act
from app.views.base import current_scope
from app.views.imports import template_file
from app.views.submit import once
from app.views.widgets import number, page, pages

PAGE_SIZE = 20
MODULE = "远程继续医学教育"


def _project(project_id: int) -> DistanceProject:
    item = db.session.scalar(current_scope().filter(
        select(DistanceProject).where(DistanceProject.id == project_id), DistanceProject))
    if item is None:
        abort(404)
    return item


def _upload(upload_id: int) -> DistanceUpload:
    item = db.session.scalar(current_scope().filter(
        select(DistanceUpload).where(DistanceUpload.id == upload_id), DistanceUpload))
    if item is None:
        abort(404)
    return item


def _org_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Org.id, Org.name).where(Org.id.in_(ids))).tuples().all()) if ids else {}


def _project_query():
    q = (request.args.get("q") or "").strip()[:64]
    status = request.args.get("status", "")
    year = request.args.get("year", type=int)
    query = current_scope().filter(select(DistanceProject), DistanceProject)
    if q:
        query = query.where(or_(DistanceProject.name.like(f"%{q}%"), DistanceProject.code.like(f"{q}%")))
    if status in DISTANCE_PROJECT_STATUSES:
        query = query.where(DistanceProject.status == status)
    if year:
        query = query.where(DistanceProject.year == year)
    return query.order_by(DistanceProject.created_at.desc(), DistanceProject.id.desc())


class DistanceProjectView(BaseView):
    """远程教育项目备案: the institution files; the city approves or rejects."""

    route_base = "/distance/projects"
    default_view = "list"

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        query = _project_query()
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        current = page()
        rows = list(db.session.scalars(query.offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return self.render_template(
            "distance/projects.html", rows=rows, total=total, page=current, pages=pages(total, PAGE_SIZE),
            statuses=DISTANCE_PROJECT_STATUSES, args=request.args, number=number,
            orgs=_org_names(r.institution_id for r in rows), city=current_scope().is_all,
            can_add=self.appbuilder.sm.has_access("can_add", self.class_permission_name),
            title=_("远程教育项目备案"))

    @expose("/export")
    @has_access
    @permission_name("export")
    def export(self):
        rows = list(db.session.scalars(_project_query().limit(50_000)))
        orgs = _org_names(r.institution_id for r in rows)
        return stream_xlsx("远程教育项目备案.xlsx",
                           ["项目编号", "项目名称", "远程教育机构", "年度", "学分类别", "学分", "学时", "开始日期",
                            "结束日期", "状态", "原因"],
                           ([r.code, r.name, orgs.get(r.institution_id, ""), r.year, r.category, number(r.credits),
                             number(r.hours), r.starts_on, r.ends_on, DISTANCE_PROJECT_STATUSES.get(r.status),
                             r.reason or ""] for r in rows))

    def _form(self, error: str | None = None, status: int = 200):
        region = credit_records.region(db.session)
        return self.render_template(
            "distance/project_form.html", values=request.form if request.method == "POST" else {}, error=error,
            categories=distance.categories(db.session, region, datetime.date.today()),
            title=_("备案远程继续医学教育项目")), status

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @permission_name("add")
    @once
    def add(self):
        if request.method == "GET":
            return self._form()
        region = credit_records.region(db.session)
        return act(lambda: distance.file_project(db.session, current_scope(), current_user, request.form,
                                                 region=region),
                   log=(MODULE, "项目备案"), done=_("项目已备案，等待市继教办审核"),
                   then=lambda p: url_for("DistanceProjectView.show", project_id=p.id),
                   failed=lambda exc: self._form(str(exc), 422))

    @expose("/<int:project_id>")
    @has_access
    @permission_name("show")
    def show(self, project_id):
        from app.models import Job

        project = _project(project_id)
        uploads = list(db.session.scalars(select(DistanceUpload).where(DistanceUpload.project_id == project.id)
                                          .order_by(DistanceUpload.id.desc())))
        job = None
        if request.args.get("job"):
            job = db.session.get(Job, request.args["job"])
            if job is None or job.user_id != current_user.id or job.kind != "distance_import":
                job = None
        sm = self.appbuilder.sm
        return self.render_template(
            "distance/project_show.html", project=project, uploads=uploads, job=job, number=number,
            statuses=DISTANCE_PROJECT_STATUSES, upload_statuses=DISTANCE_UPLOAD_STATUSES,
            institution=_org_names([project.institution_id]).get(project.institution_id, ""),
            city=current_scope().is_all, can_upload=sm.has_access("can_upload", "DistanceUploadView"),
            can_delete=sm.has_access("can_delete", self.class_permission_name),
            can_review=sm.has_access("can_review", self.class_permission_name),
            title=_("远程教育项目"))

    @expose("/<int:project_id>/review", methods=["POST"])
    @has_access
    @permission_name("review")
    @once
    def review(self, project_id):
        project = _project(project_id)
        passed = request.form.get("decision") == "pass"
        return act(lambda: distance.review_project(db.session, current_scope(), project, passed,
                                                   request.form.get("reason")),
                   log=(MODULE, "项目备案审核"),
                   done=_("项目备案已批准") if passed else _("项目备案审核不通过"),
                   then=url_for("DistanceProjectView.show", project_id=project_id))

    @expose("/<int:project_id>/delete", methods=["POST"])
    @has_access
    @permission_name("delete")
    @once
    def delete(self, project_id):
        project = _project(project_id)
        return act(lambda: distance.delete_project(db.session, current_scope(), project),
                   log=(MODULE, "删除项目备案"), done=_("项目备案已删除"),
                   then=url_for("DistanceProjectView.list"))


class DistanceUploadView(BaseView):
    """远程教育学习记录: the institution's uploads (Excel, all or nothing); the city passes (授分) or rejects."""

    route_base = "/distance/uploads"
    default_view = "list"

    def _query(self):
        status = request.args.get("status", "")
        q = (request.args.get("q") or "").strip()[:64]
        query = current_scope().filter(select(DistanceUpload).join(
            DistanceProject, DistanceProject.id == DistanceUpload.project_id), DistanceUpload)
        if status in DISTANCE_UPLOAD_STATUSES:
            query = query.where(DistanceUpload.status == status)
        if q:
            query = query.where(or_(DistanceProject.name.like(f"%{q}%"), DistanceProject.code.like(f"{q}%")))
        return query

    @expose("/")
    @has_access
    @permission_name("list")
    def list(self):
        query = self._query()
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        current = page()
        rows = list(db.session.scalars(query.options(selectinload(DistanceUpload.project))
                                       .order_by(DistanceUpload.uploaded_at.desc(), DistanceUpload.id.desc())
                                       .offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return self.render_template(
            "distance/uploads.html", rows=rows, total=total, page=current, pages=pages(total, PAGE_SIZE),
            statuses=DISTANCE_UPLOAD_STATUSES, args=request.args, counts=distance.counts(db.session, current_scope()),
            orgs=_org_names(r.institution_id for r in rows), title=_("远程教育学习记录"))

    @expose("/template")
    @has_access
    @permission_name("template")
    def template(self):
        from app.services.sheets import template

        return template_file(template("学习记录", distance.COLUMNS, distance.NOTES, width=16,
                                      choices={"考核结果": distance.RESULTS}), "远程教育学习记录模板.xlsx")

    @expose("/upload/<int:project_id>", methods=["POST"])
    @has_access
    @permission_name("upload")
    @once
    def upload(self, project_id):
        from app.jobs.imports import start_import

        project = _project(project_id)
        storage = request.files.get("file")

        def start():
            distance.uploadable(db.session, current_scope(), project.id)
            return start_import(storage, kind="distance_import", func_path="app.jobs.distance:import_records",
                                user_id=current_user.id, title=_("远程教育学习记录上传"),
                                max_bytes=current_app.config["IMPORT_MAX_BYTES"], project_id=project.id,
                                filename=getattr(storage, "filename", None))

        return act(start, log=(MODULE, "上传学习记录", "上传被拒绝"), log_done=False, category="info",
                   done=lambda r: _("该文件刚刚已上传，未重复导入") if r[1] else None,
                   then=lambda r: url_for("DistanceProjectView.show", project_id=project_id, job=r[0].id) if r
                   else url_for("DistanceProjectView.show", project_id=project_id))

    @expose("/<int:upload_id>")
    @has_access
    @permission_name("show")
    def show(self, upload_id):
        upload = _upload(upload_id)
        total = db.session.scalar(select(func.count(DistanceRecord.id)).where(DistanceRecord.upload_id == upload.id))
        current = page()
        records = list(db.session.scalars(select(DistanceRecord).options(selectinload(DistanceRecord.person))
                                          .where(DistanceRecord.upload_id == upload.id).order_by(DistanceRecord.row)
                                          .offset((current - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return self.render_template(
            "distance/upload_show.html", upload=upload, records=records, total=total, page=current,
            pages=pages(total, PAGE_SIZE), statuses=DISTANCE_UPLOAD_STATUSES, number=number,
            institution=_org_names([upload.institution_id]).get(upload.institution_id, ""),
            can_review=self.appbuilder.sm.has_access("can_review", self.class_permission_name)
            and current_scope().is_all, title=_("学习记录"))

    @expose("/<int:upload_id>/export")
    @has_access
    @permission_name("export")
    def export(self, upload_id):
        upload = _upload(upload_id)
        rows = db.session.scalars(select(DistanceRecord).options(selectinload(DistanceRecord.person))
                                  .where(DistanceRecord.upload_id == upload.id).order_by(DistanceRecord.row))
        return stream_xlsx(f"学习记录_第{upload.id}批.xlsx", ["行号", "IC卡号", "姓名", "学习学时", "完成日期",
                                                         "考核结果", "是否已授分"],
                           ([r.row, r.person.card_no, r.person.name, number(r.hours), r.completed_on, r.result,
                             "是" if r.credit_id else "否"] for r in rows))

    @expose("/<int:upload_id>/review", methods=["POST"])
    @has_access
    @permission_name("review")
    @once
    def review(self, upload_id):
        upload = _upload(upload_id)
        passed = request.form.get("decision") == "pass"
        region = credit_records.region(db.session)
        return act(lambda: distance.review_upload(db.session, current_scope(), current_user, upload, passed,
                                                  request.form.get("reason"), region=region),
                   log=(MODULE, "学习记录审核"),
                   done=lambda n: _("审核通过，已为 %(n)s 名考核合格的学员授予学分", n=n) if passed
                   else _("该批学习记录审核不通过"),
                   then=url_for("DistanceUploadView.show", upload_id=upload_id))


def register(appbuilder) -> None:
    cat = "远程继续医学教育"
    appbuilder.add_view(DistanceProjectView, "远程教育项目备案", label=_l("远程教育项目备案"), icon="fa-laptop-medical",
                        category=cat, category_label=_l("远程继续医学教育"), category_icon="fa-laptop")
    appbuilder.add_view(DistanceUploadView, "远程教育学习记录", label=_l("远程教育学习记录"), icon="fa-file-excel",
                        category=cat)
