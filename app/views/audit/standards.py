"""审验标准设置 (AUD-3): sampling standards (编辑 删除 抽取 名单 清空); a district admin keeps its own."""
from __future__ import annotations

from flask import has_request_context, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import IntegerField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange

from app.extensions import db
from app.models import Org
from app.models.audit import AUDIT_SCOPES, STANDARD_STATUSES, AuditCycle, AuditDrawnPerson, AuditStandard
from app.models.org import INSTITUTION_LEVELS
from app.services import audit_sampling as S
from app.views.actions import act, refusing
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
from app.views.base import ScopedModelView, current_scope
from app.views.submit import once


def _institution_choices():
    q = select(Org.id, Org.name).where(Org.kind == "institution", Org.active.is_(True))
    q = current_scope().filter(q, Org).order_by(Org.district_id, Org.name)
    return [(str(i), n) for i, n in db.session.execute(q)]


def _title_choices():
    from app.models import DictItem, DictType

    rows = db.session.scalars(select(DictItem.label).join(DictType).where(DictType.code == "title")
                              .order_by(DictItem.sort, DictItem.id))
    return [(t, t) for t in rows]


def _specialty_choices():
    from app.services.person_fields import SPECIALTIES

    return [(s, s) for s in SPECIALTIES]


def _cycle_choices():
    return [(str(c.id), c.name) for c in db.session.scalars(select(AuditCycle).where(AuditCycle.status == "open")
                                                            .order_by(AuditCycle.year.desc()))]


class _DynamicMulti(SelectMultipleField):
    """Choices computed when the form is bound to a request (scoped institutions, the title dictionary)."""

    def __init__(self, label=None, choices_fn=None, **kw):
        super().__init__(label, choices=[], **kw)
        if choices_fn is not None and has_request_context():
            self.choices = choices_fn()


class _DynamicSelect(SelectField):
    def __init__(self, label=None, choices_fn=None, **kw):
        super().__init__(label, choices=[], **kw)
        if choices_fn is not None and has_request_context():
            self.choices = choices_fn()


def _joined(values) -> str:
    return "、".join(values or []) or _("全部")


def standard_ops(s: AuditStandard) -> Markup:
    return Markup(" ").join([
        link_button(url_for("AuditStandardView.edit", pk=s.id), _("编辑")),
        post_button(url_for("AuditStandardView.delete", pk=s.id), _("删除"), _("确定删除该抽取标准吗？")),
        post_button(url_for("AuditStandardView.draw", pk=s.id), _("抽取"), _("开始抽取？已有名单将被新名单替换"),
                    seen=last_draw_id(s.cycle_id, "person", s.id)),
        link_button(url_for("AuditListView.standard", standard_id=s.id), _("名单")),
        post_button(url_for("AuditStandardView.clear", pk=s.id), _("清空"), _("确定清空该标准的抽取名单吗？")),
    ])


def drawn_counts(standards) -> list[int]:
    """Persons on each standard's list: one GROUP BY for the page, not a query per row."""
    ids = [s.id for s in standards]
    counts = dict(db.session.execute(
        select(AuditDrawnPerson.standard_id, func.count()).where(AuditDrawnPerson.standard_id.in_(ids))
        .group_by(AuditDrawnPerson.standard_id)).all()) if ids else {}
    return [counts.get(i, 0) for i in ids]


