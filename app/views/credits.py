"""学分管理 (ICME-9, ICME-10): the credit records and the stored compliance results, scoped lists with
Excel export. The transcript is in views/transcript.py, the REST API in views/credits_api.py, the list
widgets these screens share in views/widgets.py.

Every list, detail and export goes through the user's data scope; rows outside it answer 404. Entering
credits comes with the wizard (issue 4): here the city admin alone may correct or delete a record, and
the session hook (services/credit_records.py) keeps the person's stored result current.
"""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired

from app.extensions import db
from app.models import CmeUser, ComplianceResult, Credit, Job, Person, RuleSet
from app.models.credits import CREDIT_SOURCES, CREDIT_STATUSES
from app.models.people import TITLE_LEVELS
from app.services import credit_records, rule_sets
from app.services.rule_sets import ACTIVITY_TYPES
from app.views.base import InputError, ScopedModelView, current_scope
from app.views.pickers import person_ajax_field
from app.views.scale import CappedInterface, prime_org_names
from app.views.submit import once
from app.views.widgets import (
    BOX,
    ChoiceFiltersMixin,
    FilterChoice,
    FilterMet,
    FilterOnOrAfter,
    FilterOnOrBefore,
    FilterOrgName,
    FilterPerson,
    choices,
    excel_number,
    fmt_time,
    number,
    org_namer,
    transcript_link,
)

MODULE = "学分管理"

# Seed 003 审验 detail table: 学分大类 项目编号 活动内容 授分时间 学分类别 学科 学分 学时 备注 授分单位 上传时间 学分来源.
SEED_COLUMNS = ["activity_type", "project_no", "content", "granted_on", "category", "subject", "credits", "hours",
                "remark", "grantor_name", "uploaded_at", "source"]
CREDIT_LABELS = {
    "person": _l("学员"), "person_name": _l("姓名"), "card_no": _l("IC卡号"),
    "activity_type": _l("学分大类"), "project_no": _l("项目编号"), "content": _l("活动内容"),
    "granted_on": _l("授分时间"), "category": _l("学分类别"), "subject": _l("学科"), "credits": _l("学分"),
    "hours": _l("学时"), "remark": _l("备注"), "grantor_name": _l("授分单位"), "uploaded_at": _l("上传时间"),
    "source": _l("学分来源"), "status": _l("审核状态"), "credit_class": _l("Ⅰ/Ⅱ类"), "months": _l("月数"),
    "amount": _l("录入数量"), "standard": _l("授分标准"), "rule_set": _l("规则集"), "certificate_no": _l("证书编号"),
}
RESULT_LABELS = {
    "year": _l("年度"), "person": _l("人员"), "person_name": _l("姓名"), "card_no": _l("IC卡号"),
    "institution_id": _l("单位"), "department_id": _l("科室"), "title_level": _l("职称级别"),
    "total": _l("已获学分"), "required": _l("要求学分"), "met": _l("达标"), "class1": _l("Ⅰ类学分"),
    "class2": _l("Ⅱ类学分"), "full_year": _l("视为完成当年学分"), "rule_set_id": _l("规则集"),
    "computed_at": _l("计算时间"),
}


def _category_choices() -> list[tuple[str, str]]:
    return choices({c: c for c in credit_records.categories(db.session)})


# Rows a list counts exactly; past it the credit list says "more than" and pages up to it.
COUNT_CAP = 10_000


class CappedCount(CappedInterface):
    """The credit and compliance lists at city scale (10 million credits): the count behind the pager
    stops at COUNT_CAP — a LIMITed walk of an index instead of counting millions of rows on every page
    view — and so do the pages (a deeper page number shows the last one, with the note). Each row's
    person is loaded by one ``IN`` query of the page's persons after the page is chosen (not joined to
    the 10,000 rows an OFFSET skips)."""

    load_after = ("person",)

    def cap(self) -> int:
        return COUNT_CAP


class ComplianceInterface(CappedCount):
    """The compliance list: also the page's institution and department names, in one query."""

    def query(self, *args, **kwargs):
        count, rows = super().query(*args, **kwargs)
        prime_org_names(self.session, rows, ("institution_id", "department_id"))
        return count, rows


# ------------------------------------------------------------------------------ 学分记录
class CreditYearFilter(BaseFilter):
    """学分年度 (issue 15.2): ``?year=2025`` keeps the credits granted inside that credit year's window, as
    the rule set judging it draws it (11-01 … 10-31 in Beijing); FAB's page and order links keep the
    argument, and the export applies it too (a base filter)."""

    name = "credit_year"

    def apply(self, query, value):
        year = request.args.get("year", type=int)
        if not year or not 2000 <= year <= 2100:
            return query
        start, end = rule_sets.year_window(db.session, rule_sets.region(db.session), year)
        return query.filter(Credit.granted_on >= start, Credit.granted_on <= end)


