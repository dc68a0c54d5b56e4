"""名单 (AUD-4, AUD-8): a standard's drawn list and the cycle's 最终名单 (merge), grouped level → unit →
department, with compliance and Excel exports. The final list is the city's; a district admin sees the
lists of its own standards."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditCycle, AuditDraw, AuditDrawnPerson, AuditFinalPerson, AuditStandard
from app.oplog import record
from app.services import audit_sampling as S
from app.services.exports import stream_xlsx
from app.services.idcard import mask
from app.views.actions import act
from app.views.audit.common import MODULE, PAGE_SIZE, city_cycle
from app.views.base import current_scope
from app.views.submit import once

LIST_HEADER = ["级别", "单位", "小计", "科室", "人数", "姓名", "IC卡号", "职称", "身份证号", "达标状态"]


def _standard(standard_id: int) -> AuditStandard:
    standard = db.session.get(AuditStandard, standard_id)
    if standard is None:
        abort(404)
    try:
        S.check_standard_scope(current_scope(), standard)
    except S.AuditError:
        abort(404)
    return standard


def _page(model, criterion, year: int):
    page = max(0, request.args.get("page", 0, type=int))
    counts = S.group_counts(db.session, model, criterion)
    rows = db.session.execute(S.list_query(model, criterion).offset(page * PAGE_SIZE).limit(PAGE_SIZE)).all()
    met = S.compliance_of(db.session, [r[1].id for r in rows], year)
    lines = []
    for row, person, inst_name, dept_name in rows:
        lines.append({"id": row.id, "level": row.level or "", "unit": inst_name, "unit_id": row.institution_id,
                      "subtotal": counts["units"].get(row.institution_id, 0), "dept": dept_name or _("（未分科室）"),
                      "dept_key": (row.institution_id, row.department_id or 0),
                      "dept_count": counts["departments"].get((row.institution_id, row.department_id or 0), 0),
                      "name": person.name, "card_no": person.card_no, "title": person.title or "",
                      "id_number": mask(person.id_number), "met": met.get(person.id)})
    pages = (counts["persons"] + PAGE_SIZE - 1) // PAGE_SIZE
    return counts, lines, page, pages


def _export(model, criterion, year: int, filename: str, what: str):
    record(MODULE, "导出", what)
    counts = S.group_counts(db.session, model, criterion)

    def lines(batch):
        met = S.compliance_of(db.session, [r[1].id for r in batch], year)
        for row, person, inst_name, dept_name in batch:
            state = met.get(person.id)
            yield [row.level or "", inst_name, counts["units"].get(row.institution_id, 0), dept_name or "",
                   counts["departments"].get((row.institution_id, row.department_id or 0), 0), person.name,
                   person.card_no, person.title or "", mask(person.id_number),
                   "" if state is None else ("达标" if state else "不达标")]

    def rows():
        query = S.list_query(model, criterion).execution_options(yield_per=1000)
        batch = []
        for item in db.session.execute(query):
            batch.append(item)
            if len(batch) == 1000:
                yield from lines(batch)
                batch = []
        yield from lines(batch)

    return stream_xlsx(filename, LIST_HEADER, rows())


def _remove(row, remove, action: str, owner: str, done: str, back: str):
    """Take one person off a list through the service (lock and scope checks), log it, back to the list."""
    person = row.person
    return act(lambda: remove(db.session, current_scope(), row),
               log=(MODULE, action, f"{owner}：{person.name}（{person.card_no}）"), done=done, then=back)


class AuditListView(BaseView):
    route_base = "/auditlist"
    default_view = "finals"

    def _render_list(self, model, criterion, year: int, **context):
        """audit/list.html for a standard's list or the final list: one page of rows and the group counts."""
        counts, lines, page, pages = _page(model, criterion, year)
        return self.render_template("audit/list.html", counts=counts, lines=lines, page=page, pages=pages, **context)

    # ------------------------------------------------------------ a standard's list
    @expose("/standard/<int:standard_id>")
    @has_access
    @permission_name("read")
    def standard(self, standard_id):
        standard = _standard(standard_id)
        last = db.session.scalar(select(AuditDraw).where(AuditDraw.standard_id == standard.id)
                                 .order_by(AuditDraw.id.desc()).limit(1))
        return self._render_list(AuditDrawnPerson, S.standard_list_criterion(standard.id, current_scope()),
                                 standard.year, title=standard.name, standard=standard, cycle=standard.cycle,
                                 draw=last, final=False, locked=standard.cycle.allocation_locked,
                                 export_url=url_for("AuditListView.standard_export", standard_id=standard.id))

    @expose("/standard/<int:standard_id>/export")
    @has_access
    @permission_name("read")
    def standard_export(self, standard_id):
        standard = _standard(standard_id)
        return _export(AuditDrawnPerson, S.standard_list_criterion(standard.id, current_scope()), standard.year,
                       f"抽取名单-{standard.name}.xlsx", f"抽取名单 {standard.name}")

    @expose("/standard/<int:standard_id>/remove/<int:row_id>", methods=["POST"])
    @has_access
    @permission_name("write")
    def standard_remove(self, standard_id, row_id):
        standard = _standard(standard_id)
        row = db.session.get(AuditDrawnPerson, row_id)
        if row is None or row.standard_id != standard.id:
            abort(404)
        return _remove(row, S.remove_drawn_person, "删除名单人员", standard.name,
                       _("已从名单中删除 %(name)s", name=row.person.name),
                       url_for("AuditListView.standard", standard_id=standard.id))

    # ------------------------------------------------------------ the final list
    @expose("/")
    @has_access
    @permission_name("read")
    def finals(self):
        if not current_scope().is_all:
            abort(403)  # the final list is the city's; districts reach their drawn lists from their standards
        cycles = list(db.session.scalars(select(AuditCycle).order_by(AuditCycle.year.desc())))
        if cycles:
            return redirect(url_for("AuditListView.final", cycle_id=cycles[0].id))
        flash(_("请先新增审验时间"), "info")
        return redirect(url_for("AuditCycleView.list"))

    @expose("/final/<int:cycle_id>")
    @has_access
    @permission_name("read")
    def final(self, cycle_id):
        cycle = city_cycle(cycle_id)
        counts_by_standard = dict(db.session.execute(
            select(AuditDrawnPerson.standard_id, func.count()).where(AuditDrawnPerson.cycle_id == cycle.id)
            .group_by(AuditDrawnPerson.standard_id)).all())
        standards = [(s, counts_by_standard.get(s.id, 0)) for s in db.session.scalars(
            select(AuditStandard).where(AuditStandard.cycle_id == cycle.id).order_by(AuditStandard.id))]
        cycles = list(db.session.scalars(select(AuditCycle).order_by(AuditCycle.year.desc())))
        return self._render_list(AuditFinalPerson, S.final_list_criterion(cycle.id, current_scope()), cycle.year,
                                 title=_("%(name)s 最终抽取名单", name=cycle.name), standard=None, cycle=cycle,
                                 final=True, standards=standards, cycles=cycles, locked=cycle.allocation_locked,
                                 export_url=url_for("AuditListView.final_export", cycle_id=cycle.id))

    @expose("/final/<int:cycle_id>/export")
    @has_access
    @permission_name("read")
    def final_export(self, cycle_id):
        cycle = city_cycle(cycle_id)
        return _export(AuditFinalPerson, S.final_list_criterion(cycle.id, current_scope()), cycle.year,
                       f"最终抽取名单-{cycle.year}.xlsx", f"最终抽取名单 {cycle.name}")

    @expose("/final/<int:cycle_id>/merge", methods=["POST"])
    @has_access
    @permission_name("write")
    @once
    def merge(self, cycle_id):
        cycle = city_cycle(cycle_id)
        try:
            ids = [int(i) for i in request.form.getlist("standard")]
        except ValueError:
            abort(400)
        return act(lambda: S.merge_into_final(db.session, current_scope(), cycle, ids, current_user.id),
                   log=(MODULE, "合并名单", lambda n: f"{cycle.name}：合并{len(ids)}个名单，新增{n}人"),
                   done=lambda n: _("已合并，新增%(n)s人（重复人员只保留一次）", n=n),
                   then=url_for("AuditListView.final", cycle_id=cycle.id))

    @expose("/final/<int:cycle_id>/remove/<int:row_id>", methods=["POST"])
    @has_access
    @permission_name("write")
    def final_remove(self, cycle_id, row_id):
        cycle = city_cycle(cycle_id)
        row = db.session.get(AuditFinalPerson, row_id)
        if row is None or row.cycle_id != cycle.id:
            abort(404)
        return _remove(row, S.remove_final_person, "删除最终名单人员", cycle.name,
                       _("已从最终名单中删除 %(name)s", name=row.person.name),
                       url_for("AuditListView.final", cycle_id=cycle.id))
