"""Personnel import job: thin wrapper over services.people_import."""
from __future__ import annotations

import os

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.models import CmeUser
from app.oplog import record
from app.services import people_import
from app.views.base import scope_for_user


def import_persons(ctx: JobContext, path: str) -> dict:
    user = db.session.get(CmeUser, ctx.user_id)
    scope = scope_for_user(user)
    try:
        rows = list(people_import.read_rows(path))
    except people_import.ImportFileError as exc:
        record("人员管理", "导入", str(exc), False, operator=user.username)
        raise JobFailed(str(exc)) from None
    finally:
        pass
    total = len(rows)
    ctx.progress(0, total, "正在校验")
    result = people_import.validate(db.session, scope, rows, progress=lambda n: ctx.progress(n))
    try:
        os.unlink(path)
    except OSError:
        pass
    if not result.ok:
        report = ctx.result_path("错误报告.xlsx")
        people_import.error_report(report, result.errors)
        first = result.errors[0]
        message = (f"共{len(result.errors)}处错误，未导入任何数据。第{first.row}行“{first.column}”：{first.reason}")
        record("人员管理", "导入", message, False, operator=user.username)
        raise JobFailed(message, report, "人员导入错误报告.xlsx")
    count = people_import.write(db.session, result.rows)
    db.session.commit()
    record("人员管理", "导入", f"导入{count}人", True, operator=user.username)
    return {"message": f"导入成功，共{count}人", "total": total}
