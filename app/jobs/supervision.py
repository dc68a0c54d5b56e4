"""项目报备 import job: thin wrapper over services.filing_import (validate all rows, then write all or none)."""
from __future__ import annotations

from app.extensions import db
from app.jobs import JobContext
from app.jobs.common import JobLog, import_rows
from app.models import Org
from app.services import filing_import

MODULE, ACTION = "项目报备", "导入"


def import_filings(ctx: JobContext, path: str, institution_id: int) -> dict:
    log = JobLog(ctx, MODULE, ACTION)
    institution = db.session.get(Org, institution_id)
    if log.user is None or institution is None or institution.kind != "institution":
        raise log.failed("只有医疗机构账号可以导入项目报备")
    user_id = log.user.id
    return import_rows(
        ctx, log, path, read=filing_import.read_rows,
        validate=lambda rows, progress: filing_import.validate(db.session, institution, rows, progress=progress),
        write=lambda rows: filing_import.write(db.session, institution, rows, user_id),
        report_name="项目报备导入错误报告.xlsx", unit="个项目",
        duplicate="项目编号与刚报备的项目重复，未导入任何数据，请重新上传")