class CreditView(ChoiceFiltersMixin, ScopedModelView):
    datamodel = CappedCount(Credit)
    base_filters = ScopedModelView.base_filters + [["granted_on", CreditYearFilter, lambda: None]]
    route_base = "/credits"
    list_title = _l("学分记录")
    show_title = _l("学分详情")
    edit_title = _l("修改学分记录")
    label_columns = CREDIT_LABELS
    list_columns = ["person"] + SEED_COLUMNS + ["status"]
    show_columns = (["person"] + SEED_COLUMNS[:5] + ["credit_class"] + SEED_COLUMNS[5:8] + ["months", "amount"]
                    + SEED_COLUMNS[8:] + ["status", "standard", "rule_set", "certificate_no"])
    # Read-only for everyone but the city admin, who may correct a record (never its status: that
    # is the review workflow's) or delete it. Entry comes with the wizard.
    edit_columns = ["person", "activity_type", "project_no", "content", "granted_on", "category", "credit_class",
                    "subject", "credits", "hours", "months", "remark", "grantor_name", "certificate_no"]
    base_permissions = ["can_list", "can_show", "can_edit", "can_delete", "can_export"]
    search_columns = ["person", "status", "granted_on", "institution_id", "department_id", "source", "category",
                      "project_no", "content", "activity_type", "subject"]
    custom_filters = {"granted_on": [FilterOnOrAfter, FilterOnOrBefore], "source": [FilterChoice],
                      "status": [FilterChoice], "activity_type": [FilterChoice], "category": [FilterChoice],
                      "person": [FilterPerson], "institution_id": [FilterOrgName], "department_id": [FilterOrgName]}
    search_form_extra_fields = {
        "source": SelectField(_l("学分来源"), choices=choices(CREDIT_SOURCES), render_kw=BOX),
        "status": SelectField(_l("审核状态"), choices=choices(CREDIT_STATUSES), render_kw=BOX),
        "activity_type": SelectField(_l("学分大类"), choices=choices({t: t for t in ACTIVITY_TYPES}), render_kw=BOX),
        # An exact category from a list (indexed with the scope and date), not a typed prefix.
        "category": SelectField(_l("学分类别"), choices=_category_choices, render_kw=BOX),
        "person": StringField(_l("学员"), render_kw=BOX),
        "institution_id": StringField(_l("单位"), render_kw=BOX),
        "department_id": StringField(_l("科室"), render_kw=BOX),
    }
    edit_form_extra_fields = {"person": person_ajax_field(_l("学员"), [InputRequired()])}
    order_columns = ["granted_on", "credits", "uploaded_at", "category", "project_no"]
    base_order = ("granted_on", "desc")
    export_columns = ["person_name", "card_no"] + SEED_COLUMNS + ["status"]
    export_name = "学分记录"
    list_template = "credits/credit_list.html"

    @property
    def formatters_columns(self):
        return {"person": transcript_link, "source": lambda v: CREDIT_SOURCES.get(v, v),
                "status": lambda v: CREDIT_STATUSES.get(v, v), "credits": number, "hours": number,
                "months": number, "amount": number, "uploaded_at": fmt_time}

    @formatters_columns.setter
    def formatters_columns(self, value):
        pass  # computed per request

    # Export rows are plain column tuples (export_query), not Credit objects.
    export_formatters = {
        "source": lambda c: CREDIT_SOURCES.get(c.source, c.source),
        "status": lambda c: CREDIT_STATUSES.get(c.status, c.status),
        "credits": lambda c: excel_number(c.credits), "hours": lambda c: excel_number(c.hours),
        "uploaded_at": lambda c: c.uploaded_at.strftime("%Y-%m-%d %H:%M:%S") if c.uploaded_at else "",  # paper: exact
    }

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["count_cap"] = COUNT_CAP
            kwargs["credit_years"] = rule_sets.judged_years(db.session, rule_sets.region(db.session))
            kwargs["credit_year"] = request.args.get("year", type=int)
        return super().render_template(template, **kwargs)

    def export_query(self):
        """The list's rows as the user filtered them (scope included), newest first, as plain
        column tuples — person name and card joined in, no ORM objects: 100,000 rows stream at
        about the speed of a bare XlsxWriter write (bench/bench_credits.py)."""
        from flask_appbuilder.urltools import get_filter_args

        get_filter_args(self._filters)
        joined = self._filters.get_joined_filters(self._base_filters)
        query = SQLAInterface.apply_all(self.datamodel, self.datamodel.session.query(Credit), joined)
        columns = [getattr(Credit, c) for c in SEED_COLUMNS + ["status"]]
        return (query.join(Person, Person.id == Credit.person_id)
                .with_entities(Person.name.label("person_name"), Person.card_no.label("card_no"), *columns)
                .order_by(Credit.granted_on.desc(), Credit.id.desc()))

    def pre_update(self, item: Credit) -> None:
        """A corrected person moves the record to that person's place (district, institution, department)."""
        person = item.person
        if person is None:
            raise InputError(_("请选择学员"))
        if not current_scope().allows(person):
            raise InputError(_("所选学员不存在或不在您的管辖范围内"))
        item.district_id, item.institution_id, item.department_id = (
            person.district_id, person.institution_id, person.department_id)


