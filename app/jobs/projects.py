"""Project catalogue import job: thin wrapper over services.catalog_import (all or nothing)."""
from __future__ import annotations

from app.extensions import db
from app.jobs import JobContext
from app.jobs.common import JobLog, import_rows
from app.services import catalog_import

MODULE, ACTION = "继教项目", "导入项目目录"


def import_catalog(ctx: JobContext, path: str) -> dict:
    log = JobLog(ctx, MODULE, ACTION)
    if log.user is None:
        raise log.failed("账号不存在，无法导入")
    return import_rows(
        ctx, log, path, read=catalog_import.read_rows,
        validate=lambda rows, progress: catalog_import.validate(db.session, rows, progress=progress),
        write=lambda rows: catalog_import.write(db.session, rows),
        report_name="继教项目导入错误报告.xlsx", unit="个项目",
        duplicate="审批编号与刚录入的项目重复，未导入任何数据，请重新上传")
