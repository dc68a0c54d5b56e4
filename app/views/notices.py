"""Notices (通知公告), SYS-6: a city notice reaches everyone, a district notice its district."""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, false, or_
from wtforms import BooleanField

from app.extensions import db
from app.models import Notice
from app.views.base import ScopedModelView, ScopeError, current_scope


def _published_field() -> BooleanField:
    # FAB makes a non-null Boolean "required", so an unticked box could not be saved.
    return BooleanField(_l("发布"), default=True, description=_l("不勾选则保存为草稿，首页不显示"))


class NoticeView(ScopedModelView):
    datamodel = SQLAInterface(Notice)
    route_base = "/notices"
    list_title = _l("通知公告")
    add_title = _l("发布通知")
    edit_title = _l("编辑通知")
    show_title = _l("通知详情")
    label_columns = {"title": _l("标题"), "content": _l("内容"), "published": _l("发布"),
                     "org": _l("发布单位"), "created_at": _l("发布时间")}
    list_columns = ["title", "org", "published", "created_at"]
    add_columns = edit_columns = ["title", "content", "published"]
    show_columns = ["title", "org", "created_at", "content"]
    search_columns = ["title", "published", "created_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"published": lambda v: _("已发布") if v else _("草稿"),
                          "created_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else ""}

    def __init__(self, **kwargs):
        self.add_form_extra_fields = {"published": _published_field()}
        self.edit_form_extra_fields = {"published": _published_field()}
        super().__init__(**kwargs)

    def pre_add(self, item):
        org = getattr(current_user, "org", None)
        if org is None:
            raise ScopeError(_("当前账号未关联单位，不能发布通知"))
        item.org = org
        item.district_id, item.institution_id, item.department_id = (
            org.district_id, org.institution_id, org.department_id)

    def pre_update(self, item):
        # base_filters already hide other units' notices; this guards the row itself.
        if not current_scope().allows(item):
            raise ScopeError(_("无权修改该通知"))


def visible_notices(user):
    """Query of the published notices ``user`` should read: the city's (no district), its
    district's, and those of its own institution / department."""
    org = getattr(user, "org", None)
    person = getattr(user, "person", None)
    district = (org.district_id if org else None) or (person.district_id if person else None)
    inst = (org.institution_id if org else None) or (person.institution_id if person else None)
    dept = (org.department_id if org else None) or (person.department_id if person else None)
    # Compare with real ids only: ``column == None`` would mean IS NULL and match every row.
    reach = [Notice.district_id.is_(None)]
    if district is not None:
        reach.append(and_(Notice.district_id == district, Notice.institution_id.is_(None)))
    if inst is not None:
        reach.append(and_(Notice.institution_id == inst, Notice.department_id.is_(None)))
    if dept is not None:
        reach.append(Notice.department_id == dept)
    if user is None or not getattr(user, "is_authenticated", False):
        reach = [false()]
    return db.session.query(Notice).filter(Notice.published.is_(True), or_(*reach))


def notices_for(user, limit: int = 8) -> list[Notice]:
    """The newest published notices a user should see on the home page."""
    return visible_notices(user).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit).all()
