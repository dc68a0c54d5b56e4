"""学分审验 administration (AUD-1..5, AUD-8 lists/allocations): 审验时间设置, 审验专家, 审验标准设置
(编辑 删除 抽取 名单 清空), 抽取记录 (seed, re-run), 名单 grouped level → unit → department, 最终名单
(merge), 专家分配 (dialog, counters, 清空分配, 分配结果查询, lock) and Excel exports.

Views are thin: services/audit.py and services/audit_sampling.py hold the rules. The city office
(市继教办) runs everything; a district admin (区卫健委) keeps standards and draws of its own district
inside the cycle's sampled institutions. Rows outside the user's scope answer 404.
"""
from __future__ import annotations

from contextlib import contextmanager

from flask import abort, flash, has_request_context, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from app.extensions import db
from app.models import Org, Person
from app.models.audit import (
    AUDIT_SCOPES,
    CYCLE_STATUSES,
    DRAW_KINDS,
    EXPERT_STATUSES,
    STANDARD_STATUSES,
    AuditAllocation,
    AuditCycle,
    AuditDraw,
    AuditDrawnPerson,
    AuditExpert,
    AuditFinalPerson,
    AuditSampledInstitution,
    AuditStandard,
)
from app.models.org import INSTITUTION_LEVELS
from app.oplog import record
from app.services import audit as A
from app.services import audit_sampling as S
from app.services.exports import stream_xlsx
from app.services.idcard import mask
from app.views.base import ExportMixin, ScopedModelView, current_scope
from app.views.credits import ChoiceFiltersMixin, _TextFilter
from app.views.submit import once, submit_token

MODULE = "学分审验"
_BOX = {"class": "form-control"}
PAGE_SIZE = 200


def _org_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Org.id, Org.name).where(Org.id.in_(ids))).all()) if ids else {}


def _csrf_form(action: str, label: str, confirm: str = "", css: str = "btn-link") -> Markup:
    from flask_wtf.csrf import generate_csrf

    onsubmit = Markup(' onsubmit="return confirm({});"').format(Markup("&quot;") + confirm + Markup("&quot;")) if confirm else ""
    return Markup('<form method="post" action="{}" style="display:inline"{}><input type="hidden" name="csrf_token" '
                  'value="{}">{}<button type="submit" class="btn btn-xs {}">{}</button></form>').format(
        action, onsubmit, generate_csrf(), submit_token(), css, label)


@contextmanager
def _translated(*errors: type[Exception]):
    """Re-raise a service's refusal in the user's language: FAB flashes ``str(exc)`` of a pre_* hook."""
    try:
        yield
    except errors as exc:
        raise type(exc)(_(str(exc))) from None


def _city_cycle(cycle_id: int) -> AuditCycle:
    """A cycle for the city-only pages (final list, allocation); 404 for anyone else."""
    if not current_scope().is_all:
        abort(404)
    return db.session.get(AuditCycle, cycle_id) or abort(404)


def _job_of(kind: str):
    from app.models import Job

    job_id = request.args.get("job")
    if not job_id:
        return None
    job = db.session.get(Job, job_id)
    return job if job is not None and job.user_id == current_user.id and job.kind == kind else None


class _DrawJobList:
    """A list page (audit/_draw_job_list.html) that shows the progress of the draw job just started (?job=)."""

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["job"] = _job_of("audit_draw")
        return super().render_template(template, **kwargs)


