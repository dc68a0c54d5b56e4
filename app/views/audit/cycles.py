"""审验时间设置 (AUD-1): the cycles, their quotas, 抽取抽审单位 and the sampled institutions."""
from __future__ import annotations

from flask import abort, request, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from app.extensions import db
from app.models import Org
from app.models.audit import CYCLE_STATUSES, AuditCycle, AuditDraw, AuditSampledInstitution
from app.oplog import record
from app.services import audit as A
from app.services import audit_sampling as S
from app.services.exports import stream_xlsx
from app.views.actions import refusing
from app.views.audit.common import (
    BOX,
    MODULE,
    ComputedInterface,
    DrawJobList,
    link_button,
    org_names,
    per_row,
    post_button,
)
from app.views.audit.draws import last_draw_id, start_draw
from app.views.base import ExportMixin
from app.views.submit import once


def cycle_window(c: AuditCycle) -> str:
    return f"{c.window_start:%Y-%m-%d} — {c.window_end:%Y-%m-%d}"


def audit_period(c: AuditCycle) -> str:
    return f"{c.audit_start:%Y-%m-%d %H:%M} — {c.audit_end:%Y-%m-%d %H:%M}"


def quota_text(c: AuditCycle) -> str:
    return "；".join(f"{lvl}：{'全部' if v == 'all' else f'每区{v}家'}" for lvl, v in (c.quotas or {}).items())


def cycle_ops(cycle: AuditCycle) -> Markup:
    parts = [link_button(url_for("AuditCycleView.institutions", pk=cycle.id), _("抽审单位")),
             link_button(url_for("AuditUnitReviewView.overview", cycle=cycle.id), _("单位审验")),
             link_button(url_for("AuditReplyView.replies", cycle=cycle.id), _("回执"))]
    if cycle.status == "open" and not cycle.allocation_locked:
        parts.append(post_button(url_for("AuditCycleView.draw", pk=cycle.id), _("抽取抽审单位"),
                                 _("按配额重新抽取抽审单位？已抽取的抽审单位将被替换"),
                                 seen=last_draw_id(cycle.id, "institution")))
    parts.append(link_button(url_for("AuditListView.final", cycle_id=cycle.id), _("最终名单")))
    parts.append(link_button(url_for("AuditAllocationView.index", cycle_id=cycle.id), _("专家分配")))
    return Markup(" ").join(parts)


class CycleInterface(ComputedInterface):
    """Two city users opening a cycle of one year at once: the unique index ux_audit_cycle_open_year
    lets one in; the other is refused in Chinese (not FAB's raw database error)."""


    def _refuse_duplicate(self, item, ex: IntegrityError):
        if "ux_audit_cycle_open_year" in str(ex.orig) or "audit_cycle.year" in str(ex.orig):
            raise A.AuditAdminError("%(year)s年度已有开启的审验，请先关闭后再开启新的审验", year=item.year) from None
        raise ex

    def add(self, item, commit: bool = True) -> None:
        try:
            super().add(item, commit)
        except IntegrityError as ex:
            self._refuse_duplicate(item, ex)


