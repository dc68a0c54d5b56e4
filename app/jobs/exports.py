"""Excel export of a big list as a job (JOB-1): the list's own rows, scope and filters, written in
constant memory with a progress bar, then downloaded from the job (its owner only).

The job replays the user's request — the list view by class name, the query string of the export,
the user logged in — inside a fresh app and request context, so the rows come from exactly the code
that serves the list and its streamed export (``ExportMixin.export_sheet``): a user gets in the file
what the list shows them, never more."""
from __future__ import annotations

from flask import current_app, g
from flask_login import login_user

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.models import CmeUser
from app.services.exports import write_xlsx


def export_list(ctx: JobContext, view: str, args: list[list[str]]) -> dict:
    """Write the export of list view ``view`` (class name) for the query string ``args``."""
    target = next((v for v in current_app.appbuilder.baseviews if type(v).__name__ == view), None)
    user = db.session.get(CmeUser, ctx.user_id)
    if target is None or not hasattr(target, "export_sheet"):
        raise JobFailed("该列表不支持导出")
    if user is None or not user.active:
        raise JobFailed("用户不存在或已停用，不能导出")
    _forget_request_globals()
    with current_app.test_request_context("/", query_string=[tuple(a) for a in args]):
        login_user(user)
        name, labels, query, rows = target.export_sheet()
        total = query.order_by(None).count()
        ctx.progress(0, total, "正在导出")
        path = ctx.result_path(name)
        written = write_xlsx(path, labels, rows, progress=lambda done: ctx.progress(done, total))
    _forget_request_globals()
    return {"message": f"导出完成，共{written}条", "total": written, "result_path": path, "result_name": name}


def _forget_request_globals() -> None:
    """``g`` belongs to the app context, which a worker (``flask cme worker``) keeps between jobs:
    the scope, roles and user of one replayed request must not leak into the next."""
    for key in [k for k in list(g) if k.startswith(("cme_", "_login_user"))]:
        g.pop(key)
