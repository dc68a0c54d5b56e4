"""Distance-education study records upload (issue 16.11): thin wrapper over services.distance, the
all-or-nothing import of jobs.common (every row validated, then the whole upload written or none)."""
from __future__ import annotations

from app.extensions import db
from app.jobs import JobContext
from app.jobs.common import JobLog, import_rows
from app.services import distance
from app.services.scope import scope_for_user

MODULE, ACTION = "远程继续医学教育", "上传学习记录"


def import_records(ctx: JobContext, path: str, project_id: int, filename: str | None = None) -> dict:
    """Validate every row of the uploaded workbook against the project, then write one upload
    (待市级审核) with all its records, or nothing."""
    log = JobLog(ctx, MODULE, ACTION)
    if log.user is None:
        raise log.failed("账号不存在，无法导入")
    try:
        project = distance.uploadable(db.session, scope_for_user(log.user), project_id)
    except distance.DistanceError as exc:
        raise log.failed(str(exc)) from None
    return import_rows(
        ctx, log, path, read=distance.read_rows,
        validate=lambda rows, progress: distance.validate(db.session, project, rows, progress=progress),
        write=lambda rows: len(distance.write(db.session, project, rows, log.user.id, filename).records),
        report_name="学习记录错误报告.xlsx", unit="条学习记录（待市级审核）",
        duplicate="该学员的学习记录刚由他人上传，未导入任何数据，请重新上传")
