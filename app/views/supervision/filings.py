"""项目报备 (SUP-1): the unit's filings — add, edit, delete, submit, import, attachments; the screens
shared with 报备审核 (list filters, detail page, files, delete rules)."""
from __future__ import annotations

import datetime

from flask import abort, current_app, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField

from app.extensions import db
from app.models import Attachment, Job
from app.models.supervision import FILING_STATUSES, PROJECT_TYPES, Filing, SiteManager
from app.oplog import record
from app.services import attachments
from app.services import supervision as sup
from app.views.actions import act, refusing
from app.views.base import ScopedModelView, acting_user, refuse_if_referenced
from app.views.submit import once
from app.views.supervision.common import (
    DOC_KINDS,
    FILING_FILE_KINDS,
    FILING_LABELS,
    MODULE,
    filing_label,
    format_time,
    institution,
    refused_to,
    send,
)
from app.views.supervision.managers import SiteManagersMixin
from app.views.widgets import BOX, ChoiceFiltersMixin, FilterChoice, choices


class FilingBase(ChoiceFiltersMixin, ScopedModelView):
    """The list, detail page, files and delete rules of 项目报备 and 报备审核."""

    datamodel = SQLAInterface(Filing)
    label_columns = FILING_LABELS
    search_columns = ["year", "project_no", "name", "starts_at", "ends_at", "status", "project_type", "province",
                      "city", "county"]
    custom_filters = {"status": [FilterChoice], "project_type": [FilterChoice]}
    search_form_extra_fields = {
        "status": SelectField(_l("报备状态"), choices=choices(FILING_STATUSES), render_kw=BOX),
        "project_type": SelectField(_l("项目类型"), choices=choices({t: t for t in PROJECT_TYPES}), render_kw=BOX),
    }
    base_order = ("id", "desc")
    order_columns = ["name", "project_no", "project_type", "sessions", "starts_at", "ends_at", "status"]
    formatters_columns = {"status": lambda v: FILING_STATUSES.get(v, v), "starts_at": format_time,
                          "ends_at": format_time}
    reviewer = False

    def _show_page(self, filing: Filing):
        managers = {m.venue_id: m for m in db.session.scalars(select(SiteManager).where(
            SiteManager.filing_id == filing.id))}
        return self.render_template(
            "supervision/filing_show.html", filing=filing, statuses=FILING_STATUSES, reviewer=self.reviewer,
            files=attachments.of("sup_filing", filing.id), managers=managers, view=self.__class__.__name__,
            docs={k: attachments.of(f"sup_{k}", filing.id) for k in DOC_KINDS}, doc_kinds=DOC_KINDS,
            periods=sup.period_rows(db.session, filing, datetime.datetime.now()) if filing.periods else [],
            has_data=sup.has_supervision_data(db.session, filing),
            delete_refused=sup.can_delete(db.session, filing, self.reviewer))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._show_page(self._scoped_get(pk))

    def _filing_attachment(self, pk: int, att_id: int) -> tuple[Filing, Attachment]:
        """报备附件, 通知公告 or 项目日程 ``att_id`` of filing ``pk`` in scope, or 404."""
        filing = self._scoped_get(pk)
        att = db.session.get(Attachment, att_id)
        if att is None or att.owner_id != filing.id or att.owner_type not in FILING_FILE_KINDS:
            abort(404)
        return filing, att

    @expose("/file/<int:pk>/<int:att_id>")
    @has_access
    @permission_name("file")
    def filing_file(self, pk, att_id):
        """报备附件, 通知公告, 项目日程 of a filing in scope."""
        return send(self._filing_attachment(pk, att_id)[1], request.args.get("download") == "1")

    @refusing
    def pre_delete(self, item: Filing) -> None:
        refused = sup.can_delete(db.session, item, self.reviewer)
        if refused:
            raise sup.SupervisionError(refused)
        refuse_if_referenced([item])  # before the managers' accounts are touched (flushed) below
        for kind in FILING_FILE_KINDS:
            for att in attachments.of(kind, item.id):
                db.session.delete(att)
        # The site managers' login accounts go in the same transaction as the filing.
        deleted, deactivated = sup.remove_manager_accounts(db.session, sup.managers_of(db.session, [item.id]))
        g.setdefault("sup_removed_accounts", {})[item.id] = (deleted, deactivated)

    def post_delete(self, item: Filing) -> None:
        deleted, deactivated = g.get("sup_removed_accounts", {}).get(item.id, (0, 0))
        extra = f"；删除现场负责人账号{deleted}个" if deleted else ""
        extra += f"，停用{deactivated}个（仍被其他数据引用）" if deactivated else ""
        record(MODULE, "删除", f"{filing_label(item)}{extra}")


