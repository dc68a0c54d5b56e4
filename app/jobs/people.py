"""Personnel import job: thin wrapper over services.people_import."""
from __future__ import annotations

from app.extensions import db
from app.jobs import JobContext
from app.jobs.common import JobLog, import_rows
from app.services import people_import
from app.views.base import scope_for_user

MODULE, ACTION = "人员管理", "导入"


def import_persons(ctx: JobContext, path: str) -> dict:
    """Validate every row of the uploaded workbook, then write all rows or none."""
    log = JobLog(ctx, MODULE, ACTION)
    if log.user is None:
        raise log.failed("账号不存在，无法导入")
    scope = scope_for_user(log.user)
    return import_rows(
        ctx, log, path, read=people_import.read_rows,
        validate=lambda rows, progress: people_import.validate(db.session, scope, rows, progress=progress),
        write=lambda rows: people_import.write(db.session, rows),
        report_name="人员导入错误报告.xlsx", unit="人",
        # Someone saved the same card or ID number between validation and writing.
        duplicate="IC卡号或身份证号与刚录入的人员重复，未导入任何数据，请重新上传")
