"""Organization import job: thin wrapper over services.org_import."""
from __future__ import annotations

from app.extensions import db
from app.jobs import JobContext
from app.jobs.common import JobLog, import_rows
from app.services import org_import
from app.views.base import scope_for_user

MODULE, ACTION = "组织机构", "导入"


def import_orgs(ctx: JobContext, path: str) -> dict:
    """Validate every row of the uploaded workbook, then write all rows or none."""
    log = JobLog(ctx, MODULE, ACTION)
    if log.user is None:
        raise log.failed("账号不存在，无法导入")
    scope = scope_for_user(log.user)
    return import_rows(
        ctx, log, path, read=org_import.read_rows,
        validate=lambda rows, progress: org_import.validate(db.session, scope, rows, progress=progress),
        write=lambda rows: org_import.write(db.session, rows),
        report_name="组织机构导入错误报告.xlsx", unit="个单位",
        # Someone saved the same code between validation and writing.
        duplicate="编码与刚录入的单位重复，未导入任何数据，请重新上传")
