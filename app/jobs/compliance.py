"""达标计算 job (JOB-1): recompute a whole scope for one credit year, thin over services.credit_records."""
from __future__ import annotations

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.jobs.common import JobLog
from app.oplog import record
from app.services import credit_records
from app.services.scope import scope_for_user

MODULE, ACTION = "达标结果", "达标计算"


def recompute_year(ctx: JobContext, year: int) -> dict:
    """One set-based recompute of ``year`` over the requesting user's scope (not a loop over people)."""
    log = JobLog(ctx, MODULE, ACTION)
    scope = scope_for_user(log.user)
    ctx.progress(0, 1, f"正在计算{year}年度达标情况")
    try:
        rule_set, written = credit_records.recompute_scope(db.session, scope, year)
    except credit_records.CreditRecordError as exc:
        record(MODULE, ACTION, str(exc), False, operator=log.operator)
        raise JobFailed(str(exc)) from None
    db.session.commit()
    message = f"{year}年度达标计算完成（{rule_set.name}），共{written}人"
    return log.finished(message, written)