# =========================================================================== 审验时间设置 (AUD-1)
class AuditCycleView(_DrawJobList, ExportMixin, ModelView):
    datamodel = SQLAInterface(AuditCycle)
    route_base = "/auditcycle"
    list_title = show_title = _l("审验时间设置")
    add_title = _l("新增时间")
    edit_title = _l("编辑审验时间")
    list_columns = ["name", "year", "window", "created_at", "audit_period", "updated_at", "status", "ops"]
    show_columns = ["name", "year", "window_start", "window_end", "upload_cutoff", "audit_start", "audit_end",
                    "appeal_deadline", "status", "quota_text", "allocation_locked", "remark", "created_at", "updated_at"]
    add_columns = edit_columns = ["name", "year", "window_start", "window_end", "upload_cutoff", "audit_start", "audit_end",
                                  "appeal_deadline", "status", "quota_secondary", "quota_primary", "quota_private",
                                  "quota_tertiary_all", "remark"]
    search_columns = ["year", "name", "status"]
    order_columns = ["year", "name", "created_at"]
    base_order = ("year", "desc")
    label_columns = {"name": _l("名称"), "year": _l("年度"), "window": _l("时间范围"), "window_start": _l("学分开始日期"),
                     "window_end": _l("学分截止日期"), "created_at": _l("设置时间"), "audit_period": _l("审验时间"),
                     "audit_start": _l("审验开始时间"), "audit_end": _l("审验结束时间"),
                     "appeal_deadline": _l("复审截止时间"), "upload_cutoff": _l("数据上传截止时间"), "updated_at": _l("更新时间"), "status": _l("状态"),
                     "quota_text": _l("抽审单位配额"), "allocation_locked": _l("分配已锁定"), "remark": _l("备注"),
                     "ops": _l("操作"), "quota_secondary": _l("每区抽取二级机构（家）"),
                     "quota_primary": _l("每区抽取一级机构（家）"), "quota_private": _l("每区抽取社会办医机构（家）"),
                     "quota_tertiary_all": _l("三级机构全部参加抽审")}
    description_columns = {"window_start": _l("只统计该时间范围内获得的学分，如2021-11-01至2022-10-31"),
                           "appeal_deadline": _l("各单位在此时间前可申请复审"),
                           "upload_cutoff": _l("此时间后上传的学分不纳入本次审验，如2022-11-05 23:59:59（留空则不限）")}
    _quota_fields = {"quota_secondary": "二级", "quota_primary": "一级", "quota_private": "社会办医"}
    add_form_extra_fields = edit_form_extra_fields = {
        "status": SelectField(_l("状态"), choices=list(CYCLE_STATUSES.items()), render_kw=_BOX),
        "quota_secondary": IntegerField(_l("每区抽取二级机构（家）"), default=1, validators=[InputRequired(), NumberRange(0, 99)], render_kw=_BOX),
        "quota_primary": IntegerField(_l("每区抽取一级机构（家）"), default=2, validators=[InputRequired(), NumberRange(0, 99)], render_kw=_BOX),
        "quota_private": IntegerField(_l("每区抽取社会办医机构（家）"), default=2, validators=[InputRequired(), NumberRange(0, 99)], render_kw=_BOX),
        "quota_tertiary_all": BooleanField(_l("三级机构全部参加抽审"), default=True),
    }
    export_columns = ["name", "year", "window_start", "window_end", "upload_cutoff", "audit_start", "audit_end", "appeal_deadline", "status"]
    export_name = "审验时间"
    export_formatters = {"status": lambda c: c.status_label}
    list_template = "audit/cycle_list.html"

    formatters_columns = {"status": lambda v: CYCLE_STATUSES.get(v, v)}

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
        with _translated(A.AuditAdminError):
            A.prepare_cycle(db.session, item, per_district=per_district,
                            tertiary_all=bool(request.form.get("quota_tertiary_all")))

    def pre_add(self, item):
        self._apply(item)

    def pre_update(self, item):
        self._apply(item)

    def pre_delete(self, item):
        with _translated(A.AuditAdminError):
            A.check_cycle_deletable(db.session, item)

    def _add(self):
        try:
            return super()._add()
        finally:
            _discard()

    def _edit(self, pk):
        try:
            return super()._edit(pk)
        finally:
            _discard()

    @expose("/draw/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("draw")
    @once
    def draw(self, pk):
        """抽取抽审单位 by the cycle's quotas (seed 001 四(二)2(1)) as a job."""
        cycle = db.session.get(AuditCycle, pk) or abort(404)
        return _start_draw(cycle, "institution", None, request.form.get("seed"), url_for("AuditCycleView.list"))

    @expose("/institutions/<int:pk>")
    @has_access
    @permission_name("draw")
    def institutions(self, pk):
        """The sampled institutions of a cycle, by district and level."""
        cycle = db.session.get(AuditCycle, pk) or abort(404)
        rows = _sampled_rows(cycle.id)
        draw = db.session.scalar(select(AuditDraw).where(AuditDraw.cycle_id == cycle.id, AuditDraw.kind == "institution",
                                                         AuditDraw.status == "done").order_by(AuditDraw.id.desc()).limit(1))
        return self.render_template("audit/institutions.html", cycle=cycle, rows=rows, draw=draw)

    @expose("/institutions/<int:pk>/export")
    @has_access
    @permission_name("draw")
    def institutions_export(self, pk):
        cycle = db.session.get(AuditCycle, pk) or abort(404)
        rows = ([r["district"], r["level"], r["name"], _("全部参加") if r["reason"] == "all" else _("按配额抽取")]
                for r in _sampled_rows(cycle.id))
        record(MODULE, "导出", f"{cycle.name} 抽审单位")
        return stream_xlsx(f"抽审单位-{cycle.year}.xlsx", [_("区"), _("级别"), _("单位"), _("方式")], rows)


def _sampled_rows(cycle_id: int) -> list[dict]:
    inst = db.session.execute(
        select(AuditSampledInstitution.district_id, AuditSampledInstitution.level, AuditSampledInstitution.reason,
               Org.name, Org.id)
        .join(Org, Org.id == AuditSampledInstitution.institution_id)
        .where(AuditSampledInstitution.cycle_id == cycle_id)
        .order_by(AuditSampledInstitution.district_id, S.level_order(AuditSampledInstitution.level), Org.name)).all()
    names = _org_names(d for d, *_ in inst)
    return [{"district": names.get(d, ""), "level": lvl, "reason": reason, "name": name, "id": i}
            for d, lvl, reason, name, i in inst]


def _discard():
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.rollback()


def _cycle_window(item: AuditCycle) -> str:
    return f"{item.window_start:%Y-%m-%d} — {item.window_end:%Y-%m-%d}"


AuditCycle.window = property(_cycle_window)
AuditCycle.audit_period = property(lambda c: f"{c.audit_start:%Y-%m-%d %H:%M} — {c.audit_end:%Y-%m-%d %H:%M}")
AuditCycle.quota_text = property(lambda c: "；".join(
    f"{lvl}：{'全部' if v == 'all' else f'每区{v}家'}" for lvl, v in (c.quotas or {}).items()))


def _cycle_ops(cycle: AuditCycle) -> Markup:
    parts = [Markup('<a class="btn btn-xs btn-link" href="{}">{}</a>').format(
        url_for("AuditCycleView.institutions", pk=cycle.id), _("抽审单位"))]
    if cycle.status == "open" and not cycle.allocation_locked:
        parts.append(_csrf_form(url_for("AuditCycleView.draw", pk=cycle.id), _("抽取抽审单位"),
                                _("按配额重新抽取抽审单位？已抽取的抽审单位将被替换")))
    parts.append(Markup('<a class="btn btn-xs btn-link" href="{}">{}</a>').format(
        url_for("AuditListView.final", cycle_id=cycle.id), _("最终名单")))
    parts.append(Markup('<a class="btn btn-xs btn-link" href="{}">{}</a>').format(
        url_for("AuditAllocationView.index", cycle_id=cycle.id), _("专家分配")))
    return Markup(" ").join(parts)


AuditCycle.ops = property(_cycle_ops)


# =========================================================================== experts (AUD-2)
class FilterUsername(_TextFilter):
    """专家账号 searched by 用户名 (seed 003: "年度 用户名 负责人 [查询] [新增] [导出]")."""

    name = _l("包含")
    arg_name = "username"

    def criterion(self, value):
        from app.models import CmeUser

        return self.model.user_id.in_(select(CmeUser.id).where(CmeUser.username.contains(value)))


class AuditExpertView(ChoiceFiltersMixin, ExportMixin, ModelView):
    datamodel = SQLAInterface(AuditExpert)
    route_base = "/auditexpert"
    list_title = show_title = _l("审验专家")
    add_title = _l("新增审验专家")
    edit_title = _l("编辑审验专家")
    list_columns = ["username", "role", "name", "contact", "unit", "year", "status", "ops"]
    show_columns = ["username", "name", "contact", "unit", "year", "status", "allocated", "created_at"]
    add_columns = ["username", "password", "name", "contact", "unit", "year"]
    edit_columns = ["name", "contact", "unit"]
    search_columns = ["year", "user", "name", "contact", "unit", "status"]
    custom_filters = {"user": [FilterUsername]}
    search_form_extra_fields = {"user": StringField(_l("用户名"), render_kw=_BOX)}
    list_template = "audit/expert_list.html"
    order_columns = ["year", "name"]
    base_order = ("year", "desc")
    label_columns = {"username": _l("用户名"), "user": _l("用户名"), "role": _l("角色"), "name": _l("负责人"), "contact": _l("联系方式"),
                     "unit": _l("专家单位"), "year": _l("年度"), "status": _l("状态"), "ops": _l("操作"),
                     "password": _l("初始密码"), "allocated": _l("分配人数"), "created_at": _l("创建时间")}
    description_columns = {"password": _l("留空则自动生成，保存后只显示一次"),
                           "username": _l("已是其他年度专家的用户名可直接再次添加")}
    add_form_extra_fields = {
        "username": StringField(_l("用户名"), validators=[InputRequired()], render_kw=_BOX),
        "password": PasswordField(_l("初始密码"), validators=[Optional()], render_kw=_BOX),
    }
    export_columns = ["username", "name", "contact", "unit", "year", "status"]
    export_name = "审验专家"
    export_formatters = {"username": lambda e: e.user.username, "status": lambda e: e.status_label}

    formatters_columns = {"status": lambda v: EXPERT_STATUSES.get(v, v)}

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        form = self.add_form.refresh()
        if request.method == "POST" and form.validate():
            try:
                expert, password = A.create_expert(
                    db.session, username=form.username.data, name=form.name.data, year=form.year.data,
                    contact=form.contact.data, unit=form.unit.data, password=form.password.data or None)
                db.session.commit()
            except A.AuditAdminError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                record(MODULE, "新增专家", f"{expert.user.username}（{expert.year}年度）")
                if password:
                    return self.render_template("audit/password.html", expert=expert, password=password)
                flash(_("已添加审验专家"), "success")
                return redirect(url_for("AuditExpertView.list"))
        return self.render_template(self.add_template, title=self.add_title, widgets=self._get_add_widget(form=form))

    def pre_delete(self, item):
        with _translated(A.AuditAdminError):
            A.check_expert_deletable(db.session, item)

    def post_delete(self, item):
        if A.retire_expert_login(db.session, item.user):
            db.session.commit()

    def _expert(self, pk: int) -> AuditExpert:
        return db.session.get(AuditExpert, pk) or abort(404)

    @expose("/resetpassword/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def resetpassword(self, pk):
        """密码初始化: a new random password shown once on the next page, never again."""
        expert = self._expert(pk)
        password = A.reset_expert_password(db.session, expert)
        db.session.commit()
        record(MODULE, "密码初始化", expert.user.username)
        return self.render_template("audit/password.html", expert=expert, password=password)

    @expose("/status/<int:pk>/<status>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def status(self, pk, status):
        expert = self._expert(pk)
        try:
            A.set_expert_status(db.session, expert, status)
            db.session.commit()
        except A.AuditAdminError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            record(MODULE, "注销专家" if status == "disabled" else "启用专家", expert.user.username)
            flash(_("已更新专家状态"), "success")
        return redirect(url_for("AuditExpertView.list"))


AuditExpert.username = property(lambda e: e.user.username if e.user else "")
AuditExpert.role = property(lambda e: _("专家"))
AuditExpert.allocated = property(lambda e: A.expert_allocated_count(db.session, e.id))


def _expert_ops(e: AuditExpert) -> Markup:
    parts = [_csrf_form(url_for("AuditExpertView.resetpassword", pk=e.id), _("密码初始化"),
                        _("重置该专家的密码？新密码只显示一次"))]
    if e.status == "active":
        parts.append(_csrf_form(url_for("AuditExpertView.status", pk=e.id, status="disabled"), _("注销"),
                                _("注销后该专家不能登录审验")))
    else:
        parts.append(_csrf_form(url_for("AuditExpertView.status", pk=e.id, status="active"), _("启用")))
    return Markup(" ").join(parts)


AuditExpert.ops = property(_expert_ops)


# =========================================================================== 审验标准设置 (AUD-3)
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


def _cycle_choices():
    return [(str(c.id), c.name) for c in db.session.scalars(select(AuditCycle).where(AuditCycle.status == "open")
                                                            .order_by(AuditCycle.year.desc()))]


class AuditStandardView(_DrawJobList, ScopedModelView):
    datamodel = SQLAInterface(AuditStandard)
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
        "cycle_id": _DynamicSelect(_l("审验年度"), choices_fn=_cycle_choices, validators=[InputRequired()], render_kw=_BOX),
        "f_levels": SelectMultipleField(_l("适用单位级别"), choices=[(lvl, lvl) for lvl in INSTITUTION_LEVELS],
                                        render_kw=_BOX),
        "f_titles": _DynamicMulti(_l("适用职称"), choices_fn=_title_choices, render_kw=_BOX),
        "f_specialties": _DynamicMulti(_l("适用专业"), choices_fn=_specialty_choices, render_kw=_BOX),
        "f_units": _DynamicMulti(_l("指定单位"), choices_fn=_institution_choices, render_kw=_BOX),
        "audit_scope": SelectField(_l("审验归属"), choices=list(AUDIT_SCOPES.items()), render_kw=_BOX),
        "status": SelectField(_l("适用状态"), choices=list(STANDARD_STATUSES.items()), render_kw=_BOX),
        "per_department": IntegerField(_l("抽取人数"), default=1, validators=[InputRequired(), NumberRange(0, 9999)],
                                       render_kw=_BOX),
    }

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk, self._base_filters)
        form.cycle_id.data = str(item.cycle_id)
        form.f_levels.data = item.unit_levels or []
        form.f_titles.data = item.titles or []
        form.f_specialties.data = item.specialties or []
        form.f_units.data = [str(i) for i in item.institution_ids or []]

    formatters_columns = {"allow_repeat": lambda v: _("是") if v else _("否"),
                          "status": lambda v: STANDARD_STATUSES.get(v, v),
                          "per_department": lambda v: _("全部") if v == 0 else v}

    def _apply(self, item: AuditStandard) -> None:
        form = request.form
        values = {"cycle_id": int(form.get("cycle_id") or 0), "unit_levels": form.getlist("f_levels"),
                  "titles": form.getlist("f_titles"), "specialties": form.getlist("f_specialties"),
                  "institution_ids": [int(i) for i in form.getlist("f_units")]}
        for attr in ("f_levels", "f_titles", "f_specialties", "f_units"):
            item.__dict__.pop(attr, None)  # the form's extra fields, not columns
        with _translated(S.AuditError):
            S.prepare_standard(db.session, current_scope(), item, **values)

    def pre_add(self, item):
        self._apply(item)

    def pre_update(self, item):
        self._apply(item)

    def pre_delete(self, item):
        S.delete_standard(db.session, current_scope(), item)

    @expose("/draw/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("draw")
    @once
    def draw(self, pk):
        """抽取: a job drawing the standard's persons (the list is replaced)."""
        standard = self._scoped_get(pk)
        return _start_draw(standard.cycle, "person", standard, request.form.get("seed"),
                           url_for("AuditStandardView.list"))

    @expose("/clear/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("draw")
    def clear(self, pk):
        """清空: empty the standard's drawn list."""
        standard = self._scoped_get(pk)
        try:
            n = S.clear_standard_list(db.session, current_scope(), standard)
            db.session.commit()
        except S.AuditError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            record(MODULE, "清空名单", f"{standard.name}：{n}人")
            flash(_("已清空名单（%(n)s人）", n=n), "success")
        return redirect(url_for("AuditStandardView.list"))


AuditStandard.levels_text = property(lambda s: "、".join(s.unit_levels or []) or _("全部"))
AuditStandard.titles_text = property(lambda s: "、".join(s.titles or []) or _("全部"))
AuditStandard.specialties_text = property(lambda s: "、".join(s.specialties or []) or _("全部"))
AuditStandard.units_text = property(lambda s: "、".join(_org_names(s.institution_ids or []).values()) or _("本年度抽审单位"))


def _standard_ops(s: AuditStandard) -> Markup:
    parts = [
        Markup('<a class="btn btn-xs btn-link" href="{}">{}</a>').format(url_for("AuditStandardView.edit", pk=s.id), _("编辑")),
        _csrf_form(url_for("AuditStandardView.delete", pk=s.id), _("删除"), _("确定删除该抽取标准吗？")),
        _csrf_form(url_for("AuditStandardView.draw", pk=s.id), _("抽取"), _("开始抽取？已有名单将被新名单替换")),
        Markup('<a class="btn btn-xs btn-link" href="{}">{}</a>').format(url_for("AuditListView.standard", standard_id=s.id), _("名单")),
        _csrf_form(url_for("AuditStandardView.clear", pk=s.id), _("清空"), _("确定清空该标准的抽取名单吗？")),
    ]
    return Markup(" ").join(parts)


AuditStandard.ops = property(_standard_ops)


def _drawn_count(standard: AuditStandard) -> int:
    """Persons on a standard's list; one GROUP BY per request for every standard, not a query per row."""
    from flask import g

    if "audit_drawn_counts" not in g:
        g.audit_drawn_counts = dict(db.session.execute(
            select(AuditDrawnPerson.standard_id, func.count()).group_by(AuditDrawnPerson.standard_id)).all())
    return g.audit_drawn_counts.get(standard.id, 0)


AuditStandard.drawn = property(_drawn_count)


def _start_draw(cycle: AuditCycle, kind: str, standard: AuditStandard | None, seed_text: str | None, back: str,
                rerun_of: AuditDraw | None = None):
    from app.jobs import enqueue

    seed = None
    if seed_text not in (None, ""):
        try:
            seed = int(str(seed_text).strip())
        except ValueError:
            flash(_("随机种子必须是非负整数"), "danger")
            return redirect(back)
    try:
        draw = S.create_draw(db.session, cycle, current_user.id, kind=kind, standard=standard, seed=seed,
                             rerun_of=rerun_of)
        db.session.commit()
    except S.AuditError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(back)
    title = _("抽取抽审单位") if kind == "institution" else _("抽取名单：%(name)s", name=standard.name)
    job = enqueue("audit_draw", "app.jobs.audit:run_draw", user_id=current_user.id, title=title, draw_id=draw.id)
    S.set_draw_job(db.session, draw.id, job.id)
    db.session.commit()
    sep = "&" if "?" in back else "?"
    return redirect(f"{back}{sep}job={job.id}")


# =========================================================================== 抽取记录
class AuditDrawView(ScopedModelView):
    datamodel = SQLAInterface(AuditDraw)
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

    formatters_columns = {"kind": lambda v: DRAW_KINDS.get(v, v), "status": lambda v: _draw_status(v)}

    @expose("/rerun/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("rerun")
    def rerun(self, pk):
        """Re-run with the same seed: the same data gives the same list."""
        draw = self._scoped_get(pk)
        try:
            S.check_rerun(draw)
        except S.AuditError as exc:
            flash(_(str(exc)), "danger")
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
        return _start_draw(draw.cycle, draw.kind, standard, str(draw.seed), back, rerun_of=draw)


def _draw_status(v):
    from app.models.audit import DRAW_STATUSES

    return DRAW_STATUSES.get(v, v)


AuditDraw.params_text = property(lambda d: _params_text(d))
AuditDraw.ops = property(lambda d: _csrf_form(url_for("AuditDrawView.rerun", pk=d.id), _("按同一种子重新抽取"),
                                              _("用相同的随机种子重新抽取？现有名单将被替换")) if d.status in ("done", "cleared") else "")


def _params_text(d: AuditDraw) -> str:
    import json

    return json.dumps(d.params or {}, ensure_ascii=False, sort_keys=True)


# =========================================================================== lists (AUD-4, AUD-8)
LIST_HEADER = ["级别", "单位", "小计", "科室", "人数", "姓名", "IC卡号", "职称", "身份证号", "达标状态"]


class AuditListView(BaseView):
    route_base = "/auditlist"
    default_view = "finals"

    # ------------------------------------------------------------ helpers
    def _standard(self, standard_id: int) -> AuditStandard:
        standard = db.session.get(AuditStandard, standard_id)
        if standard is None:
            abort(404)
        try:
            S.check_standard_scope(current_scope(), standard)
        except S.AuditError:
            abort(404)
        return standard

    def _page(self, model, criterion, year: int):
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

    def _export(self, model, criterion, year: int, filename: str, what: str):
        record(MODULE, "导出", what)
        counts = S.group_counts(db.session, model, criterion)

        def rows():
            query = S.list_query(model, criterion).execution_options(yield_per=1000)
            batch = []
            for item in db.session.execute(query):
                batch.append(item)
                if len(batch) == 1000:
                    yield from _lines(batch)
                    batch = []
            yield from _lines(batch)

        def _lines(batch):
            met = S.compliance_of(db.session, [r[1].id for r in batch], year)
            for row, person, inst_name, dept_name in batch:
                state = met.get(person.id)
                yield [row.level or "", inst_name, counts["units"].get(row.institution_id, 0), dept_name or "",
                       counts["departments"].get((row.institution_id, row.department_id or 0), 0), person.name,
                       person.card_no, person.title or "", mask(person.id_number),
                       "" if state is None else ("达标" if state else "不达标")]
        return stream_xlsx(filename, LIST_HEADER, rows())

    def _render_list(self, model, criterion, year: int, **context):
        """audit/list.html for a standard's list or the final list: one page of rows and the group counts."""
        counts, lines, page, pages = self._page(model, criterion, year)
        return self.render_template("audit/list.html", counts=counts, lines=lines, page=page, pages=pages, **context)

    def _remove(self, row, remove, action: str, owner: str, done: str, back: str):
        """Take one person off a list through the service (lock and scope checks), log it, back to the list."""
        person = row.person
        try:
            remove(db.session, current_scope(), row)
            db.session.commit()
        except S.AuditError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            record(MODULE, action, f"{owner}：{person.name}（{person.card_no}）")
            flash(done, "success")
        return redirect(back)

    # ------------------------------------------------------------ a standard's list
    @expose("/standard/<int:standard_id>")
    @has_access
    @permission_name("read")
    def standard(self, standard_id):
        standard = self._standard(standard_id)
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
        standard = self._standard(standard_id)
        return self._export(AuditDrawnPerson, S.standard_list_criterion(standard.id, current_scope()), standard.year,
                            f"抽取名单-{standard.name}.xlsx", f"抽取名单 {standard.name}")

    @expose("/standard/<int:standard_id>/remove/<int:row_id>", methods=["POST"])
    @has_access
    @permission_name("write")
    def standard_remove(self, standard_id, row_id):
        standard = self._standard(standard_id)
        row = db.session.get(AuditDrawnPerson, row_id)
        if row is None or row.standard_id != standard.id:
            abort(404)
        return self._remove(row, S.remove_drawn_person, "删除名单人员", standard.name,
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
        cycle = _city_cycle(cycle_id)
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
        cycle = _city_cycle(cycle_id)
        return self._export(AuditFinalPerson, S.final_list_criterion(cycle.id, current_scope()), cycle.year,
                            f"最终抽取名单-{cycle.year}.xlsx", f"最终抽取名单 {cycle.name}")

    @expose("/final/<int:cycle_id>/merge", methods=["POST"])
    @has_access
    @permission_name("write")
    @once
    def merge(self, cycle_id):
        cycle = _city_cycle(cycle_id)
        try:
            ids = [int(i) for i in request.form.getlist("standard")]
            n = S.merge_into_final(db.session, current_scope(), cycle, ids, current_user.id)
            db.session.commit()
        except ValueError:
            abort(400)
        except S.AuditError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            record(MODULE, "合并名单", f"{cycle.name}：合并{len(ids)}个名单，新增{n}人")
            flash(_("已合并，新增%(n)s人（重复人员只保留一次）", n=n), "success")
        return redirect(url_for("AuditListView.final", cycle_id=cycle.id))

    @expose("/final/<int:cycle_id>/remove/<int:row_id>", methods=["POST"])
    @has_access
    @permission_name("write")
    def final_remove(self, cycle_id, row_id):
        cycle = _city_cycle(cycle_id)
        row = db.session.get(AuditFinalPerson, row_id)
        if row is None or row.cycle_id != cycle.id:
            abort(404)
        return self._remove(row, S.remove_final_person, "删除最终名单人员", cycle.name,
                            _("已从最终名单中删除 %(name)s", name=row.person.name),
                            url_for("AuditListView.final", cycle_id=cycle.id))


# =========================================================================== 专家分配 (AUD-5)
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
        cycle = _city_cycle(cycle_id)
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
        cycle = _city_cycle(cycle_id)
        expert = self._expert(cycle, expert_id)
        if request.method == "POST":
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
            try:
                n = A.allocate(db.session, cycle, expert.id, units=units, departments=departments,
                               operator_id=current_user.id)
                db.session.commit()
            except A.AuditAdminError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                record(MODULE, "分配学员", f"{cycle.name}：{expert.name} 分配{n}人")
                flash(_("已分配%(n)s名学员给%(name)s", n=n, name=expert.name), "success")
                return redirect(url_for("AuditAllocationView.index", cycle_id=cycle.id))
        unit_name, dept_name = request.args.get("unit", "").strip(), request.args.get("dept", "").strip()
        tree = A.unallocated_tree(db.session, cycle, unit_name, dept_name)
        return self.render_template("audit/assign.html", cycle=cycle, expert=expert, tree=tree,
                                    remaining_units=len(tree), remaining_persons=sum(u["count"] for u in tree),
                                    unit=unit_name, dept=dept_name)

    @expose("/<int:cycle_id>/clear/<int:expert_id>", methods=["POST"])
    @has_access
    @permission_name("write")
    def clear(self, cycle_id, expert_id):
        cycle = _city_cycle(cycle_id)
        expert = self._expert(cycle, expert_id)
        try:
            n = A.clear_allocation(db.session, cycle, expert.id)
            db.session.commit()
        except A.AuditAdminError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            record(MODULE, "清空分配", f"{cycle.name}：{expert.name} {n}人")
            flash(_("已清空%(name)s的分配（%(n)s人）", name=expert.name, n=n), "success")
        return redirect(url_for("AuditAllocationView.index", cycle_id=cycle.id))

    @expose("/<int:cycle_id>/lock", methods=["POST"])
    @has_access
    @permission_name("write")
    def lock(self, cycle_id):
        cycle = _city_cycle(cycle_id)
        try:
            A.lock_allocation(db.session, cycle, current_user.id)
            db.session.commit()
        except A.AuditAdminError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            record(MODULE, "锁定分配", cycle.name)
            flash(_("分配结果已锁定"), "success")
        return redirect(url_for("AuditAllocationView.index", cycle_id=cycle.id))

    def _result_query(self, cycle: AuditCycle, expert_id: int | None):
        from sqlalchemy.orm import aliased

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

    @expose("/<int:cycle_id>/result")
    @has_access
    @permission_name("read")
    def result(self, cycle_id):
        """分配结果查询 (all experts, or one with ?expert=)."""
        cycle = _city_cycle(cycle_id)
        expert_id = request.args.get("expert", type=int)
        expert = self._expert(cycle, expert_id) if expert_id else None
        page = max(0, request.args.get("page", 0, type=int))
        total = db.session.scalar(select(func.count()).select_from(self._result_query(cycle, expert_id).subquery()))
        rows = db.session.execute(self._result_query(cycle, expert_id).offset(page * PAGE_SIZE).limit(PAGE_SIZE)).all()
        return self.render_template("audit/result.html", cycle=cycle, expert=expert, rows=rows, total=total, page=page,
                                    pages=(total + PAGE_SIZE - 1) // PAGE_SIZE, mask=mask)

    @expose("/<int:cycle_id>/export")
    @has_access
    @permission_name("read")
    def export(self, cycle_id):
        cycle = _city_cycle(cycle_id)
        expert_id = request.args.get("expert", type=int)
        if expert_id:
            self._expert(cycle, expert_id)
        query = self._result_query(cycle, expert_id).execution_options(yield_per=1000)

        def rows():
            for alloc, person, expert_name, inst_name, dept_name, level in db.session.execute(query):
                yield [expert_name, level or "", inst_name, dept_name or "", person.name, person.card_no,
                       person.title or "", mask(person.id_number), alloc.allocated_at]
        record(MODULE, "导出", f"专家分配 {cycle.name}")
        return stream_xlsx(f"专家分配-{cycle.year}.xlsx",
                           ["专家", "级别", "单位", "科室", "姓名", "IC卡号", "职称", "身份证号", "分配时间"], rows())


def register(appbuilder) -> None:
    cat = "学分审验"
    appbuilder.add_view(AuditCycleView, "审验时间设置", label=_l("审验时间设置"), icon="fa-calendar", category=cat,
                        category_label=_l("学分审验"), category_icon="fa-stamp")
    appbuilder.add_view(AuditExpertView, "审验专家", label=_l("审验专家"), icon="fa-user-tie", category=cat)
    appbuilder.add_view(AuditStandardView, "审验标准设置", label=_l("审验标准设置"), icon="fa-filter", category=cat)
    appbuilder.add_view(AuditDrawView, "抽取记录", label=_l("抽取记录"), icon="fa-dice", category=cat)
    appbuilder.add_view(AuditListView, "筛选名单", label=_l("筛选名单"), icon="fa-list", category=cat)
    appbuilder.add_view(AuditAllocationView, "专家分配", label=_l("专家分配"), icon="fa-people-arrows", category=cat)

