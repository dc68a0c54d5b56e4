"""Personnel (SYS-3): scoped list with masked ID numbers, Excel import as a job, REST API."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import (
    FilterEqual,
    FilterStartsWith,
    SQLAFilterConverter,
    get_field_setup_query,
)
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from wtforms import SelectField
from wtforms.validators import ValidationError

from app.extensions import db
from app.forms.fields import AjaxPickerField
from app.models import Org, Person
from app.services import idcard, person_fields
from app.services.pinyin import initials
from app.services.roles import CITY_ADMIN
from app.views import scale
from app.views.base import InputError, ScopedModelView, ScopedRestApi, ScopeFilter, current_scope, role_names
from app.views.imports import import_page, template_file
from app.views.person_accounts import PersonAccountsMixin
from app.views.scale import CappedInterface
from app.views.submit import once
from app.views.transcript import PERSON_SHOW_TEMPLATE, PersonListWidget

PERSON_LABELS = {
    "card_no": _l("IC卡号"), "name": _l("姓名"), "id_number": _l("身份证号"), "gender": _l("性别"),
    "birth_date": _l("出生日期"), "institution": _l("单位"), "department": _l("科室"),
    "title": _l("职称"), "title_level": _l("职称级别"), "specialty": _l("专业"), "phone": _l("联系电话"),
    "active": _l("在职"), "name_initials": _l("拼音首字母"), "id_number_masked": _l("身份证号"),
}


def _id_number_validator(form, field):
    try:
        field.data = idcard.validate(field.data)
    except idcard.IdNumberError as exc:
        raise ValidationError(str(exc)) from None


def _phone_validator(form, field):
    try:
        field.data = person_fields.clean_phone(field.data)
    except person_fields.PersonFieldError as exc:
        raise ValidationError(_(str(exc))) from None


def _title_validator(form, field):
    try:
        person_fields.check_title(person_fields.titles(db.session), field.data)
    except person_fields.PersonFieldError as exc:
        raise ValidationError(_(str(exc))) from None


def _title_choices():
    return [("", _("请选择职称"))] + [(t, f"{t}（{level}）" if level else t)
                                    for t, level in person_fields.titles(db.session).items()]


def title_field() -> SelectField:
    """职称 from the dictionary (issue 15.5); 职称级别 follows from it."""
    from flask_appbuilder.fieldwidgets import Select2Widget

    return SelectField(PERSON_LABELS["title"], choices=_title_choices, validate_choice=False, widget=Select2Widget(),
                       filters=[lambda v: v or None], validators=[_title_validator],
                       description=_l("从职称字典中选择，职称级别随职称自动确定"))


def prepare_person(item: Person, given_level: str | None = None) -> None:
    """Derive gender, birth date and pinyin initials; check department belongs to institution; the
    title from the dictionary with its level derived (``given_level``: a level sent along, which must
    be the derived one), the phone number checked. Nothing is flushed on the way (the title query
    would otherwise write the half-prepared row, and the edit would log as two operations)."""
    with db.session.no_autoflush:
        _prepare_person(item, given_level)


def _prepare_person(item: Person, given_level: str | None) -> None:
    try:
        item.title, item.title_level = person_fields.check_title(
            person_fields.titles(db.session), item.title, given_level)
        item.phone = person_fields.clean_phone(item.phone)
    except person_fields.PersonFieldError as exc:
        raise InputError(_(str(exc))) from None
    item.id_number = idcard.validate(item.id_number)
    item.gender = idcard.gender(item.id_number)
    item.birth_date = idcard.birth_date(item.id_number)
    item.name_initials = initials(item.name)
    if item.department is not None and item.department.institution_id != getattr(item.institution, "id", None):
        raise InputError(_("科室不属于所选单位"))


class FilterStartsWithIndexed(FilterStartsWith):
    """FAB's "starts with" as ``LIKE 'x%'`` instead of ``ILIKE``, which no index serves (a search
    by name would read all 300,000 rows on PostgreSQL). Names and card numbers have no case in
    practice; pinyin initials are stored lower-case, so the value is lowered for them."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        if self.column_name == "name_initials":
            value = value.lower()
        return query.filter(field.like(value + "%"))