# ------------------------------------------------------------------------------ 达标结果
class ComplianceResultView(ChoiceFiltersMixin, ScopedModelView):
    datamodel = ComplianceInterface(ComplianceResult)
    route_base = "/compliance"
    list_title = _l("达标结果")
    show_title = _l("达标结果详情")
    label_columns = RESULT_LABELS
    list_columns = ["year", "person", "institution_id", "department_id", "title_level", "total", "required", "met"]
    show_columns = ["year", "person", "institution_id", "department_id", "title_level", "total", "required", "class1",
                    "class2", "full_year", "met", "rule_set_id", "computed_at"]
    base_permissions = ["can_list", "can_show", "can_export", "can_recompute"]
    search_columns = ["year", "met", "title_level", "person", "institution_id", "department_id"]
    custom_filters = {"met": [FilterMet], "title_level": [FilterChoice], "person": [FilterPerson],
                      "institution_id": [FilterOrgName], "department_id": [FilterOrgName]}
    search_form_extra_fields = {
        "met": SelectField(_l("达标"), choices=[("", ""), ("1", _l("达标")), ("0", _l("不达标"))], render_kw=BOX),
        "title_level": SelectField(_l("职称级别"), choices=[("", "")] + [(t, t) for t in TITLE_LEVELS],
                                   render_kw=BOX),
        "person": StringField(_l("人员"), render_kw=BOX),
        "institution_id": StringField(_l("单位"), render_kw=BOX),
        "department_id": StringField(_l("科室"), render_kw=BOX),
    }
    order_columns = ["year", "total", "met", "title_level"]
    base_order = ("year", "desc")
    export_columns = ["year", "person_name", "card_no", "institution_id", "department_id", "title_level", "total",
                      "required", "met"]
    export_name = "达标结果"
    list_template = "credits/compliance_list.html"

    @property
    def formatters_columns(self):
        org = org_namer()
        return {"person": transcript_link, "institution_id": org, "department_id": org, "total": number,
                "required": number, "class1": number, "class2": number, "met": _met,
                "full_year": lambda v: _("是") if v else _("否"), "computed_at": fmt_time,
                "rule_set_id": lambda v: db.session.scalar(select(RuleSet.name).where(RuleSet.id == v)) or ""}

    @formatters_columns.setter
    def formatters_columns(self, value):
        pass  # computed per request

    @property
    def export_formatters(self):
        org = org_namer()
        return {"person_name": lambda r: r.person.name, "card_no": lambda r: r.person.card_no,
                "institution_id": lambda r: org(r.institution_id), "department_id": lambda r: org(r.department_id),
                "total": lambda r: excel_number(r.total), "required": lambda r: excel_number(r.required),
                "met": lambda r: _("达标") if r.met else _("不达标")}

    def export_query(self):
        return super().export_query().order_by(ComplianceResult.year.desc(), ComplianceResult.id)

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs.update(self._recompute_context())
            kwargs["count_cap"] = COUNT_CAP
        return super().render_template(template, **kwargs)

    def _recompute_context(self) -> dict[str, Any]:
        region = credit_records.region(db.session)
        job = None
        job_id = request.args.get("job")
        if job_id:
            job = db.session.get(Job, job_id)
            if job is None or job.user_id != current_user.id or job.kind != "compliance_recompute":
                job = None
        return {"recompute_years": credit_records.years(db.session, region),
                "recompute_default": credit_records.default_year(db.session, region), "region": region,
                "job": job}

    @expose("/recompute/", methods=["POST"])
    @has_access
    @permission_name("recompute")
    @once
    def recompute(self):
        """Start the 达标计算 job for the user's whole scope and come back to the list with its progress bar."""
        from app.jobs import AlreadyActive, enqueue

        try:
            year = int(request.form.get("year", ""))
        except ValueError:
            abort(400)
        if year not in credit_records.years(db.session, credit_records.region(db.session)):
            abort(400)
        scope = current_scope()
        try:
            job = enqueue("compliance_recompute", "app.jobs.compliance:recompute_year", user_id=current_user.id,
                          title=_("%(year)s年度达标计算", year=year), year=year,
                          dedupe_key=f"compliance_recompute:{scope.level}:{scope.org_id or ''}:{year}")
        except AlreadyActive as exc:
            job = exc.job
            if job.user_id != current_user.id:
                starter = db.session.get(CmeUser, job.user_id)
                flash(_("%(who)s已于%(when)s发起本范围%(year)s年度的达标计算，正在进行中，完成后结果自动更新，无需重复发起",
                        who=starter.display_name if starter else "", when=job.created_at.strftime("%H:%M"),
                        year=year), "info")
                return redirect(url_for("ComplianceResultView.list"))
            flash(_("本范围%(year)s年度的达标计算已在进行中，以下为其进度", year=year), "info")
        return redirect(url_for("ComplianceResultView.list", job=job.id))


def _met(value: bool) -> Markup:
    if value:
        return Markup(f'<span class="label label-success">{escape(_("达标"))}</span>')
    return Markup(f'<span class="label label-danger">{escape(_("不达标"))}</span>')

