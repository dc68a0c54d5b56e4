"""达标计算 job (JOB-1): recompute a whole scope for one credit year, thin over services.credit_records."""
from __future__ import annotations

import time

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.models import CmeUser
from app.oplog import record
from app.services import credit_records
from app.views.base import scope_for_user

MODULE = "达标结果"


def recompute_year(ctx: JobContext, year: int) -> dict:
    """One set-based recompute of ``year`` over the requesting user's scope (not a loop over people)."""
    user = db.session.get(CmeUser, ctx.user_id)
    scope = scope_for_user(user)
    started = time.perf_counter()
    ctx.progress(0, 1, f"正在计算{year}年度达标情况")
    try:
        rule_set, written = credit_records.recompute_scope(db.session, scope, year)
    except credit_records.CreditRecordError as exc:
        record(MODULE, "达标计算", str(exc), False, operator=user.username)
        raise JobFailed(str(exc)) from None
    db.session.commit()
    message = f"{year}年度达标计算完成（{rule_set.name}），共{written}人"
    record(MODULE, "达标计算", message, True, int((time.perf_counter() - started) * 1000), operator=user.username)
    return {"message": message, "total": written}
