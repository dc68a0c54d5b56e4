"""Dictionaries (字典管理) and system parameters (参数设置), SYS-4."""
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l

from app.models import DictItem, DictType, Parameter
from app.services.pinyin import initials


class DictItemView(ModelView):
    datamodel = SQLAInterface(DictItem)
    route_base = "/dictitems"
    list_title = _l("字典数据")
    add_title = _l("新增字典数据")
    edit_title = _l("编辑字典数据")
    show_title = _l("字典数据详情")
    label_columns = {"dict_type": _l("字典类型"), "code": _l("编码"), "label": _l("名称"),
                     "extra": _l("附加属性"), "sort": _l("排序"), "active": _l("启用"), "pinyin": _l("拼音首字母")}
    description_columns = {"extra": _l("如职称的级别（初级/中级/副高/正高）")}
    list_columns = ["dict_type", "code", "label", "extra", "sort", "active"]
    add_columns = edit_columns = ["dict_type", "code", "label", "extra", "sort", "active"]
    show_columns = ["dict_type", "code", "label", "extra", "pinyin", "sort", "active"]
    search_columns = ["dict_type", "code", "label", "pinyin", "active"]
    base_order = ("sort", "asc")
    page_size = 50

    def pre_add(self, item):
        item.pinyin = initials(item.label)

    pre_update = pre_add


class DictTypeView(ModelView):
    datamodel = SQLAInterface(DictType)
    route_base = "/dicttypes"
    list_title = _l("字典类型")
    add_title = _l("新增字典类型")
    edit_title = _l("编辑字典类型")
    show_title = _l("字典类型详情")
    label_columns = {"code": _l("类型编码"), "name": _l("类型名称"), "remark": _l("备注")}
    list_columns = ["name", "code", "remark"]
    add_columns = edit_columns = show_columns = ["name", "code", "remark"]
    search_columns = ["name", "code"]
    related_views = [DictItemView]


class ParameterView(ModelView):
    datamodel = SQLAInterface(Parameter)
    route_base = "/parameters"
    list_title = _l("参数设置")
    add_title = _l("新增参数")
    edit_title = _l("编辑参数")
    show_title = _l("参数详情")
    label_columns = {"key": _l("参数键"), "name": _l("参数名称"), "value": _l("参数值"), "remark": _l("备注")}
    list_columns = ["name", "key", "value", "remark"]
    add_columns = edit_columns = show_columns = ["name", "key", "value", "remark"]
    search_columns = ["name", "key"]
