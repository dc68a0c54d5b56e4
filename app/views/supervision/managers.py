"""指定负责人 (SUP-4) on a filing's page: the venue's site manager, the login code and its QR sheet, and the
通知公告 / 项目日程 the unit uploads for its site managers. Mixed into FilingView (same permissions)."""
from __future__ import annotations

from flask import abort, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from app.extensions import db
from app.models.supervision import FilingVenue, SiteManager
from app.services import attachments
from app.services import supervision as sup
from app.views.actions import act
from app.views.base import acting_user, qr_png_response
from app.views.submit import once
from app.views.supervision.common import DOC_KINDS, MODULE, login_url


class SiteManagersMixin:
    """The site-manager routes of 项目报备 (``self._scoped_get`` is the filing view's scoped loader)."""

    def _manager(self, mid: int) -> SiteManager:
        manager = db.session.get(SiteManager, mid)
        if manager is None:
            abort(404)
        self._scoped_get(manager.filing_id)
        return manager

    @expose("/venue/<int:venue_id>/manager", methods=["POST"])
    @has_access
    @permission_name("manager")
    @once
    def save_manager(self, venue_id):
        venue = db.session.get(FilingVenue, venue_id) or abort(404)
        filing = self._scoped_get(venue.filing_id)
        return act(lambda: sup.save_manager(db.session, venue, request.form.get("name", ""),
                                            request.form.get("phone", "")),
                   log=(MODULE, "指定负责人", lambda m: f"{filing.project_no} {venue.name}：{m.name}"),
                   done=lambda m: _("负责人已保存，登录码：%(code)s", code=m.login_code),
                   then=url_for("FilingView.show", pk=filing.id) + "#managers")

    @expose("/manager/<int:mid>/regenerate", methods=["POST"])
    @has_access
    @permission_name("manager")
    def regenerate(self, mid):
        manager = self._manager(mid)
        return act(lambda: sup.regenerate_code(db.session, manager),
                   log=(MODULE, "重新生成登录码", f"{manager.filing.project_no} {manager.name}"),
                   done=lambda code: _("已重新生成登录码：%(code)s，原登录码已失效", code=code),
                   then=url_for("FilingView.show", pk=manager.filing_id) + "#managers")

    @expose("/manager/<int:mid>/qr.png")
    @has_access
    @permission_name("manager")
    def qr(self, mid):
        return qr_png_response(login_url(self._manager(mid)))

    @expose("/manager/<int:mid>/sheet")
    @has_access
    @permission_name("manager")
    def sheet(self, mid):
        """The printable sheet the unit hands to the manager: project, venue, login code, QR code."""
        manager = self._manager(mid)
        return self.render_template("supervision/manager_sheet.html", manager=manager, url=login_url(manager))

    @expose("/doc/<int:pk>/<kind>", methods=["POST"])
    @has_access
    @permission_name("manager")
    @once
    def upload_doc(self, pk, kind):
        """通知公告 / 项目日程 the unit uploads for its site managers (a refused file keeps the old one)."""
        filing = self._scoped_get(pk)
        if kind not in DOC_KINDS:
            abort(404)

        def replace():
            storage = request.files.get("file")
            data, file_kind = attachments.check(storage, {"pdf", "jpg", "png"}, sup.filing_max_bytes(db.session))
            for old in attachments.of(f"sup_{kind}", filing.id):
                db.session.delete(old)
            attachments.store_bytes(data, file_kind, storage.filename, f"sup_{kind}", filing.id,
                                    user_id=acting_user().id)

        return act(replace, log=(MODULE, "上传" + DOC_KINDS[kind], filing.project_no),
                   done=_("已上传%(kind)s", kind=DOC_KINDS[kind]),
                   then=url_for("FilingView.show", pk=pk) + "#docs")