class AuditStandardView(DrawJobList, ScopedModelView):
    datamodel = ComputedInterface(AuditStandard, {
        "levels_text": per_row(lambda s: _joined(s.unit_levels)), "titles_text": per_row(lambda s: _joined(s.titles)),
        "specialties_text": per_row(lambda s: _joined(s.specialties)),
        "units_text": per_row(lambda s: "、".join(org_names(s.institution_ids or []).values()) or _("本年度抽审单位")),
        "ops": per_row(standard_ops), "drawn": drawn_counts})
    route_base = "/auditstandard"
    list_title = show_title = _l("审验标准设置")
    add_title = _l("新增抽取标准")
    edit_title = _l("编辑抽取标准")
    list_columns = ["name", "year", "levels_text", "titles_text", "audit_scope", "specialties_text", "status",
                    "allow_repeat", "per_department", "drawn", "ops"]
    show_columns = ["cycle", "district", "name", "year", "levels_text", "titles_text", "audit_scope",
                    "specialties_text", "units_text", "status", "allow_repeat", "per_department", "drawn"]
    add_columns = edit_columns = ["cycle_id", "name", "f_levels", "f_titles", "audit_scope", "f_specialties",
                                  "f_units", "status", "allow_repeat", "per_department"]
    search_columns = ["name", "year", "audit_scope", "status"]
    order_columns = ["name", "year"]
    base_order = ("id", "desc")
    label_columns = {"name": _l("标准名称"), "year": _l("适用年度"), "levels_text": _l("适用单位级别"),
                     "titles_text": _l("适用职称"), "audit_scope": _l("审验归属"), "specialties_text": _l("适用专业"),
                     "status": _l("适用状态"), "allow_repeat": _l("是否重复抽取"), "per_department": _l("抽取人数"),
                     "ops": _l("操作"), "drawn": _l("已抽取"), "cycle": _l("审验年度"), "cycle_id": _l("审验年度"),
                     "district": _l("区"), "units_text": _l("指定单位"), "f_levels": _l("适用单位级别"),
                     "f_titles": _l("适用职称"), "f_specialties": _l("适用专业"), "f_units": _l("指定单位")}
    description_columns = {"per_department": _l("每个科室抽取的人数，0表示科室全部人员"),
                           "f_units": _l("不选则在本年度抽审单位中抽取（按指定单位的科室人员抽取）"),
                           "allow_repeat": _l("不勾选时，往年已被抽取的人员不再抽取"),
                           "f_levels": _l("不选表示全部级别"), "f_titles": _l("不选表示全部职称"),
                           "f_specialties": _l("不选表示全部专业")}
    list_template = "audit/standard_list.html"

    add_form_extra_fields = edit_form_extra_fields = {
        "cycle_id": _DynamicSelect(_l("审验年度"), choices_fn=_cycle_choices, validators=[InputRequired()], render_kw=BOX),
        "f_levels": SelectMultipleField(_l("适用单位级别"), choices=[(lvl, lvl) for lvl in INSTITUTION_LEVELS],
                                        render_kw=BOX),
        "f_titles": _DynamicMulti(_l("适用职称"), choices_fn=_title_choices, render_kw=BOX),
        "f_specialties": _DynamicMulti(_l("适用专业"), choices_fn=_specialty_choices, render_kw=BOX),
        "f_units": _DynamicMulti(_l("指定单位"), choices_fn=_institution_choices, render_kw=BOX),
        "audit_scope": SelectField(_l("审验归属"), choices=list(AUDIT_SCOPES.items()), render_kw=BOX),
        "status": SelectField(_l("适用状态"), choices=list(STANDARD_STATUSES.items()), render_kw=BOX),
        "per_department": IntegerField(_l("抽取人数"), default=1, validators=[InputRequired(), NumberRange(0, 9999)],
                                       render_kw=BOX),
    }

    formatters_columns = {"allow_repeat": lambda v: _("是") if v else _("否"),
                          "status": lambda v: STANDARD_STATUSES.get(v, v),
                          "per_department": lambda v: _("全部") if v == 0 else v}

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk, self._base_filters)
        form.cycle_id.data = str(item.cycle_id)
        form.f_levels.data = item.unit_levels or []
        form.f_titles.data = item.titles or []
        form.f_specialties.data = item.specialties or []
        form.f_units.data = [str(i) for i in item.institution_ids or []]

    def _apply(self, item: AuditStandard) -> None:
        form = request.form
        values = {"cycle_id": int(form.get("cycle_id") or 0), "unit_levels": form.getlist("f_levels"),
                  "titles": form.getlist("f_titles"), "specialties": form.getlist("f_specialties"),
                  "institution_ids": [int(i) for i in form.getlist("f_units")]}
        for attr in ("f_levels", "f_titles", "f_specialties", "f_units"):
            item.__dict__.pop(attr, None)  # the form's extra fields, not columns
        S.prepare_standard(db.session, current_scope(), item, **values)

    @refusing
    def pre_add(self, item):
        self._apply(item)

    @refusing
    def pre_update(self, item):
        self._apply(item)

    @refusing
    def pre_delete(self, item):
        S.delete_standard(db.session, current_scope(), item)

    @expose("/draw/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("draw")
    @once
    def draw(self, pk):
        """抽取: a job drawing the standard's persons (the list is replaced)."""
        standard = self._scoped_get(pk)
        return start_draw(standard.cycle, "person", standard, request.form.get("seed"),
                          url_for("AuditStandardView.list"))

    @expose("/clear/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("draw")
    def clear(self, pk):
        """清空: empty the standard's drawn list."""
        standard = self._scoped_get(pk)
        return act(lambda: S.clear_standard_list(db.session, current_scope(), standard),
                   log=(MODULE, "清空名单", lambda n: f"{standard.name}：{n}人"),
                   done=lambda n: _("已清空名单（%(n)s人）", n=n), then=url_for("AuditStandardView.list"))
