"""Notices (通知公告), SYS-6: a city notice reaches everyone, a district notice its district."""
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_

from app.extensions import db
from app.models import Notice
from app.views.base import ScopedModelView, ScopeError, current_scope


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

    def pre_add(self, item):
        org = getattr(current_user, "org", None)
        if org is None:
            raise ScopeError(_("当前账号未关联单位，不能发布通知"))
        item.org = org
        item.district_id, item.institution_id, item.department_id = (
            org.district_id, org.institution_id, org.department_id)

    def pre_update(self, item):
        if not current_scope().allows(item):
            raise ScopeError(_("无权修改该通知"))


def notices_for(user, limit: int = 8) -> list[Notice]:
    """Published notices a user should see: the city's, and those of its district / institution."""
    org = getattr(user, "org", None)
    person = getattr(user, "person", None)
    district = (org.district_id if org else None) or (person.district_id if person else None)
    inst = (org.institution_id if org else None) or (person.institution_id if person else None)
    query = db.session.query(Notice).filter(Notice.published.is_(True)).filter(or_(
        Notice.district_id.is_(None),
        (Notice.district_id == district) & Notice.institution_id.is_(None),
        Notice.institution_id == inst,
    ))
    return query.order_by(Notice.created_at.desc()).limit(limit).all()
