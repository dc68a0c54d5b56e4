"""Steps every job function repeats: who runs it and how long it took in the operation log, and the
all-or-nothing Excel import (read the upload, validate every row, write all rows or none)."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.models import CmeUser
from app.oplog import record
from app.services.people_import import ImportResult, error_report
from app.services.scope import scope_for_user
from app.services.sheets import ImportFileError


class JobLog:
    """The job's user (``user``, None if the account is gone) and one operation-log row per outcome."""

    def __init__(self, ctx: JobContext, module: str, action: str):
        self.started = time.perf_counter()
        self.user = db.session.get(CmeUser, ctx.user_id)
        self.operator = self.user.username if self.user else None
        self.module, self.action = module, action

    def ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    def failed(self, message: str, result_path: str | None = None, result_name: str | None = None) -> JobFailed:
        """Roll the job's work back and log the failure with its duration; returns the error to raise."""
        db.session.rollback()
        record(self.module, self.action, message, False, self.ms(), operator=self.operator)
        return JobFailed(message, result_path, result_name)

    def finished(self, message: str, total: int) -> dict:
        """Log the success; returns the job's result."""
        record(self.module, self.action, message, True, self.ms(), operator=self.operator)
        return {"message": message, "total": total}


def import_rows(ctx: JobContext, log: JobLog, path: str, *,
                read: Callable[[str], Iterable[tuple[int, dict]]],
                validate: Callable[[list, Callable[[int], None]], ImportResult],
                write: Callable[[list[dict]], int],
                report_name: str, duplicate: str, unit: str) -> dict:
    """Validate every row of the uploaded workbook ``path`` (deleted once read), then write all rows or none.

    ``validate(rows, progress)`` and ``write(rows)`` are the area's service calls; ``duplicate`` is the
    message when the database refuses a row someone saved between validation and writing; ``unit`` counts
    the written rows in the success message. The session only reads until every row has passed, so
    progress updates (written on their own connection) never wait for this job's write lock, even on SQLite."""
    def fail(message: str, report: str | None = None) -> JobFailed:
        return log.failed(message, report, report_name if report else None)

    try:
        try:
            rows = list(read(path))
        except ImportFileError as exc:
            raise fail(str(exc)) from None
        if not rows:
            raise fail("文件中没有数据行，请按模板填写后上传")
        total = len(rows)
        ctx.progress(0, total, "正在校验")
        result = validate(rows, ctx.progress)
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
        count = write(result.rows)
        db.session.commit()
    except IntegrityError:
        raise fail(duplicate) from None
    return log.finished(f"导入成功，共{count}{unit}", total)


def import_in_scope(ctx: JobContext, path: str, service, *, module: str, action: str,
                    report_name: str, duplicate: str, unit: str) -> dict:
    """The import of ``service`` (a module with read_rows, validate(session, scope, rows, progress=) and
    write(session, rows)) within the scope of the job's user: the person and organization imports."""
    log = JobLog(ctx, module, action)
    if log.user is None:
        raise log.failed("账号不存在，无法导入")
    scope = scope_for_user(log.user)
    return import_rows(
        ctx, log, path, read=service.read_rows,
        validate=lambda rows, progress: service.validate(db.session, scope, rows, progress=progress),
        write=lambda rows: service.write(db.session, rows),
        report_name=report_name, duplicate=duplicate, unit=unit)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
