"""Personnel import job: thin wrapper over services.people_import."""
from __future__ import annotations

import os
import time

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.models import CmeUser
from app.oplog import record
from app.services import people_import
from app.views.base import scope_for_user

MODULE, ACTION = "人员管理", "导入"


def import_persons(ctx: JobContext, path: str) -> dict:
    """Validate every row of the uploaded workbook, then write all rows or none.

    The session only reads until every row has passed, so progress updates (written on their
    own connection) never wait for this job's write lock, even on SQLite."""
    started = time.perf_counter()
    user = db.session.get(CmeUser, ctx.user_id)
    operator = user.username if user else None

    def fail(message: str, report: str | None = None) -> JobFailed:
        db.session.rollback()
        record(MODULE, ACTION, message, False, _ms(started), operator=operator)
        return JobFailed(message, report, "人员导入错误报告.xlsx" if report else None)

    if user is None:
        raise fail("账号不存在，无法导入")
    scope = scope_for_user(user)
    try:
        try:
            rows = list(people_import.read_rows(path))
        except people_import.ImportFileError as exc:
            raise fail(str(exc)) from None
        if not rows:
            raise fail("文件中没有数据行，请按模板填写后上传")
        total = len(rows)
        ctx.progress(0, total, "正在校验")
        result = people_import.validate(db.session, scope, rows, progress=lambda n: ctx.progress(n))
    finally:
        _remove(path)
    if not result.ok:
        report = ctx.result_path("错误报告.xlsx")
        people_import.error_report(report, result.errors)
        first = result.errors[0]
        raise fail(f"共{len(result.errors)}处错误，未导入任何数据。"
                   f"第{first.row}行“{first.column}”：{first.reason}", report)
    ctx.progress(total, message="正在写入")
    try:
        count = people_import.write(db.session, result.rows)
        db.session.commit()
    except IntegrityError:
        # Someone saved the same card or ID number between validation and writing.
        raise fail("IC卡号或身份证号与刚录入的人员重复，未导入任何数据，请重新上传") from None
    message = f"导入成功，共{count}人"
    record(MODULE, ACTION, message, True, _ms(started), operator=operator)
    return {"message": message, "total": total}


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
