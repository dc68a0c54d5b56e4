"""审验抽取 job (AUD-3, JOB-1): run one recorded draw, thin over services.audit_sampling."""
from __future__ import annotations

from app.extensions import db
from app.jobs import JobContext, JobFailed
from app.jobs.common import JobLog
from app.models.audit import AuditDraw
from app.oplog import record
from app.services import audit_sampling

MODULE, ACTION = "审验抽取", "抽取"


def run_draw(ctx: JobContext, draw_id: int) -> dict:
    """Sample institutions or persons for the draw ``draw_id`` (seed and parameters on the row)."""
    log = JobLog(ctx, MODULE, ACTION)
    draw = db.session.get(AuditDraw, draw_id)
    if draw is None:
        raise JobFailed("抽取记录不存在")
    draw.status = "running"
    label = "抽审单位" if draw.kind == "institution" else f"名单“{draw.standard.name if draw.standard else ''}”"
    try:
        n = audit_sampling.run_draw(db.session, draw, ctx.progress)
    except audit_sampling.AuditError as exc:
        db.session.rollback()
        _fail(draw_id, str(exc))
        record(MODULE, ACTION, f"{label}：{exc}", False, operator=log.operator)
        raise JobFailed(str(exc)) from None
    db.session.commit()
    message = f"{label}抽取完成，共{n}{'家' if draw.kind == 'institution' else '人'}（随机种子 {draw.seed}）"
    return log.finished(message, n)


def _fail(draw_id: int, message: str) -> None:
    draw = db.session.get(AuditDraw, draw_id)
    if draw is not None:
        draw.status, draw.message = "failed", message
        db.session.commit()
