"""项目报备 import job: thin wrapper over services.filing_import (validate all rows, then write all or none)."""
from __future__ import annotations

import os
import time

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.models import CmeUser, Org
from app.oplog import record
from app.services import filing_import
from app.services.people_import import ImportFileError, error_report

MODULE, ACTION = "项目报备", "导入"


def import_filings(ctx: JobContext, path: str, institution_id: int) -> dict:
    started = time.perf_counter()
    user = db.session.get(CmeUser, ctx.user_id)
    operator = user.username if user else None

    def fail(message: str, report: str | None = None) -> JobFailed:
        db.session.rollback()
        record(MODULE, ACTION, message, False, int((time.perf_counter() - started) * 1000), operator=operator)
        return JobFailed(message, report, "项目报备导入错误报告.xlsx" if report else None)

    institution = db.session.get(Org, institution_id)
    if user is None or institution is None or institution.kind != "institution":
        raise fail("只有医疗机构账号可以导入项目报备")
    try:
        try:
            rows = list(filing_import.read_rows(path))
        except ImportFileError as exc:
            raise fail(str(exc)) from None
        if not rows:
            raise fail("文件中没有数据行，请按模板填写后上传")
        total = len(rows)
        ctx.progress(0, total, "正在校验")
        result = filing_import.validate(db.session, institution, rows, progress=lambda n: ctx.progress(n))
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    if not result.ok:
        report = ctx.result_path("错误报告.xlsx")
        error_report(report, result.errors)
        first = result.errors[0]
        raise fail(f"共{len(result.errors)}处错误，未导入任何数据。第{first.row}行“{first.column}”：{first.reason}",
                   report)
    ctx.progress(total, message="正在写入")
    try:
        count = filing_import.write(db.session, institution, result.rows, user.id)
        db.session.commit()
    except IntegrityError:
        raise fail("项目编号与刚报备的项目重复，未导入任何数据，请重新上传") from None
    message = f"导入成功，共{count}个项目"
    record(MODULE, ACTION, message, True, int((time.perf_counter() - started) * 1000), operator=operator)
    return {"message": message, "total": total}
