"""The Excel import page shared by the person and organization imports: one GET shows the form (and the
progress of the user's own job ``?job=``), one POST starts the job through jobs.imports.start_import.

Each view keeps its own routes, permissions and ``@once``; their bodies call these two helpers:

    return import_page(self, kind="person_import", func_path="app.jobs.people:import_persons",
                       title=_("人员导入"), module="人员管理", endpoint="PersonView.import_",
                       template="people/import.html")
"""
from __future__ import annotations

from flask import current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.views.actions import act

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_page(view, *, kind: str, func_path: str, title: str, module: str, endpoint: str, template: str):
    """POST: start (or find again) the import job and redirect to ``endpoint`` with its id; GET: the page."""
    from app.jobs.imports import start_import
    from app.models import Job
    from app.services.uploads import format_size

    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    if request.method == "POST":
        # Post/redirect/get: reloading the page shows the progress again, never re-uploads. The job
        # logs its own outcome; a refused upload is logged here.
        return act(lambda: start_import(request.files.get("file"), kind=kind, func_path=func_path,
                                        user_id=current_user.id, title=title, max_bytes=max_bytes),
                   log=(module, "导入", "上传被拒绝"), log_done=False, category="info",
                   done=lambda r: _("该文件已于%(time)s上传，未重复导入；以下是那次导入的进度和结果",
                                    time=f"{r[0].created_at:%H:%M:%S}") if r[1] else None,
                   then=lambda r: url_for(endpoint, job=r[0].id) if r else url_for(endpoint))
    job = None
    if request.args.get("job"):
        job = db.session.get(Job, request.args["job"])
        if job is None or job.user_id != current_user.id or job.kind != kind:
            job = None  # someone else's job shows nothing, like one that does not exist
    return view.render_template(template, job=job, max_size=format_size(max_bytes))


def template_file(data, download_name: str):
    """The empty import workbook (in memory) as a download."""
    return send_file(data, as_attachment=True, download_name=download_name, mimetype=XLSX_MIMETYPE)
