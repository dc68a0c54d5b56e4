"""抽取 (AUD-3/4): starting a draw as a job, and 抽取记录 (seed, parameters, re-run with the same seed)."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.models.audit import DRAW_KINDS, DRAW_STATUSES, AuditCycle, AuditDraw, AuditStandard
from app.services import audit_sampling as S
from app.views.actions import act
from app.views.audit.common import MODULE, ComputedInterface, per_row, post_button
from app.views.base import ScopedModelView, current_scope


def start_draw(cycle: AuditCycle, kind: str, standard: AuditStandard | None, seed_text: str | None, back: str,
               rerun_of: AuditDraw | None = None):
    """Record a draw and queue its job; back to ``back`` with ?job= (the list shows its progress).

    Two admins starting (or re-running) a draw at once: the cycle's row is held (services/audit.hold_cycle)
    and a draw already queued or running refuses the second one in Chinese."""
    from app.jobs import enqueue

    seed = None
    if seed_text not in (None, ""):
        try:
            seed = int(str(seed_text).strip())
        except ValueError:
            flash(_("随机种子必须是非负整数"), "danger")
            return redirect(back)

    seen = request.form.get("seen", type=int)  # the last draw the page showed (0 = none)

    def create():
        return S.create_draw(db.session, cycle, current_user.id, kind=kind, standard=standard, seed=seed,
                             rerun_of=rerun_of, seen=seen)

    def queued(draw: AuditDraw | None) -> str:
        """The committed draw's job is queued; back to the list with its progress (refused: the list)."""
        if draw is None:
            return back
        title = _("抽取抽审单位") if kind == "institution" else _("抽取名单：%(name)s", name=standard.name)
        job = enqueue("audit_draw", "app.jobs.audit:run_draw", user_id=current_user.id, title=title, draw_id=draw.id)
        S.set_draw_job(db.session, draw.id, job.id)
        db.session.commit()
        return f"{back}{'&' if '?' in back else '?'}job={job.id}"

    return act(create, log=(MODULE, "抽取"), log_done=False, then=queued)


def last_draw_id(cycle_id: int, kind: str, standard_id: int | None = None) -> int:
    """The id of the last draw of a target (0 = none): the draw buttons send it as ``seen``."""
    latest = S.latest_draw(db.session, cycle_id, kind, standard_id)
    return latest.id if latest is not None else 0


def params_text(d: AuditDraw) -> str:
    return json.dumps(d.params or {}, ensure_ascii=False, sort_keys=True)


def draw_ops(d: AuditDraw):
    if d.status not in ("done", "cleared"):
        return ""
    return post_button(url_for("AuditDrawView.rerun", pk=d.id), _("按同一种子重新抽取"),
                       _("用相同的随机种子重新抽取？现有名单将被替换"),
                       seen=last_draw_id(d.cycle_id, d.kind, d.standard_id if d.kind == "person" else None))


class AuditDrawView(ScopedModelView):
    datamodel = ComputedInterface(AuditDraw, {"params_text": per_row(params_text), "ops": per_row(draw_ops)})
    route_base = "/auditdraw"
    list_title = show_title = _l("抽取记录")
    base_permissions = ["can_list", "can_show", "can_rerun"]
    list_columns = ["cycle", "kind", "standard", "seed", "drawn_count", "status", "operator", "created_at", "ops"]
    show_columns = ["cycle", "kind", "standard", "seed", "params_text", "drawn_count", "status", "message", "operator",
                    "created_at", "finished_at", "rerun_of_id"]
    search_columns = ["kind", "seed", "status", "created_at"]
    order_columns = ["created_at", "seed"]
    base_order = ("id", "desc")
    label_columns = {"cycle": _l("审验年度"), "kind": _l("类型"), "standard": _l("抽取标准"), "seed": _l("随机种子"),
                     "drawn_count": _l("抽取数量"), "status": _l("状态"), "operator": _l("操作人"),
                     "created_at": _l("抽取时间"), "finished_at": _l("完成时间"), "params_text": _l("抽取参数"),
                     "message": _l("说明"), "rerun_of_id": _l("重新抽取自"), "ops": _l("操作")}

    formatters_columns = {"kind": lambda v: DRAW_KINDS.get(v, v), "status": lambda v: DRAW_STATUSES.get(v, v)}

    @expose("/rerun/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("rerun")
    def rerun(self, pk):
        """Re-run with the same seed: the same data gives the same list."""
        draw = self._scoped_get(pk)
        try:
            S.check_rerun(draw)
        except S.AuditError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("AuditDrawView.list"))
        if draw.kind == "person":
            standard = draw.standard
            if not current_scope().is_all:
                try:
                    S.check_standard_scope(current_scope(), standard)
                except S.AuditError:
                    abort(404)
            back = url_for("AuditStandardView.list")
        else:
            if not current_scope().is_all:
                abort(404)
            standard, back = None, url_for("AuditCycleView.list")
        return start_draw(draw.cycle, draw.kind, standard, str(draw.seed), back, rerun_of=draw)
