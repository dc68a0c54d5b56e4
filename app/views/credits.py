"""学分管理 (ICME-9, ICME-10): credit records, stored compliance results, a person's transcript, and
the REST API (credit computation for the wizard, a person's explained compliance, credits).

Every list, detail, export, API call and transcript goes through the user's data scope; rows outside
it answer 404. Entering credits comes with the wizard (issue 4): here the city admin alone may
correct or delete a record, and the session hook (services/credit_records.py) keeps the person's
stored result current.
"""
from __future__ import annotations

import datetime
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from marshmallow import Schema, fields
from sqlalchemy import or_, select, true
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired

from app.extensions import db
from app.models import (
    ComplianceResult,
    Credit,
    CreditStandard,
    Job,
    Org,
    Person,
    RuleSet,
)
from app.models.credits import CREDIT_SOURCES, CREDIT_STATUSES
from app.models.people import TITLE_LEVELS
from app.services import credit_records
from app.services.credit_rules import RuleError, compute_standard
from app.services.roles import CITY_ADMIN
from app.services.rule_sets import ACTIVITY_TYPES
from app.views.base import (
    BrowserCsrfMixin,
    InputError,
    ScopedModelView,
    ScopedRestApi,
    current_scope,
    role_names,
)
from app.views.pickers import person_ajax_field, resolve_person
from app.views.scale import CappedInterface, org_cache, prime_org_names
from app.views.submit import once

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


# ------------------------------------------------------------------------------ formatting
def number(value: Any) -> str:
    """2.00 → "2", 0.50 → "0.5", None → ""."""
    if value is None:
        return ""
    value = Decimal(str(value))
    return format(value.normalize(), "f") if value != 0 else "0"


def _excel_number(value: Any) -> Any:
    return float(value) if value is not None else ""


