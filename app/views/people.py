"""Personnel (SYS-3): scoped list with masked ID numbers, Excel import as a job, REST API."""
from __future__ import annotations

from flask import (abort, current_app, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from app.extensions import db
from app.models import Person
from app.services import idcard
from app.services.pinyin import initials
from app.services.roles import CITY_ADMIN
from app.views.base import InputError, ScopedModelView, ScopedRestApi, ScopeFilter, role_names
from app.views.credits import PERSON_SHOW_TEMPLATE, PersonListWidget

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


def prepare_person(item: Person) -> None:
    """Derive gender, birth date and pinyin initials; check department belongs to institution."""
    item.id_number = idcard.validate(item.id_number)
    item.gender = idcard.gender(item.id_number)
    item.birth_date = idcard.birth_date(item.id_number)
    item.name_initials = initials(item.name)
    if item.department is not None and item.department.institution_id != getattr(item.institution, "id", None):
        raise InputError(_("科室不属于所选单位"))


def can_see_id_number() -> bool:
    return CITY_ADMIN in role_names()


class PersonView(ScopedModelView):
    datamodel = SQLAInterface(Person)
    route_base = "/persons"
    list_title = _l("人员列表")
    add_title = _l("新增人员")
    edit_title = _l("编辑人员")
    show_title = _l("人员详情")
    label_columns = PERSON_LABELS
    list_columns = ["card_no", "name", "gender", "id_number", "institution", "department", "title",
                    "title_level", "specialty", "phone"]
    show_columns = ["card_no", "name", "id_number", "gender", "birth_date", "institution", "department",
                    "title", "title_level", "specialty", "phone", "active"]
    add_columns = ["card_no", "name", "id_number", "institution", "department", "title", "title_level",
                   "specialty", "phone", "active"]
    # The ID number is fixed after creation: edit forms would otherwise show it unmasked.
    edit_columns = ["card_no", "name", "institution", "department", "title", "title_level",
                    "specialty", "phone", "active"]
    search_columns = ["name", "card_no", "name_initials", "institution", "title_level", "specialty",
                      "title", "active"]
    order_columns = ["card_no", "name", "title_level"]
    base_order = ("id", "asc")
    validators_columns = {"id_number": [_id_number_validator]}
    description_columns = {"id_number": _l("18位身份证号，性别和出生日期由其自动生成")}
    scope_org_attrs = ("department", "institution")
    export_columns = ["card_no", "name", "gender", "id_number", "institution", "department", "title",
                      "title_level", "specialty", "phone"]
    export_name = "人员"
    list_template = "people/list.html"
    list_widget = PersonListWidget  # each row links to the person's 学分档案
    show_template = PERSON_SHOW_TEMPLATE

    def __init__(self, **kwargs):
        inst = [["kind", FilterEqual, "institution"], ["id", ScopeFilter, None]]
        dept = [["kind", FilterEqual, "department"], ["id", ScopeFilter, None]]
        self.add_form_query_rel_fields = {"institution": inst, "department": dept}
        self.edit_form_query_rel_fields = {"institution": inst, "department": dept}
        self.search_form_query_rel_fields = {"institution": inst}
        super().__init__(**kwargs)

    @property
    def formatters_columns(self):
        return {} if can_see_id_number() else {"id_number": idcard.mask}

    @formatters_columns.setter
    def formatters_columns(self, value):
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

    # ------------------------------------------------------------------ import
    @expose("/import/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def import_(self):
        from app.jobs import enqueue
        from app.services.uploads import UploadError, save_upload

        job = None
        if request.method == "POST":
            try:
                path = save_upload(request.files.get("file"), kinds={"xlsx"},
                                   max_bytes=current_app.config["IMPORT_MAX_BYTES"])
            except UploadError as exc:
                flash(str(exc), "danger")
                return redirect(url_for("PersonView.import_"))
            job = enqueue("person_import", "app.jobs.people:import_persons", user_id=current_user.id,
                          title=_("人员导入"), path=path)
        return self.render_template("people/import.html", job=job)

    @expose("/import/template/")
    @has_access
    @permission_name("import")
    def import_template(self):
        from app.services.people_import import template_workbook

        return send_file(template_workbook(), as_attachment=True, download_name="人员导入模板.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class PersonApi(ScopedRestApi):
    resource_name = "person"
    datamodel = SQLAInterface(Person)
    list_columns = ["id", "card_no", "name", "gender", "id_number_masked", "institution.id",
                    "institution.name", "department.id", "department.name", "title", "title_level",
                    "specialty", "phone"]
    show_columns = list_columns
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

    def pre_add(self, item):
        try:
            prepare_person(item)
        except idcard.IdNumberError as exc:
            raise InputError(str(exc)) from None
        super().pre_add(item)

    def pre_update(self, item):
        prepare_person(item)
        super().pre_update(item)