class FilingView(SiteManagersMixin, FilingBase):
    """项目报备: the unit's filings: add, edit, delete, submit, import; venues, attachments, managers."""

    route_base = "/filing"
    list_title = _l("项目报备")
    list_template = "supervision/filing_list.html"
    list_columns = ["name", "project_no", "project_type", "place", "sessions", "starts_at", "ends_at", "status"]

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            job = db.session.get(Job, request.args["job"]) if request.args.get("job") else None
            if job is not None and (job.user_id != acting_user().id or job.kind != "filing_import"):
                job = None
            kwargs["job"] = job
        return super().render_template(template, **kwargs)

    # ------------------------------------------------------------------ add / edit
    @staticmethod
    def _values() -> dict:
        form = request.form
        values = {k: form.get(k, "") for k in sup.FILING_FIELDS}
        names = form.getlist("venue_name")
        values["venues"] = [{k: (form.getlist(f"venue_{k}") + [""] * len(names))[i] for k in sup.VENUE_FIELDS}
                            for i in range(len(names))]
        return values

    def _form(self, filing: Filing | None, values: dict, errors=None):
        return self.render_template("supervision/filing_form.html", filing=filing, values=values,
                                    types=PROJECT_TYPES, errors=errors or [],
                                    max_mb=sup.filing_max_bytes(db.session) // (1024 * 1024))

    def _save(self, filing: Filing | None):
        values = self._values()

        def save():
            return sup.save_filing(db.session, acting_user(), values, request.files.getlist("files"), filing,
                                   institution=institution() if filing is None else None)

        def refused(exc):
            if isinstance(exc, sup.FilingInvalid):  # listed above the form, each with its field
                return self._form(filing, values, exc.errors)
            # the disk refused a file: nothing kept, the form as typed
            return self._form(filing if filing is not None and filing.id else None, values, [(_("附件"), str(exc))])

        return act(save, log=(MODULE, "保存", filing_label), done=_("已保存。请在列表中点击“提交”提交报备"),
                   then=lambda saved: url_for("FilingView.show", pk=saved.id), failed=refused)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @once
    def add(self):
        if request.method == "POST":
            return self._save(None)
        return self._form(None, {"venues": [{}], "year": datetime.date.today().year, "sessions": 1})

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    @once
    def edit(self, pk):
        filing = self._scoped_get(pk)
        if filing.status not in sup.EDITABLE:
            flash(_("已提交或已通过的报备不能修改"), "warning")
            return redirect(url_for("FilingView.show", pk=filing.id))
        if request.method == "POST":
            return self._save(filing)
        values = {k: getattr(filing, k) for k in sup.FILING_FIELDS}
        values["starts_at"] = f"{filing.starts_at:%Y-%m-%dT%H:%M}"
        values["ends_at"] = f"{filing.ends_at:%Y-%m-%dT%H:%M}"
        values["venues"] = [{k: (getattr(v, k) or "") for k in sup.VENUE_FIELDS} for v in filing.venues]
        return self._form(filing, values)

    @expose("/submit/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("submit")
    def submit(self, pk):
        filing = self._scoped_get(pk)
        return act(lambda: sup.apply(db.session, filing, "submit", acting_user()),
                   log=(MODULE, "提交报备", filing_label(filing)), done=_("已提交报备，等待主管部门审核"),
                   then=url_for("FilingView.list"), failed=refused_to(url_for("FilingView.show", pk=pk)))

    @expose("/attach/<int:pk>/<int:att_id>/delete", methods=["POST"])
    @has_access
    @permission_name("edit")
    def delete_attachment(self, pk, att_id):
        filing, att = self._filing_attachment(pk, att_id)
        if att.owner_type == "sup_filing" and filing.status not in sup.EDITABLE:
            abort(403)
        return act(lambda: db.session.delete(att), log=(MODULE, "删除附件", f"{filing.project_no} {att.name}"),
                   done=_("附件已删除"), then=url_for("FilingView.show", pk=pk))

    # ------------------------------------------------------------------ import
    @expose("/import/", methods=["POST"])
    @has_access
    @permission_name("import")
    @once
    def import_(self):
        from app.jobs.imports import start_import

        back = url_for("FilingView.list")
        inst = institution()
        if inst is None:
            flash(_("只有医疗机构账号可以导入项目报备"), "danger")
            return redirect(back)

        def start():
            return start_import(request.files.get("file"), kind="filing_import",
                                func_path="app.jobs.supervision:import_filings", user_id=acting_user().id,
                                title=_("项目报备导入"), max_bytes=current_app.config["IMPORT_MAX_BYTES"],
                                institution_id=inst.id)

        def again(started):
            job, repeated = started
            return _("该文件已于%(time)s上传，未重复导入；以下是那次导入的进度和结果",
                     time=f"{job.created_at:%H:%M:%S}") if repeated else None

        return act(start, log=(MODULE, "导入", "上传被拒绝"), log_done=False, done=again, category="info",
                   then=lambda started: url_for("FilingView.list", job=started[0].id), failed=refused_to(back))

    @expose("/import/template/")
    @has_access
    @permission_name("import")
    def import_template(self):
        from app.services.filing_import import template_workbook

        return send_file(template_workbook(), as_attachment=True, download_name="项目报备导入模板.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