def _time(value: datetime.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def org_namer() -> Callable[[int | None], str]:
    """A name lookup for organization ids, caching each id once per request; a list page primes the
    cache with its rows' organizations in one query (scale.prime_org_names), so none is looked up alone."""
    cache = org_cache()

    def name(org_id: int | None) -> str:
        if org_id is None:
            return ""
        if org_id not in cache:
            cache[org_id] = db.session.scalar(select(Org.name).where(Org.id == org_id)) or ""
        return cache[org_id]
    return name


def transcript_link(person: Person | None, year: int | None = None) -> Markup | str:
    if person is None:
        return ""
    args = {"person_id": person.id}
    if year:
        args["year"] = year
    return Markup('<a href="{}">{}</a>').format(url_for("TranscriptView.person", **args), str(person))


# ------------------------------------------------------------------------------ search filters
def _parse_date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


class _DateFilter(BaseFilter):
    compare: Callable[[Any, datetime.date], Any]

    def apply(self, query, value):
        day = _parse_date(value)
        return query if day is None else query.filter(type(self).compare(getattr(self.model, self.column_name), day))


class FilterOnOrAfter(_DateFilter):
    name = _l("不早于")
    arg_name = "ge"
    compare = operator.ge


class FilterOnOrBefore(_DateFilter):
    name = _l("不晚于")
    arg_name = "le"
    compare = operator.le


class _TextFilter(BaseFilter):
    """A filter on a typed or chosen value: ``criterion(value)`` when one is given, no filter otherwise."""

    def criterion(self, value: str):
        raise NotImplementedError

    def apply(self, query, value):
        value = (value or "").strip()
        return query.filter(self.criterion(value)) if value else query


class FilterChoice(_TextFilter):
    name = _l("等于")
    arg_name = "eq"

    def criterion(self, value):
        return getattr(self.model, self.column_name) == value


class FilterMet(_TextFilter):
    name = _l("等于")
    arg_name = "eq"

    def criterion(self, value):
        return getattr(self.model, self.column_name).is_(value == "1") if value in ("0", "1") else true()


class FilterPerson(_TextFilter):
    """The person link searched by name, IC card number or pinyin initials (no <select> of persons)."""

    name = _l("姓名/卡号/拼音首字母")
    arg_name = "person"

    def criterion(self, value):
        return self.model.person_id.in_(select(Person.id).where(or_(
            Person.name.like(f"{value}%"), Person.card_no.like(f"{value}%"),
            Person.name_initials.like(f"{value.lower()}%"))))


class FilterOrgName(_TextFilter):
    name = _l("名称包含")
    arg_name = "org"

    def criterion(self, value):
        return getattr(self.model, self.column_name).in_(select(Org.id).where(Org.name.like(f"%{value}%")))


_BOX = {"class": "form-control"}


def _choices(mapping: dict[str, str]) -> list[tuple[str, str]]:
    return [("", "")] + list(mapping.items())


def _category_choices() -> list[tuple[str, str]]:
    return _choices({c: c for c in credit_records.categories(db.session)})


class ChoiceFiltersMixin:
    """Replace FAB's generated filters of some columns (``custom_filters``: column → filter classes);
    the search form shows ``search_form_extra_fields`` for them (text boxes, short selects)."""

    custom_filters: dict[str, list[type[BaseFilter]]] = {}

    def _init_properties(self):
        super()._init_properties()
        for column, classes in self.custom_filters.items():
            instances = [cls(column, self.datamodel) for cls in classes]
            # FAB reads the operator list from one dict and the applied filter from the other.
            self._filters._search_filters[column] = instances
            self._filters._all_filters[column] = instances


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
class CreditView(ChoiceFiltersMixin, ScopedModelView):
    datamodel = CappedCount(Credit)
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
    search_columns = ["granted_on", "source", "status", "category", "project_no", "content", "activity_type",
                      "subject", "person"]
    custom_filters = {"granted_on": [FilterOnOrAfter, FilterOnOrBefore], "source": [FilterChoice],
                      "status": [FilterChoice], "activity_type": [FilterChoice], "category": [FilterChoice],
                      "person": [FilterPerson]}
    search_form_extra_fields = {
        "source": SelectField(_l("学分来源"), choices=_choices(CREDIT_SOURCES), render_kw=_BOX),
        "status": SelectField(_l("审核状态"), choices=_choices(CREDIT_STATUSES), render_kw=_BOX),
        "activity_type": SelectField(_l("学分大类"), choices=_choices({t: t for t in ACTIVITY_TYPES}), render_kw=_BOX),
        # An exact category from a list (indexed with the scope and date), not a typed prefix.
        "category": SelectField(_l("学分类别"), choices=_category_choices, render_kw=_BOX),
        "person": StringField(_l("学员"), render_kw=_BOX),
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
                "months": number, "amount": number, "uploaded_at": _time}

    @formatters_columns.setter
    def formatters_columns(self, value):
        pass  # computed per request

    # Export rows are plain column tuples (export_query), not Credit objects.
    export_formatters = {
        "source": lambda c: CREDIT_SOURCES.get(c.source, c.source),
        "status": lambda c: CREDIT_STATUSES.get(c.status, c.status),
        "credits": lambda c: _excel_number(c.credits), "hours": lambda c: _excel_number(c.hours),
        "uploaded_at": lambda c: _time(c.uploaded_at),
    }

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["count_cap"] = COUNT_CAP
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
        "met": SelectField(_l("达标"), choices=[("", ""), ("1", _l("达标")), ("0", _l("不达标"))], render_kw=_BOX),
        "title_level": SelectField(_l("职称级别"), choices=[("", "")] + [(t, t) for t in TITLE_LEVELS],
                                   render_kw=_BOX),
        "person": StringField(_l("人员"), render_kw=_BOX),
        "institution_id": StringField(_l("单位"), render_kw=_BOX),
        "department_id": StringField(_l("科室"), render_kw=_BOX),
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
                "full_year": lambda v: _("是") if v else _("否"), "computed_at": _time,
                "rule_set_id": lambda v: db.session.scalar(select(RuleSet.name).where(RuleSet.id == v)) or ""}

    @formatters_columns.setter
    def formatters_columns(self, value):
        pass  # computed per request

    @property
    def export_formatters(self):
        org = org_namer()
        return {"person_name": lambda r: r.person.name, "card_no": lambda r: r.person.card_no,
                "institution_id": lambda r: org(r.institution_id), "department_id": lambda r: org(r.department_id),
                "total": lambda r: _excel_number(r.total), "required": lambda r: _excel_number(r.required),
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
        from app.jobs import enqueue

        try:
            year = int(request.form.get("year", ""))
        except ValueError:
            abort(400)
        if year not in credit_records.years(db.session, credit_records.region(db.session)):
            abort(400)
        job = enqueue("compliance_recompute", "app.jobs.compliance:recompute_year", user_id=current_user.id,
                      title=_("%(year)s年度达标计算", year=year), year=year)
        return redirect(url_for("ComplianceResultView.list", job=job.id))


def _met(value: bool) -> Markup:
    if value:
        return Markup('<span class="label label-success">{}</span>').format(_("达标"))
    return Markup('<span class="label label-danger">{}</span>').format(_("不达标"))


# ------------------------------------------------------------------------------ 学分档案
class PersonListWidget(ListWidget):
    """The person list with a 学分档案 link on each row (PersonView.list_widget)."""

    template = "credits/_person_list_widget.html"

    def __call__(self, **kwargs):
        kwargs["transcript"] = current_app.appbuilder.sm.has_access("can_read", "TranscriptView")
        return super().__call__(**kwargs)


PERSON_SHOW_TEMPLATE = "credits/person_show.html"  # the person's detail page with a 学分档案 button


class TranscriptView(BaseView):
    """A person's credit year: header, the year's credits and the explained compliance."""

    route_base = "/transcript"
    default_view = "me"

    def _render(self, person: Person | None):
        region = credit_records.region(db.session)
        choices = credit_records.years(db.session, region)
        year = request.args.get("year", type=int) or credit_records.default_year(db.session, region)
        if person is None or year is None:
            return self.render_template("credits/transcript.html", person=person, data=None, years=choices,
                                        year=year, region=region, title=_("学分档案"))
        data = credit_records.transcript(db.session, person, year, region)
        lines = {ln.credit_id: ln for ln in data.evaluation.lines} if data.evaluation else {}
        return self.render_template("credits/transcript.html", person=person, data=data, lines=lines,
                                    years=sorted(set(choices) | {year}, reverse=True), year=year, region=region,
                                    number=number, sources=CREDIT_SOURCES, statuses=CREDIT_STATUSES,
                                    title=_("学分档案"))

    @expose("/<int:person_id>")
    @has_access
    @permission_name("read")
    def person(self, person_id):
        person = resolve_person(person_id)  # scoped: another institution's person is 404
        if person is None:
            abort(404)
        return self._render(person)

    @expose("/me")
    @has_access
    @permission_name("me")
    def me(self):
        person = resolve_person(current_user.person_id) if current_user.person_id else None
        return self._render(person)


# ------------------------------------------------------------------------------ REST API
def _acting_user():
    return current_app.appbuilder.sm.current_user


class ComputeRequestSchema(Schema):
    standard_id = fields.Integer(required=True, metadata={"description": "授分标准 id"})
    amount = fields.Raw(metadata={"type": "number", "description": "实际学时 / 月数 / 次数 / 课程数（按标准的计量单位）"})
    hours = fields.Raw(metadata={"type": "number", "description": "单次学时（按次计分的标准）"})
    sessions = fields.Raw(metadata={"type": "integer", "description": "次数（按次计分的标准，默认1）"})
    row = fields.String(metadata={"description": "二维表的行（期刊类别、立项级别）"})
    col = fields.Raw(metadata={"type": "integer", "description": "二维表的列序号（作者 / 完成人排序，从1开始）"})
    project_credits = fields.Raw(metadata={"type": "number", "description": "项目学分（项目导入；主讲人不超过它）"})
    credits = fields.Raw(metadata={"type": "number", "description": "录入的学分（录入学分的标准）"})
    allowed_value = fields.String(metadata={"description": "认可目录中的来源（如杂志名称）"})
    person_id = fields.Integer(metadata={"description": "学员 id：其机构的级别和类型用于适用范围检查"})


class ComputeResponseSchema(Schema):
    credits = fields.Float(metadata={"description": "授予的学分"})
    grantable = fields.Boolean(metadata={"description": "是否可授分（学分大于0）"})
    explanation = fields.String(metadata={"description": "计算说明，如“7小时，每3小时1分，计2个完整单位，得2分”"})
    credit_class = fields.String(allow_none=True, metadata={"description": "Ⅰ类 / Ⅱ类"})
    capped_by = fields.String(allow_none=True, metadata={"description": "封顶原因（上限、主讲人不超过项目学分）"})
    hours = fields.Float(allow_none=True)
    months = fields.Float(allow_none=True)
    standard = fields.Dict(metadata={"description": "所用授分标准（id、序号、名称、授分规则）"})


class ComplianceResponseSchema(Schema):
    year = fields.Integer()
    window = fields.List(fields.String(), metadata={"description": "学分年度起止"})
    required = fields.Float()
    total = fields.Float()
    met = fields.Boolean()
    full_year = fields.String(allow_none=True)
    summary = fields.String(metadata={"description": "如“不达标：还差3学分（要求25学分，已获22学分）”"})
    missing = fields.List(fields.String())
    by_category = fields.Dict(keys=fields.String(), values=fields.Float())
    by_class = fields.Dict(keys=fields.String(), values=fields.Float())
    credits = fields.List(fields.Dict(), metadata={"description": "每条学分：计入学分与说明（计入、封顶、未计入的原因）"})
    person = fields.Dict()
    rule_set = fields.Dict()


INPUT_KEYS = ("amount", "hours", "sessions", "row", "col", "project_credits", "credits", "allowed_value")


class CreditRulesApi(BrowserCsrfMixin, BaseApi):
    """The credit rules engine as JSON (the wizard's live "故授予 X 学分")."""

    resource_name = "credit_rules"
    allow_browser_login = True
    openapi_spec_tag = "Credit rules"
    openapi_spec_component_schemas = (ComputeRequestSchema, ComputeResponseSchema)

    @expose("/compute", methods=["POST"])
    @protect()
    @safe
    @permission_name("compute")
    def compute(self):
        """Compute the credits of one grant with a credit standard.
        ---
        post:
          summary: 按授分标准计算学分（不保存）
          description: >-
            Interprets the standard (per full unit, fixed, per session, table, imported, entered) with
            its caps; a lecturer never gets more than the project's credits. Eligibility by institution
            level / type uses the person's institution (person_id, inside the caller's scope), else
            the caller's own institution.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  $ref: '#/components/schemas/ComputeRequestSchema'
          responses:
            200:
              description: 计算结果
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ComputeResponseSchema'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message=_("请求内容必须是JSON对象"))
        errors = ComputeRequestSchema().validate(body)
        if errors:
            field = next(iter(errors))
            label = {"standard_id": _("授分标准"), "person_id": _("学员")}.get(field, field)
            return self.response_422(message=_("%(field)s填写有误", field=label))
        standard = db.session.get(CreditStandard, int(body["standard_id"]))
        if standard is None or (standard.rule_set.status != "published" and CITY_ADMIN not in role_names()):
            return self.response(404, message=_("授分标准不存在"))
        inputs = {key: body[key] for key in INPUT_KEYS if key in body}
        institution = self._institution(body.get("person_id"))
        if institution is False:
            return self.response(404, message=_("学员不存在或不在您的管辖范围内"))
        if institution is not None:
            inputs.update(institution_level=institution.level, institution_type=institution.inst_type)
        try:
            result = compute_standard(standard, inputs)
        except RuleError as exc:
            return self.response_422(message=str(exc))
        out = result.as_dict()
        out["standard"] = {"id": standard.id, "seq": standard.seq, "name": standard.name,
                           "rule_text": standard.rule_text, "category": standard.category}
        return self.response(200, **out)

    @staticmethod
    def _institution(person_id: Any) -> Org | None | bool:
        """The institution whose level / type decides eligibility; False for a person out of scope."""
        if person_id is not None:
            person = resolve_person(person_id)
            return False if person is None else person.institution
        user = _acting_user()
        if getattr(user, "person_id", None):
            person = db.session.get(Person, user.person_id)
            return person.institution if person else None
        org = getattr(user, "org", None)
        if org is not None and org.institution_id:
            return db.session.get(Org, org.institution_id)
        return None


class ComplianceApi(BaseApi):
    """A person's compliance for a credit year, explained (the transcript as JSON)."""

    resource_name = "compliance"
    allow_browser_login = True
    openapi_spec_tag = "Compliance"
    openapi_spec_component_schemas = (ComplianceResponseSchema,)

    @expose("/<int:person_id>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def get(self, person_id):
        """A person's explained compliance for a year.
        ---
        get:
          summary: 学员某年度的达标情况及说明
          parameters:
          - in: path
            name: person_id
            required: true
            schema:
              type: integer
          - in: query
            name: year
            required: false
            description: 学分年度（默认当前年度）
            schema:
              type: integer
          responses:
            200:
              description: 达标情况（计入、封顶、未计入的学分及原因，各类别合计，还差多少学分）
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/ComplianceResponseSchema'
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            404:
              $ref: '#/components/responses/404'
            422:
              $ref: '#/components/responses/422'
        """
        person = resolve_person(person_id)
        if person is None:
            return self.response(404, message=_("学员不存在或不在您的管辖范围内"))
        region = credit_records.region(db.session)
        raw = request.args.get("year")
        if raw:
            try:
                year = int(raw)
            except ValueError:
                return self.response_400(message=_("年度必须是整数"))
        else:
            year = credit_records.default_year(db.session, region)
        data = credit_records.transcript(db.session, person, year, region) if year else None
        if data is None or data.evaluation is None:
            return self.response_422(message=_("%(region)s没有适用于%(year)s年度的已发布规则集", region=region,
                                               year=year or ""))
        out = data.evaluation.as_dict()
        out["person"] = {"id": person.id, "name": person.name, "card_no": person.card_no}
        out["rule_set"] = {"id": data.rule_set.id, "name": data.rule_set.name}
        return self.response(200, **out)


class CreditApi(ScopedRestApi):
    """Credit records, scoped; only the city admin may correct (PUT) or delete one."""

    resource_name = "credit"
    datamodel = SQLAInterface(Credit)
    include_route_methods = {"get", "get_list", "info", "put", "delete"}
    openapi_spec_tag = "Credits"
    list_columns = ["id", "person.id", "person.name", "person.card_no", "activity_type", "project_no", "content",
                    "granted_on", "category", "credit_class", "subject", "credits", "hours", "months", "remark",
                    "grantor_name", "uploaded_at", "source", "status", "standard_id", "rule_set_id"]
    show_columns = list_columns
    edit_columns = ["activity_type", "project_no", "content", "granted_on", "category", "credit_class", "subject",
                    "credits", "hours", "months", "remark", "grantor_name", "certificate_no"]
    search_columns = ["granted_on", "status", "source", "category", "project_no", "content", "activity_type",
                      "person"]
    order_columns = ["granted_on", "credits", "uploaded_at"]
    label_columns = {**CREDIT_LABELS, "id": "ID", "person.id": _l("学员ID"), "person.name": _l("姓名"),
                     "person.card_no": _l("IC卡号"), "standard_id": _l("授分标准ID"), "rule_set_id": _l("规则集ID")}
    list_title = _l("学分记录")
    show_title = _l("学分详情")
    edit_title = _l("修改学分记录")
    base_order = ("granted_on", "desc")
