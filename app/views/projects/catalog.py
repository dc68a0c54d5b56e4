"""添加继教项目: the city's catalogue of approved projects (add, edit, import); units search it and 添加此项目."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import Optional

from app.extensions import db
from app.models.projects import PROJECT_CATEGORIES, Project, ProjectCatalog
from app.oplog import record
from app.services import projects as svc
from app.views.actions import act, refusing
from app.views.base import ExportMixin, InputError, acting_user
from app.views.projects.common import CATALOG_LABELS, MODULE, dict_choices, institution, logged, num
from app.views.submit import once
from app.views.widgets import BOX, ChoiceFiltersMixin, FilterChoice, choices


class CatalogListWidget(ListWidget):
    """The catalogue list with a 添加此项目 button on each row (seed 003)."""

    template = "projects/_catalog_list_widget.html"

    def __call__(self, **kwargs):
        sm = current_app.appbuilder.sm
        inst = institution()
        kwargs["can_adopt"] = sm.has_access("can_adopt", "ProjectCatalogView") and inst is not None
        kwargs["adopted"] = set(db.session.scalars(select(Project.catalog_id).where(
            Project.institution_id == inst.id))) if inst is not None else set()
        return super().__call__(**kwargs)


class ProjectCatalogView(ChoiceFiltersMixin, ExportMixin, ModelView):
    """申报项目目录: the city keeps it (add, edit, import); units search it and 添加此项目."""

    datamodel = SQLAInterface(ProjectCatalog)
    route_base = "/project-catalog"
    list_title = _l("添加继教项目")
    add_title = _l("新增申报项目")
    edit_title = _l("编辑申报项目")
    show_title = _l("申报项目详情")
    label_columns = CATALOG_LABELS
    list_columns = ["approval_no", "name", "category", "subject", "credits", "hours", "year", "organizer",
                    "planned_count"]
    show_columns = list_columns
    add_columns = edit_columns = list_columns
    search_columns = ["year", "name", "approval_no", "category", "subject"]
    custom_filters = {"category": [FilterChoice]}
    search_form_extra_fields = {"category": SelectField(_l("学分类别"), choices=choices(
        {c: c for c in PROJECT_CATEGORIES}), render_kw=BOX)}
    add_form_extra_fields = edit_form_extra_fields = {
        "category": SelectField(_l("学分类别"), choices=[(c, c) for c in PROJECT_CATEGORIES], render_kw=BOX),
        "subject": SelectField(_l("学科"), choices=dict_choices("subject"), validators=[Optional()], render_kw=BOX)}
    base_order = ("id", "desc")
    page_size = 20
    list_widget = CatalogListWidget
    list_template = "projects/catalog_list.html"
    formatters_columns = {"credits": num, "hours": num}
    export_columns = list_columns
    export_name = "继教项目目录"

    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    def _check(self, item: ProjectCatalog) -> None:
        from app.services.catalog_import import APPROVAL_RE

        item.approval_no = (item.approval_no or "").strip().replace("（", "(").replace("）", ")")
        if not APPROVAL_RE.match(item.approval_no):
            raise InputError(_("审批编号格式不正确，应如 2025-14-03-020 (京)"))
        for name, label in (("credits", _("总学分")), ("hours", _("总学时"))):
            if getattr(item, name) is None or getattr(item, name) <= 0:
                raise InputError(_("%(label)s必须大于0", label=label))
        if not item.planned_count or item.planned_count <= 0:
            raise InputError(_("计划人数必须大于0"))
        item.subject = item.subject or None

    # A refused add / edit must not leave the populated row dirty in the session.
    pre_add = pre_update = refusing(_check)

    @refusing
    def pre_delete(self, item: ProjectCatalog) -> None:
        if db.session.scalar(select(Project.id).where(Project.catalog_id == item.id).limit(1)) is not None:
            raise InputError(_("已有单位添加了该项目，不能删除"))

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            from app.models import Job

            job = None
            if request.args.get("job"):
                job = db.session.get(Job, request.args["job"])
                if job is None or job.user_id != acting_user().id or job.kind != "catalog_import":
                    job = None
            kwargs["job"] = job
            kwargs["can_import"] = self.appbuilder.sm.has_access("can_import", "ProjectCatalogView")
        return super().render_template(template, **kwargs)

    @expose("/adopt/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("adopt")
    @once
    def adopt(self, pk):
        """添加此项目 → the project's page to complete the details (seed 003 第一步)."""
        catalog = db.session.get(ProjectCatalog, pk)
        if catalog is None:
            abort(404)
        label = f"{catalog.approval_no} {catalog.name}"
        return act(lambda: svc.adopt(db.session, catalog, institution()),
                   done=logged("添加此项目", lambda _p: label, _("已添加项目，请完善项目信息后添加课题")),
                   then=lambda p: url_for("ProjectView.edit", pk=p.id) if p else url_for("ProjectCatalogView.list"))

    @expose("/import/", methods=["POST"])
    @has_access
    @permission_name("import")
    @once
    def import_(self):
        from app.jobs.imports import start_import
        from app.services.uploads import UploadError

        def refused(exc: UploadError):
            record(MODULE, "导入项目目录", f"上传被拒绝：{exc}", False)
            flash(str(exc), "danger")
            return redirect(url_for("ProjectCatalogView.list"))

        return act(lambda: start_import(request.files.get("file"), kind="catalog_import",
                                        func_path="app.jobs.projects:import_catalog", user_id=acting_user().id,
                                        title=_("继教项目目录导入"), max_bytes=current_app.config["IMPORT_MAX_BYTES"]),
                   done=lambda r: _("该文件已于%(time)s上传，未重复导入；以下是那次导入的进度和结果",
                                    time=f"{r[0].created_at:%H:%M:%S}") if r[1] else None,
                   category="info", failed=refused,
                   then=lambda r: url_for("ProjectCatalogView.list", job=r[0].id))

    @expose("/import/template/")
    @has_access
    @permission_name("import")
    def import_template(self):
        from app.services.catalog_import import template_workbook

        return send_file(template_workbook(), as_attachment=True, download_name="继教项目导入模板.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