class PersonFilterConverter(SQLAFilterConverter):
    conversion_table = tuple(
        (kind, [FilterStartsWithIndexed if f is FilterStartsWith else f for f in filters])
        for kind, filters in SQLAFilterConverter.conversion_table)


class PersonInterface(CappedInterface):
    """Persons at city scale (300,000): the pager counts up to COUNT_CAP and pages up to it (a
    deeper page number shows the last one, with a note); institution and department are loaded for
    the page's 20 persons after the OFFSET, not joined to every row it skips (issue 18)."""

    filter_converter_class = PersonFilterConverter
    load_after = ("institution", "department")


PICKER_PAGE = 20


def department_query(institution_id: str | int | None = None, q: str | None = None):
    """Active departments in the user's scope, optionally of one institution and by name."""
    query = (db.session.query(Org).options(joinedload(Org.parent))
             .filter(Org.kind == "department", Org.active.is_(True)))
    query = current_scope().filter(query, Org)
    if institution_id is not None and str(institution_id).isdigit():
        query = query.filter(Org.institution_id == int(institution_id))
    if q:
        query = query.filter(Org.name.like(f"%{q}%"))
    return query


def resolve_department(pk) -> Org | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return department_query().filter(Org.id == pk).first()


def department_ajax_field() -> AjaxPickerField:
    return AjaxPickerField(PERSON_LABELS["department"], resolve=resolve_department,
                           url=lambda: url_for("PersonView.departments"),
                           placeholder=_l("请选择单位后输入科室名称搜索"), depends="institution")


SHOW_COLUMNS = ["card_no", "name", "id_number", "gender", "birth_date", "institution", "department",
                "title", "title_level", "specialty", "phone", "active"]


def can_see_id_number() -> bool:
    return CITY_ADMIN in role_names()


