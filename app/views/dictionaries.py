"""Dictionaries (字典管理) and system parameters (参数设置), SYS-4."""
from flask_appbuilder import ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField

from app.extensions import db
from app.models import DictItem, DictType, Parameter
from app.services.errors import DomainError
from app.services.pinyin import initials


class DictionaryError(DomainError):
    """A dictionary entry that cannot be saved; message in Chinese."""


def _active_field() -> BooleanField:
    # FAB makes a non-null Boolean "required": an unticked box (retired item) could not be saved.
    return BooleanField(_l("启用"), default=True, description=_l("停用的数据不再出现在选择列表中"))


class DictItemView(ModelView):
    datamodel = SQLAInterface(DictItem)
    route_base = "/dictitems"
    list_title = _l("字典数据")
    add_title = _l("新增字典数据")
    edit_title = _l("编辑字典数据")
    show_title = _l("字典数据详情")
    label_columns = {"dict_type": _l("字典类型"), "code": _l("编码"), "label": _l("名称"),
                     "extra": _l("附加属性"), "sort": _l("排序"), "active": _l("启用"), "pinyin": _l("拼音首字母")}
    description_columns = {"extra": _l("如职称的级别（初级/中级/副高/正高）、学分类别的Ⅰ类/Ⅱ类")}
    list_columns = ["dict_type", "code", "label", "extra", "sort", "active"]
    add_columns = edit_columns = ["dict_type", "code", "label", "extra", "sort", "active"]
    show_columns = ["dict_type", "code", "label", "extra", "pinyin", "sort", "active"]
    search_columns = ["dict_type", "code", "label", "pinyin", "active"]
    base_order = ("sort", "asc")
    page_size = 50

    def __init__(self, **kwargs):
        self.add_form_extra_fields = {"active": _active_field()}
        self.edit_form_extra_fields = {"active": _active_field()}
        super().__init__(**kwargs)

    def pre_add(self, item):
        item.code = (item.code or "").strip()
        item.label = (item.label or "").strip()
        item.extra = (item.extra or "").strip() or None
        item.pinyin = initials(item.label)
        if item.sort is None:
            item.sort = 0
        # (type, code) is unique: say so in Chinese instead of a database error.
        with db.session.no_autoflush:
            clash = db.session.scalar(select(DictItem.id).where(
                DictItem.type_id == (item.dict_type.id if item.dict_type else item.type_id),
                DictItem.code == item.code, DictItem.id != (item.id or 0)))
        if clash is not None:
            raise DictionaryError(_("该字典类型下已有编码为“%(code)s”的数据", code=item.code))

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
