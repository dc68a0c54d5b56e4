"""专家分配 (AUD-5): the dialog of seed 003 (units and departments with learner counts), the counters,
清空分配, 锁定分配结果, 分配结果查询 and its Excel export. The city office's pages only."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Org, Person
from app.models.audit import AuditAllocation, AuditCycle, AuditExpert, AuditFinalPerson
from app.oplog import record
from app.services import audit as A
from app.services.exports import stream_xlsx
from app.services.idcard import mask
from app.views.actions import act
from app.views.audit.common import MODULE, PAGE_SIZE, city_cycle


def _picked() -> tuple[list[int], list[tuple[int, int]]]:
    """The dialog's ticks: "u:<institution>" and "d:<institution>:<department>"; 400 on anything else."""
    units, departments = [], []
    try:
        for key in request.form.getlist("pick"):
            kind, _sep, rest = key.partition(":")
            if kind == "u":
                units.append(int(rest))
            elif kind == "d":
                inst, dept = rest.split(":")
                departments.append((int(inst), int(dept)))
    except ValueError:
        abort(400)
    return units, departments


def _result_query(cycle: AuditCycle, expert_id: int | None):
    inst, dept = aliased(Org), aliased(Org)
    q = (select(AuditAllocation, Person, AuditExpert.name, inst.name, dept.name, AuditFinalPerson.level)
         .join(Person, Person.id == AuditAllocation.person_id)
         .join(AuditExpert, AuditExpert.id == AuditAllocation.expert_id)
         .join(AuditFinalPerson, AuditFinalPerson.id == AuditAllocation.final_person_id)
         .join(inst, inst.id == AuditAllocation.institution_id)
         .outerjoin(dept, dept.id == AuditAllocation.department_id)
         .where(AuditAllocation.cycle_id == cycle.id))
    if expert_id:
        q = q.where(AuditAllocation.expert_id == expert_id)
    return q.order_by(AuditExpert.name, AuditExpert.id, inst.name, inst.id, dept.name, Person.id)


class AuditAllocationView(BaseView):
    route_base = "/auditallocation"
    default_view = "start"

    def _expert(self, cycle: AuditCycle, expert_id: int) -> AuditExpert:
        expert = db.session.get(AuditExpert, expert_id)
        if expert is None or expert.year != cycle.year:
            abort(404)
        return expert

    @expose("/")
    @has_access
    @permission_name("read")
    def start(self):
        cycle = db.session.scalar(select(AuditCycle).order_by(AuditCycle.status.desc(), AuditCycle.year.desc()).limit(1))
        if cycle is None:
            flash(_("请先新增审验时间"), "info")
            return redirect(url_for("AuditCycleView.list"))
        return redirect(url_for("AuditAllocationView.index", cycle_id=cycle.id))

    @expose("/<int:cycle_id>")
    @has_access
    @permission_name("read")
    def index(self, cycle_id):
        cycle = city_cycle(cycle_id)
        name, unit = request.args.get("name", "").strip(), request.args.get("unit", "").strip()
        cycles = list(db.session.scalars(select(AuditCycle).order_by(AuditCycle.year.desc())))
        return self.render_template("audit/allocation.html", cycle=cycle, cycles=cycles,
                                    counters=A.allocation_counters(db.session, cycle),
                                    experts=A.expert_rows(db.session, cycle, name, unit), name=name, unit=unit)

    @expose("/<int:cycle_id>/assign/<int:expert_id>", methods=["GET", "POST"])
    @has_access
    @permission_name("write")
    def assign(self, cycle_id, expert_id):
        """分配学员: the dialog of seed 003 — units and departments with learner counts."""
        cycle = city_cycle(cycle_id)
        expert = self._expert(cycle, expert_id)
        if request.method == "POST":
            units, departments = _picked()
            allocated = act(lambda: A.allocate(db.session, cycle, expert.id, units=units, departments=departments,
                                               operator_id=current_user.id),
                            log=(MODULE, "分配学员", lambda n: f"{cycle.name}：{expert.name} 分配{n}人"),
                            done=lambda n: _("已分配%(n)s名学员给%(name)s", n=n, name=expert.name),
                            then=url_for("AuditAllocationView.index", cycle_id=cycle.id),
                            failed=lambda exc: flash(str(exc), "danger"))  # the dialog again
            if allocated is not None:
                return allocated
        unit_name, dept_name = request.args.get("unit", "").strip(), request.args.get("dept", "").strip()
        tree = A.unallocated_tree(db.session, cycle, unit_name, dept_name)
        return self.render_template("audit/assign.html", cycle=cycle, expert=expert, tree=tree,
                                    remaining_units=len(tree), remaining_persons=sum(u["count"] for u in tree),
                                    unit=unit_name, dept=dept_name)

    @expose("/<int:cycle_id>/clear/<int:expert_id>", methods=["POST"])
    @has_access
    @permission_name("write")
    def clear(self, cycle_id, expert_id):
        cycle = city_cycle(cycle_id)
        expert = self._expert(cycle, expert_id)
        return act(lambda: A.clear_allocation(db.session, cycle, expert.id),
                   log=(MODULE, "清空分配", lambda n: f"{cycle.name}：{expert.name} {n}人"),
                   done=lambda n: _("已清空%(name)s的分配（%(n)s人）", name=expert.name, n=n),
                   then=url_for("AuditAllocationView.index", cycle_id=cycle.id))

    @expose("/<int:cycle_id>/lock", methods=["POST"])
    @has_access
    @permission_name("write")
    def lock(self, cycle_id):
        cycle = city_cycle(cycle_id)
        return act(lambda: A.lock_allocation(db.session, cycle, current_user.id),
                   log=(MODULE, "锁定分配", cycle.name), done=_("分配结果已锁定"),
                   then=url_for("AuditAllocationView.index", cycle_id=cycle.id))

    @expose("/<int:cycle_id>/result")
    @has_access
    @permission_name("read")
    def result(self, cycle_id):
        """分配结果查询 (all experts, or one with ?expert=)."""
        cycle = city_cycle(cycle_id)
        expert_id = request.args.get("expert", type=int)
        expert = self._expert(cycle, expert_id) if expert_id else None
        page = max(0, request.args.get("page", 0, type=int))
        total = db.session.scalar(select(func.count()).select_from(_result_query(cycle, expert_id).subquery()))
        rows = db.session.execute(_result_query(cycle, expert_id).offset(page * PAGE_SIZE).limit(PAGE_SIZE)).all()
        return self.render_template("audit/result.html", cycle=cycle, expert=expert, rows=rows, total=total, page=page,
                                    pages=(total + PAGE_SIZE - 1) // PAGE_SIZE, mask=mask)

    @expose("/<int:cycle_id>/export")
    @has_access
    @permission_name("read")
    def export(self, cycle_id):
        cycle = city_cycle(cycle_id)
        expert_id = request.args.get("expert", type=int)
        if expert_id:
            self._expert(cycle, expert_id)
        query = _result_query(cycle, expert_id).execution_options(yield_per=1000)

        def rows():
            for alloc, person, expert_name, inst_name, dept_name, level in db.session.execute(query):
                yield [expert_name, level or "", inst_name, dept_name or "", person.name, person.card_no,
                       person.title or "", mask(person.id_number), alloc.allocated_at]
        record(MODULE, "导出", f"专家分配 {cycle.name}")
        return stream_xlsx(f"专家分配-{cycle.year}.xlsx",
                           ["专家", "级别", "单位", "科室", "姓名", "IC卡号", "职称", "身份证号", "分配时间"], rows())