class PersonView(PersonAccountsMixin, ScopedModelView):
    datamodel = PersonInterface(Person)
    route_base = "/persons"
    list_title = _l("人员列表")
    add_title = _l("新增人员")
    edit_title = _l("编辑人员")
    show_title = _l("人员详情")
    label_columns = PERSON_LABELS
    list_columns = ["card_no", "name", "gender", "id_number", "institution", "department", "title",
                    "title_level", "specialty", "phone"]
    # 职称级别 is derived from 职称 (prepare_person), never typed.
    add_columns = ["card_no", "name", "id_number", "institution", "department", "title",
                   "specialty", "phone", "active"]
    # The ID number is fixed after creation: edit forms would otherwise show it unmasked.
    edit_columns = ["card_no", "name", "institution", "department", "title",
                    "specialty", "phone", "active"]
    search_columns = ["name", "card_no", "name_initials", "institution", "title_level", "specialty",
                      "title", "active"]
    order_columns = ["card_no", "name", "title_level"]
    base_order = ("id", "asc")
    validators_columns = {"id_number": [_id_number_validator], "phone": [_phone_validator]}
    description_columns = {"id_number": _l("18位身份证号，性别和出生日期由其自动生成"),
                           "phone": _l("11位手机号或固定电话（如010-12345678）")}
    scope_org_attrs = ("department", "institution")
    export_columns = ["card_no", "name", "gender", "id_number", "institution", "department", "title",
                      "title_level", "specialty", "phone"]
    export_name = "人员"
    list_template = "people/list.html"
    list_widget = PersonListWidget  # each row links to the person's 学分档案
    show_template = PERSON_SHOW_TEMPLATE

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["count_cap"] = scale.COUNT_CAP
        return super().render_template(template, **kwargs)

    def __init__(self, **kwargs):
        inst = [["kind", FilterEqual, "institution"], ["id", ScopeFilter, None]]
        self.add_form_query_rel_fields = {"institution": inst}
        self.edit_form_query_rel_fields = {"institution": inst}
        self.search_form_query_rel_fields = {"institution": inst}
        # A city has thousands of departments: pick one by AJAX among the chosen institution's,
        # never a <select> of them all.
        self.add_form_extra_fields = {"department": department_ajax_field(), "title": title_field()}
        self.edit_form_extra_fields = {"department": department_ajax_field(), "title": title_field()}
        super().__init__(**kwargs)

    @property
    def formatters_columns(self):
        return {} if can_see_id_number() else {"id_number": idcard.mask}

    @formatters_columns.setter
    def formatters_columns(self, value):
        pass  # role-dependent, computed per request

    @property
    def show_columns(self):
        # The birth date is digits 7–14 of the ID number: shown only to who may see the number.
        return SHOW_COLUMNS if can_see_id_number() else [c for c in SHOW_COLUMNS if c != "birth_date"]

    @show_columns.setter
    def show_columns(self, value):
        pass  # role-dependent, computed per request

    @property
    def export_formatters(self):
        return {} if can_see_id_number() else {"id_number": lambda p: idcard.mask(p.id_number)}

    def pre_add(self, item):
        prepare_person(item)
        super().pre_add(item)

    def pre_update(self, item):
        prepare_person(item)
        super().pre_update(item)

    @expose("/departments/")
    @has_access
    @permission_name("picker")
    def departments(self):
        """Select2 JSON: departments in scope, of institution ``parent`` when given, by name."""
        try:
            page = max(1, int(request.args.get("page", 1)))
        except ValueError:
            page = 1
        rows = (department_query(request.args.get("parent"), request.args.get("q", "").strip())
                .order_by(Org.institution_id, Org.sort, Org.id)
                .offset((page - 1) * PICKER_PAGE).limit(PICKER_PAGE + 1).all())
        with_institution = not request.args.get("parent", "").isdigit()
        return jsonify(
            results=[{"id": d.id, "text": f"{d.name}（{d.parent.name}）" if with_institution else d.name}
                     for d in rows[:PICKER_PAGE]],
            pagination={"more": len(rows) > PICKER_PAGE})

    # ------------------------------------------------------------------ import
    @expose("/import/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    @once
    def import_(self):
        return import_page(self, kind="person_import", func_path="app.jobs.people:import_persons",
                           title=_("人员导入"), module="人员管理", endpoint="PersonView.import_",
                           template="people/import.html")

    @expose("/import/template/")
    @has_access
    @permission_name("import")
    def import_template(self):
        from app.services.people_import import template_workbook

        return template_file(template_workbook(), "人员导入模板.xlsx")


class PersonApi(ScopedRestApi):
    resource_name = "person"
    datamodel = SQLAInterface(Person)
    list_columns = ["id", "card_no", "name", "gender", "id_number_masked", "institution.id",
                    "institution.name", "department.id", "department.name", "title", "title_level",
                    "specialty", "phone"]
    show_columns = list_columns
    # id_number_masked reads id_number: select it with the page, not one query per row.
    list_select_columns = [*list_columns, "id_number"]
    show_select_columns = list_select_columns
    add_columns = ["card_no", "name", "id_number", "institution", "department", "title", "title_level",
                   "specialty", "phone"]
    edit_columns = ["card_no", "name", "institution", "department", "title", "title_level",
                    "specialty", "phone"]
    search_columns = ["name", "card_no", "institution", "department", "title_level"]
    label_columns = PERSON_LABELS
    scope_org_attrs = ("department", "institution")
    openapi_spec_tag = "Persons"

    def __init__(self, **kwargs):
        # /_info lists the choices of related fields: only institutions / departments in scope.
        inst = [["kind", FilterEqual, "institution"], ["id", ScopeFilter, None]]
        dept = [["kind", FilterEqual, "department"], ["id", ScopeFilter, None]]
        self.add_query_rel_fields = {"institution": inst, "department": dept}
        self.edit_query_rel_fields = {"institution": inst, "department": dept}
        super().__init__(**kwargs)

    @staticmethod
    def _given_level() -> str | None:
        """The 职称级别 the client sent (FAB merges the stored values into the parsed JSON on PUT)."""
        import json

        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            return None
        return body.get("title_level") if isinstance(body, dict) else None

    def pre_add(self, item):
        try:
            prepare_person(item, self._given_level())
        except idcard.IdNumberError as exc:
            raise InputError(str(exc)) from None
        super().pre_add(item)

    def pre_update(self, item):
        prepare_person(item, self._given_level())
        super().pre_update(item)