class AuditCycleView(DrawJobList, ExportMixin, ModelView):
    datamodel = CycleInterface(AuditCycle, {"window": per_row(cycle_window), "audit_period": per_row(audit_period),
                                            "quota_text": per_row(quota_text), "ops": per_row(cycle_ops)})
    route_base = "/auditcycle"
    list_title = show_title = _l("审验时间设置")
    add_title = _l("新增时间")
    edit_title = _l("编辑审验时间")
    list_columns = ["name", "year", "window", "created_at", "audit_period", "updated_at", "status", "ops"]
    show_columns = ["name", "year", "window_start", "window_end", "upload_cutoff", "unit_audit_start", "unit_audit_end",
                    "reply_deadline", "audit_start", "audit_end", "appeal_deadline", "status", "quota_text",
                    "allocation_locked", "remark", "created_at", "updated_at"]
    add_columns = edit_columns = ["name", "year", "window_start", "window_end", "upload_cutoff", "unit_audit_start",
                                  "unit_audit_end", "reply_deadline", "audit_start", "audit_end", "appeal_deadline",
                                  "status", "quota_secondary", "quota_primary", "quota_private", "quota_tertiary_all",
                                  "remark"]
    search_columns = ["year", "name", "status"]
    order_columns = ["year", "name", "created_at"]
    base_order = ("year", "desc")
    label_columns = {"name": _l("名称"), "year": _l("年度"), "window": _l("时间范围"), "window_start": _l("学分开始日期"),
                     "window_end": _l("学分截止日期"), "created_at": _l("设置时间"), "audit_period": _l("审验时间"),
                     "audit_start": _l("审验开始时间"), "audit_end": _l("审验结束时间"),
                     "unit_audit_start": _l("单位自审开始时间"), "unit_audit_end": _l("单位自审结束时间"),
                     "reply_deadline": _l("回执截止时间"),
                     "appeal_deadline": _l("复审截止时间"), "upload_cutoff": _l("数据上传截止时间"), "updated_at": _l("更新时间"), "status": _l("状态"),
                     "quota_text": _l("抽审单位配额"), "allocation_locked": _l("分配已锁定"), "remark": _l("备注"),
                     "ops": _l("操作"), "quota_secondary": _l("每区抽取二级机构（家）"),
                     "quota_primary": _l("每区抽取一级机构（家）"), "quota_private": _l("每区抽取社会办医机构（家）"),
                     "quota_tertiary_all": _l("三级机构全部参加抽审")}
    description_columns = {"window_start": _l("只统计该时间范围内获得的学分，如2021-11-01至2022-10-31"),
                           "appeal_deadline": _l("各单位在此时间前可申请复审"),
                           "unit_audit_start": _l("各区卫健委和三级医疗卫生机构审验本单位人员学分的时间，如11月1日—11月5日"),
                           "unit_audit_end": _l("此时间后单位审验结论锁定，不能再修改"),
                           "reply_deadline": _l("被抽查单位在此时间前提交被抽查人员名单和联系人回执，如11月7日"),
                           "upload_cutoff": _l("此时间后上传的学分不纳入本次审验，如2022-11-05 23:59:59（留空则不限）")}
    _quota_fields = {"quota_secondary": "二级", "quota_primary": "一级", "quota_private": "社会办医"}
    add_form_extra_fields = edit_form_extra_fields = {
        "status": SelectField(_l("状态"), choices=list(CYCLE_STATUSES.items()), render_kw=BOX),
        "quota_secondary": IntegerField(_l("每区抽取二级机构（家）"), default=1, validators=[InputRequired(), NumberRange(0, 99)], render_kw=BOX),
        "quota_primary": IntegerField(_l("每区抽取一级机构（家）"), default=2, validators=[InputRequired(), NumberRange(0, 99)], render_kw=BOX),
        "quota_private": IntegerField(_l("每区抽取社会办医机构（家）"), default=2, validators=[InputRequired(), NumberRange(0, 99)], render_kw=BOX),
        "quota_tertiary_all": BooleanField(_l("三级机构全部参加抽审"), default=True),
    }
    export_columns = ["name", "year", "window_start", "window_end", "upload_cutoff", "audit_start", "audit_end", "appeal_deadline", "status"]
    export_name = "审验时间"
    export_formatters = {"status": lambda c: c.status_label}
    list_template = "audit/cycle_list.html"

    formatters_columns = {"status": lambda v: CYCLE_STATUSES.get(v, v)}
    # FAB's message when saving an edit fails in the database (e.g. a second open cycle of a year).
    database_error_message = _l("保存失败：该年度已有开启的审验，或记录已被他人修改，请刷新后查看")

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk)
        quotas = item.quotas or {}
        for field, level in self._quota_fields.items():
            getattr(form, field).data = quotas.get(level, 0)
        form.quota_tertiary_all.data = quotas.get("三级") == "all"

    def _apply(self, item: AuditCycle) -> None:
        per_district = {level: request.form.get(field, "") for field, level in self._quota_fields.items()}
        for attr in ("quota_secondary", "quota_primary", "quota_private", "quota_tertiary_all"):
            item.__dict__.pop(attr, None)  # the form's extra fields, not columns
        A.prepare_cycle(db.session, item, per_district=per_district,
                        tertiary_all=bool(request.form.get("quota_tertiary_all")))

    @refusing
    def pre_add(self, item):
        self._apply(item)

    @refusing
    def pre_update(self, item):
        self._apply(item)

    @refusing
    def pre_delete(self, item):
        A.check_cycle_deletable(db.session, item)

    @expose("/draw/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("draw")
    @once
    def draw(self, pk):
        """抽取抽审单位 by the cycle's quotas (seed 001 四(二)2(1)) as a job."""
        cycle = db.session.get(AuditCycle, pk) or abort(404)
        return start_draw(cycle, "institution", None, request.form.get("seed"), url_for("AuditCycleView.list"))

    @expose("/institutions/<int:pk>")
    @has_access
    @permission_name("draw")
    def institutions(self, pk):
        """The sampled institutions of a cycle, by district and level."""
        cycle = db.session.get(AuditCycle, pk) or abort(404)
        rows = sampled_rows(cycle.id)
        draw = db.session.scalar(select(AuditDraw).where(AuditDraw.cycle_id == cycle.id, AuditDraw.kind == "institution",
                                                         AuditDraw.status == "done").order_by(AuditDraw.id.desc()).limit(1))
        return self.render_template("audit/institutions.html", cycle=cycle, rows=rows, draw=draw,
                                    quota_text=quota_text(cycle))

    @expose("/institutions/<int:pk>/export")
    @has_access
    @permission_name("draw")
    def institutions_export(self, pk):
        cycle = db.session.get(AuditCycle, pk) or abort(404)
        rows = ([r["district"], r["level"], r["name"], _("全部参加") if r["reason"] == "all" else _("按配额抽取")]
                for r in sampled_rows(cycle.id))
        record(MODULE, "导出", f"{cycle.name} 抽审单位")
        return stream_xlsx(f"抽审单位-{cycle.year}.xlsx", [_("区"), _("级别"), _("单位"), _("方式")], rows)


def sampled_rows(cycle_id: int) -> list[dict]:
    inst = db.session.execute(
        select(AuditSampledInstitution.district_id, AuditSampledInstitution.level, AuditSampledInstitution.reason,
               Org.name, Org.id)
        .join(Org, Org.id == AuditSampledInstitution.institution_id)
        .where(AuditSampledInstitution.cycle_id == cycle_id)
        .order_by(AuditSampledInstitution.district_id, S.level_order(AuditSampledInstitution.level), Org.name)).all()
    names = org_names(d for d, *_ in inst)
    return [{"district": names.get(d, ""), "level": lvl, "reason": reason, "name": name, "id": i}
            for d, lvl, reason, name, i in inst]
