"""Organization tree views (SYS-2): districts, institutions, departments."""
from __future__ import annotations

from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from app.extensions import db
from app.models import INSTITUTION_LEVELS, INSTITUTION_TYPES, Org, Person
from app.models.org import PARENT_KIND
from app.views.base import InputError, ScopedModelView, ScopeError, ScopeFilter, current_scope
from app.views.imports import import_page, template_file
from app.views.submit import once

ORG_LABELS = {
    "name": _l("名称"), "code": _l("编码"), "parent": _l("上级"), "level": _l("机构级别"),
    "inst_type": _l("机构类型"), "address": _l("地址"), "contact": _l("联系人"), "phone": _l("联系电话"),
    "active": _l("启用"), "sort": _l("排序"), "kind": _l("类别"),
}


class _OrgView(ScopedModelView):
    datamodel = SQLAInterface(Org)
    kind = ""
    label_columns = ORG_LABELS
    search_columns = ["name", "code"]
    order_columns = ["name", "code", "sort"]
    base_order = ("sort", "asc")
    export_columns = ["name", "code", "parent", "address", "contact", "phone"]

    def __init__(self, **kwargs):
        self.base_filters = [["id", ScopeFilter, lambda: None], ["kind", FilterEqual, self.kind]]
        parent_kind = PARENT_KIND[self.kind]
        self.add_form_query_rel_fields = {"parent": [["kind", FilterEqual, parent_kind],
                                                     ["id", ScopeFilter, None]]}
        super().__init__(**kwargs)

    def pre_add(self, item: Org) -> None:
        item.kind = self.kind
        parent = item.parent
        if parent is None or parent.kind != PARENT_KIND[self.kind]:
            raise InputError(_("请选择正确的上级单位"))
        scope = current_scope()
        if not scope.is_all and not scope.allows_org(parent):
            raise ScopeError(_("无权在该单位下新增"))

    def pre_update(self, item: Org) -> None:
        # The parent is not editable (ancestor ids are stored on every row); only scope is rechecked.
        if not current_scope().allows(item):
            raise ScopeError(_("无权修改该单位"))

    def pre_delete(self, item: Org) -> None:
        if db.session.query(Org.id).filter(Org.parent_id == item.id).first():
            raise InputError(_("“%(name)s”下还有下级单位，不能删除", name=item.name))
        column = {"institution": Person.institution_id, "department": Person.department_id}.get(self.kind)
        if column is not None and db.session.query(Person.id).filter(column == item.id).first():
            raise InputError(_("“%(name)s”下还有人员，不能删除", name=item.name))


class DistrictView(_OrgView):
    kind = "district"
    list_title = _l("区县列表")
    add_title = _l("新增区县")
    edit_title = _l("编辑区县")
    show_title = _l("区县详情")
    list_columns = ["name", "code", "contact", "phone", "active"]
    add_columns = ["parent", "name", "code", "contact", "phone", "address", "sort", "active"]
    edit_columns = ["name", "code", "contact", "phone", "address", "sort", "active"]
    show_columns = ["name", "code", "parent", "contact", "phone", "address", "active"]
    export_name = "区县"


class InstitutionView(_OrgView):
    kind = "institution"
    list_title = _l("医疗机构列表")
    add_title = _l("新增医疗机构")
    edit_title = _l("编辑医疗机构")
    show_title = _l("医疗机构详情")
    label_columns = dict(ORG_LABELS, parent=_l("所属区"))
    list_columns = ["name", "code", "level", "inst_type", "parent", "contact", "phone", "active"]
    add_columns = ["parent", "name", "code", "level", "inst_type", "address", "contact", "phone",
                   "sort", "active"]
    edit_columns = ["name", "code", "level", "inst_type", "address", "contact", "phone", "sort", "active"]
    show_columns = ["name", "code", "level", "inst_type", "parent", "address", "contact", "phone", "active"]
    search_columns = ["name", "code", "level", "inst_type", "parent"]
    export_columns = ["name", "code", "level", "inst_type", "parent", "address", "contact", "phone"]
    export_name = "医疗机构"
    add_form_extra_fields = {
        "level": SelectField(_l("机构级别"), choices=[(v, v) for v in INSTITUTION_LEVELS]),
        "inst_type": SelectField(_l("机构类型"), choices=[(v, v) for v in INSTITUTION_TYPES]),
    }
    edit_form_extra_fields = add_form_extra_fields

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.search_form_query_rel_fields = {"parent": [["kind", FilterEqual, "district"],
                                                        ["id", ScopeFilter, None]]}


class DepartmentView(_OrgView):
    kind = "department"
    list_title = _l("科室列表")
    add_title = _l("新增科室")
    edit_title = _l("编辑科室")
    show_title = _l("科室详情")
    label_columns = dict(ORG_LABELS, parent=_l("所属机构"))
    list_columns = ["name", "code", "parent", "contact", "phone", "active"]
    add_columns = ["parent", "name", "code", "contact", "phone", "sort", "active"]
    edit_columns = ["name", "code", "contact", "phone", "sort", "active"]
    show_columns = ["name", "code", "parent", "contact", "phone", "active"]
    export_name = "科室"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.search_exclude_columns = ["parent"]


class OrgImportView(BaseView):
    """组织机构导入: districts, institutions and departments from one Excel file, as a job (all or nothing).
    Shares the department list's permissions (can_import on DepartmentView): the city admin imports the
    whole tree, a district admin its institutions and departments, an institution admin its departments."""

    route_base = "/orgs"
    class_permission_name = "DepartmentView"
    method_permission_name = {"import_": "import", "import_template": "import"}

    @expose("/import/", methods=["GET", "POST"])
    @has_access
    @once
    def import_(self):
        return import_page(self, kind="org_import", func_path="app.jobs.orgs:import_orgs",
                           title=_("组织机构导入"), module="组织机构", endpoint="OrgImportView.import_",
                           template="org/import.html")

    @expose("/import/template/")
    @has_access
    def import_template(self):
        from app.services.org_import import template_workbook

        return template_file(template_workbook(), "组织机构导入模板.xlsx")
