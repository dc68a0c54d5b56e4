"""Project catalogue import job: thin wrapper over services.catalog_import (all or nothing)."""
from __future__ import annotations

import time

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.jobs.people import _ms, _remove
from app.models import CmeUser
from app.oplog import record
from app.services import catalog_import
from app.services.catalog_import import ImportFileError
from app.services.people_import import error_report

MODULE, ACTION = "继教项目", "导入项目目录"


def import_catalog(ctx: JobContext, path: str) -> dict:
    started = time.perf_counter()
    user = db.session.get(CmeUser, ctx.user_id)
    operator = user.username if user else None

    def fail(message: str, report: str | None = None) -> JobFailed:
        db.session.rollback()
        record(MODULE, ACTION, message, False, _ms(started), operator=operator)
        return JobFailed(message, report, "继教项目导入错误报告.xlsx" if report else None)

    if user is None:
        raise fail("账号不存在，无法导入")
    try:
        try:
            rows = list(catalog_import.read_rows(path))
        except ImportFileError as exc:
            raise fail(str(exc)) from None
        if not rows:
            raise fail("文件中没有数据行，请按模板填写后上传")
        total = len(rows)
        ctx.progress(0, total, "正在校验")
        result = catalog_import.validate(db.session, rows, progress=lambda n: ctx.progress(n))
    finally:
        _remove(path)
    if not result.ok:
        report = ctx.result_path("错误报告.xlsx")
        error_report(report, result.errors)
        first = result.errors[0]
        raise fail(f"共{len(result.errors)}处错误，未导入任何数据。第{first.row}行“{first.column}”：{first.reason}",
                   report)
    ctx.progress(total, message="正在写入")
    try:
        count = catalog_import.write(db.session, result.rows)
        db.session.commit()
    except IntegrityError:
        raise fail("审批编号与刚录入的项目重复，未导入任何数据，请重新上传") from None
    message = f"导入成功，共{count}个项目"
    record(MODULE, ACTION, message, True, _ms(started), operator=operator)
    return {"message": message, "total": total}
