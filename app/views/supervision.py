"""项目督查 (seed 003 part 02, SUP-1..7): 项目报备, 报备审核, 督查管理, and the site managers' phone pages.

Every page loads its filing through the user's data scope (Scope + __scope_columns__): a guessed id of
another institution's or district's filing, venue, manager, photo or file answers 404. The phone pages
(/m/…) belong to the 现场会务负责人 role and see only the periods of the manager's own project.
"""
from __future__ import annotations

import datetime
import functools
import os
import secrets
import tempfile
from urllib.parse import quote

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    request,
    send_file,
    session,
    url_for,
)
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.models.sqla.filters import FilterNotEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectField

from app.extensions import db
from app.models import Attachment, Org
from app.models.supervision import (
    FILING_STATUSES,
    FIXED_SLOTS,
    PHOTO_SLOTS,
    PROJECT_TYPES,
    SCORES,
    Feedback,
    FeedbackPhoto,
    Filing,
    FilingVenue,
    Period,
    SiteManager,
    SmsOutbox,
)
from app.oplog import record
from app.services import attachments, filestore, photos
from app.services import supervision as sup
from app.services.roles import SITE_MANAGER
from app.services.uploads import UploadError
from app.views.base import (
    ScopedModelView,
    ScopeFilter,
    acting_user,
    current_scope,
    qr_png_response,
    refuse_if_referenced,
)
from app.views.credits import _BOX, ChoiceFiltersMixin, FilterChoice, _choices
from app.views.files import stored_path
from app.views.submit import once

MODULE = "项目督查"
DOC_KINDS = {"notice": "通知公告", "schedule": "项目日程"}
FILING_LABELS = {"year": _l("年度"), "project_no": _l("项目编号"), "name": _l("项目名称"),
                 "project_type": _l("项目类型"), "place": _l("举办地点"), "province": _l("举办省份"),
                 "city": _l("举办城市"), "county": _l("举办区县"), "sessions": _l("期数"),
                 "starts_at": _l("开始时间"), "ends_at": _l("结束时间"), "status": _l("报备状态"),
                 "institution": _l("申报单位"), "organizer": _l("主办单位"), "id": _l("操作")}
LETTER = ("郑重承诺：本人作为项目负责人，对本次项目进行了详细规划和部署，并承诺在项目实施过程中，严格按照项目计划执行，"
          "确保项目质量和进度。如有任何变更，将及时与相关人员沟通，并做好记录和汇报。本人承诺遵守相关法律法规和行业标准，"
          "确保项目合法合规进行。如有任何违规行为，愿承担相应法律责任。")


def _date(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _institution() -> Org | None:
    org = getattr(acting_user(), "org", None)
    if org is None or not org.institution_id:
        return None
    return db.session.get(Org, org.institution_id)


def _scoped_filing(pk) -> Filing:
    filing = db.session.scalar(current_scope().filter(select(Filing).where(Filing.id == pk), Filing))
    if filing is None:
        abort(404)
    return filing


def _attachment(owner_type: str, owner_id: int, att_id: int) -> Attachment:
    att = db.session.get(Attachment, att_id)
    if att is None or att.owner_type != owner_type or att.owner_id != owner_id:
        abort(404)
    return att


def _send(att: Attachment, download: bool = False):
    return send_file(stored_path(att), mimetype=att.mimetype, as_attachment=download, download_name=att.name)


# ================================================================================ 项目报备 (SUP-1)
class _FilingBase(ChoiceFiltersMixin, ScopedModelView):
    datamodel = SQLAInterface(Filing)
    label_columns = FILING_LABELS
    search_columns = ["year", "project_no", "name", "starts_at", "ends_at", "status", "project_type", "province",
                      "city", "county"]
    custom_filters = {"status": [FilterChoice], "project_type": [FilterChoice]}
    search_form_extra_fields = {
        "status": SelectField(_l("报备状态"), choices=_choices(FILING_STATUSES), render_kw=_BOX),
        "project_type": SelectField(_l("项目类型"), choices=_choices({t: t for t in PROJECT_TYPES}), render_kw=_BOX),
    }
    base_order = ("id", "desc")
    order_columns = ["name", "project_no", "project_type", "sessions", "starts_at", "ends_at", "status"]
    formatters_columns = {"status": lambda v: FILING_STATUSES.get(v, v), "starts_at": _date, "ends_at": _date}
    reviewer = False

    def _show_page(self, filing: Filing):
        managers = {m.venue_id: m for m in db.session.scalars(select(SiteManager).where(
            SiteManager.filing_id == filing.id))}
        return self.render_template(
            "supervision/filing_show.html", filing=filing, statuses=FILING_STATUSES, reviewer=self.reviewer,
            files=attachments.of("sup_filing", filing.id), managers=managers, view=self.__class__.__name__,
            docs={k: attachments.of(f"sup_{k}", filing.id) for k in DOC_KINDS}, doc_kinds=DOC_KINDS,
            periods=sup.period_rows(db.session, filing, datetime.datetime.now()) if filing.periods else [],
            has_data=sup.has_supervision_data(db.session, filing),
            delete_refused=sup.can_delete(db.session, filing, self.reviewer))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._show_page(self._scoped_get(pk))

    @expose("/file/<int:pk>/<int:att_id>")
    @has_access
    @permission_name("file")
    def filing_file(self, pk, att_id):
        """报备附件, 通知公告, 项目日程 of a filing in scope."""
        filing = self._scoped_get(pk)
        att = db.session.get(Attachment, att_id)
        if att is None or att.owner_id != filing.id or att.owner_type not in ("sup_filing", "sup_notice",
                                                                                "sup_schedule"):
            abort(404)
        return _send(att, request.args.get("download") == "1")

    def pre_delete(self, item: Filing) -> None:
        refused = sup.can_delete(db.session, item, self.reviewer)
        if refused:
            raise sup.SupervisionError(refused)
        refuse_if_referenced([item])  # before the managers' accounts are touched (flushed) below
        for kind in ("sup_filing", "sup_notice", "sup_schedule"):
            for att in attachments.of(kind, item.id):
                db.session.delete(att)
        # The site managers' login accounts go in the same transaction as the filing.
        deleted, deactivated = sup.remove_manager_accounts(db.session, sup.managers_of(db.session, [item.id]))
        g.setdefault("sup_removed_accounts", {})[item.id] = (deleted, deactivated)

    def post_delete(self, item: Filing) -> None:
        deleted, deactivated = g.get("sup_removed_accounts", {}).get(item.id, (0, 0))
        extra = f"；删除现场负责人账号{deleted}个" if deleted else ""
        extra += f"，停用{deactivated}个（仍被其他数据引用）" if deactivated else ""
        record(MODULE, "删除", f"{item.name}（{item.project_no}）{extra}")


class FilingView(_FilingBase):
    """项目报备: the unit's filings: add, edit, delete, submit, import; venues, attachments, managers."""

    route_base = "/filing"
    list_title = _l("项目报备")
    list_template = "supervision/filing_list.html"
    list_columns = ["name", "project_no", "project_type", "place", "sessions", "starts_at", "ends_at", "status"]

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            from app.models import Job

            job = None
            if request.args.get("job"):
                job = db.session.get(Job, request.args["job"])
                if job is None or job.user_id != acting_user().id or job.kind != "filing_import":
                    job = None
            kwargs["job"] = job
        return super().render_template(template, **kwargs)

    # ------------------------------------------------------------------ add / edit
    def _values(self) -> dict:
        form = request.form
        values = {k: form.get(k, "") for k in sup.FILING_FIELDS}
        venues = []
        names = form.getlist("venue_name")
        for i in range(len(names)):
            venues.append({k: (form.getlist(f"venue_{k}") + [""] * len(names))[i] for k in sup.VENUE_FIELDS})
        values["venues"] = venues
        return values

    def _form(self, filing: Filing | None, values: dict, errors=None):
        return self.render_template("supervision/filing_form.html", filing=filing, values=values,
                                    types=PROJECT_TYPES, errors=errors or [],
                                    max_mb=sup.filing_max_bytes(db.session) // (1024 * 1024))

    def _save(self, filing: Filing | None):
        values = self._values()
        try:
            filing = sup.save_filing(db.session, acting_user(), values, request.files.getlist("files"), filing,
                                     institution=_institution() if filing is None else None)
        except sup.FilingInvalid as exc:  # listed above the form, each with its field
            db.session.rollback()
            return self._form(filing, values, exc.errors)
        except UploadError as exc:  # the disk refused a file: nothing kept, the form as typed
            db.session.rollback()
            return self._form(filing if filing is not None and filing.id else None, values, [("附件", str(exc))])
        try:
            db.session.commit()
        except Exception:  # noqa: BLE001 - the unique project number raced with another save
            db.session.rollback()
            flash(_("项目编号已报备，不能重复报备"), "danger")
            return self._form(None, values)
        record(MODULE, "保存", f"{filing.name}（{filing.project_no}）")
        flash(_("已保存。请在列表中点击“提交”提交报备"), "success")
        return redirect(url_for("FilingView.show", pk=filing.id))

    @expose("/add", methods=["GET", "POST"])
    @has_access
    @once
    def add(self):
        if request.method == "POST":
            return self._save(None)
        return self._form(None, {"venues": [{}], "year": datetime.date.today().year, "sessions": 1})

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    @once
    def edit(self, pk):
        filing = self._scoped_get(pk)
        if filing.status not in sup.EDITABLE:
            flash(_("已提交或已通过的报备不能修改"), "warning")
            return redirect(url_for("FilingView.show", pk=filing.id))
        if request.method == "POST":
            return self._save(filing)
        values = {k: getattr(filing, k) for k in sup.FILING_FIELDS}
        values["starts_at"] = f"{filing.starts_at:%Y-%m-%dT%H:%M}"
        values["ends_at"] = f"{filing.ends_at:%Y-%m-%dT%H:%M}"
        values["venues"] = [{k: (getattr(v, k) or "") for k in sup.VENUE_FIELDS} for v in filing.venues]
        return self._form(filing, values)

    @expose("/submit/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("submit")
    def submit(self, pk):
        filing = self._scoped_get(pk)
        try:
            sup.apply(db.session, filing, "submit", acting_user())
            db.session.commit()
        except sup.SupervisionError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("FilingView.show", pk=pk))
        record(MODULE, "提交报备", f"{filing.name}（{filing.project_no}）")
        flash(_("已提交报备，等待主管部门审核"), "success")
        return redirect(url_for("FilingView.list"))

    @expose("/attach/<int:pk>/<int:att_id>/delete", methods=["POST"])
    @has_access
    @permission_name("edit")
    def delete_attachment(self, pk, att_id):
        filing = self._scoped_get(pk)
        att = db.session.get(Attachment, att_id)
        if att is None or att.owner_id != filing.id or att.owner_type not in ("sup_filing", "sup_notice",
                                                                                "sup_schedule"):
            abort(404)
        if att.owner_type == "sup_filing" and filing.status not in sup.EDITABLE:
            abort(403)
        db.session.delete(att)
        db.session.commit()
        flash(_("附件已删除"), "success")
        return redirect(url_for("FilingView.show", pk=pk))

    # ------------------------------------------------------------------ import
    @expose("/import/", methods=["POST"])
    @has_access
    @permission_name("import")
    @once
    def import_(self):
        from app.jobs.imports import start_import

        inst = _institution()
        if inst is None:
            flash(_("只有医疗机构账号可以导入项目报备"), "danger")
            return redirect(url_for("FilingView.list"))
        try:
            job, again = start_import(request.files.get("file"), kind="filing_import",
                                      func_path="app.jobs.supervision:import_filings", user_id=acting_user().id,
                                      title=_("项目报备导入"), max_bytes=current_app.config["IMPORT_MAX_BYTES"],
                                      institution_id=inst.id)
        except UploadError as exc:
            db.session.rollback()
            record(MODULE, "导入", f"上传被拒绝：{exc}", False)
            flash(str(exc), "danger")
            return redirect(url_for("FilingView.list"))
        if again:
            flash(_("该文件已于%(time)s上传，未重复导入；以下是那次导入的进度和结果",
                    time=f"{job.created_at:%H:%M:%S}"), "info")
        return redirect(url_for("FilingView.list", job=job.id))

    @expose("/import/template/")
    @has_access
    @permission_name("import")
    def import_template(self):
        from app.services.filing_import import template_workbook

        return send_file(template_workbook(), as_attachment=True, download_name="项目报备导入模板.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # ------------------------------------------------------------------ site managers (SUP-4)
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
        try:
            manager = sup.save_manager(db.session, venue, request.form.get("name", ""), request.form.get("phone", ""))
            db.session.commit()
        except sup.SupervisionError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            record(MODULE, "指定负责人", f"{filing.project_no} {venue.name}：{manager.name}")
            flash(_("负责人已保存，登录码：%(code)s", code=manager.login_code), "success")
        return redirect(url_for("FilingView.show", pk=filing.id) + "#managers")

    @expose("/manager/<int:mid>/regenerate", methods=["POST"])
    @has_access
    @permission_name("manager")
    def regenerate(self, mid):
        manager = self._manager(mid)
        code = sup.regenerate_code(db.session, manager)
        db.session.commit()
        record(MODULE, "重新生成登录码", f"{manager.filing.project_no} {manager.name}")
        flash(_("已重新生成登录码：%(code)s，原登录码已失效", code=code), "success")
        return redirect(url_for("FilingView.show", pk=manager.filing_id) + "#managers")

    @expose("/manager/<int:mid>/qr.png")
    @has_access
    @permission_name("manager")
    def qr(self, mid):
        manager = self._manager(mid)
        return qr_png_response(_login_url(manager))

    @expose("/manager/<int:mid>/sheet")
    @has_access
    @permission_name("manager")
    def sheet(self, mid):
        """The printable sheet the unit hands to the manager: project, venue, login code, QR code."""
        manager = self._manager(mid)
        return self.render_template("supervision/manager_sheet.html", manager=manager, url=_login_url(manager))

    @expose("/doc/<int:pk>/<kind>", methods=["POST"])
    @has_access
    @permission_name("manager")
    @once
    def upload_doc(self, pk, kind):
        """通知公告 / 项目日程 the unit uploads for its site managers."""
        filing = self._scoped_get(pk)
        if kind not in DOC_KINDS:
            abort(404)
        try:
            data, file_kind = attachments.check(request.files.get("file"), {"pdf", "jpg", "png"},
                                                sup.filing_max_bytes(db.session))
        except UploadError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("FilingView.show", pk=pk) + "#docs")
        for old in attachments.of(f"sup_{kind}", filing.id):
            db.session.delete(old)
        try:
            attachments.store_bytes(data, file_kind, request.files["file"].filename, f"sup_{kind}", filing.id,
                                    user_id=acting_user().id)
            db.session.commit()
        except UploadError as exc:  # the disk refused it: the old document stays
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("FilingView.show", pk=pk) + "#docs")
        record(MODULE, "上传" + DOC_KINDS[kind], filing.project_no)
        flash(_("已上传%(kind)s", kind=DOC_KINDS[kind]), "success")
        return redirect(url_for("FilingView.show", pk=pk) + "#docs")


def _login_url(manager: SiteManager) -> str:
    return url_for("SiteMobileView.login", code=manager.login_code, _external=True)


# ================================================================================ 报备审核 (SUP-2)
class _WithInstitution(SQLAInterface):
    """Loads each row's 申报单位 in the list's own query (no query per row)."""

    def apply_all(self, query, *args, **kwargs):
        return super().apply_all(query, *args, **kwargs).options(joinedload(self.obj.institution))


class FilingReviewView(_FilingBase):
    """报备审核: the supervising district / city passes or fails, returns (退回) or deletes filings."""

    datamodel = _WithInstitution(Filing)

    route_base = "/filingreview"
    list_title = _l("报备审核")
    list_columns = ["name", "project_no", "institution", "project_type", "place", "starts_at", "ends_at", "status",
                    "id"]
    base_filters = [["id", ScopeFilter, lambda: None],
                    ["status", FilterNotEqual, "draft"]]
    base_permissions = ["can_list", "can_show", "can_review", "can_file", "can_delete", "can_return"]
    reviewer = True

    @property
    def formatters_columns(self):
        return {**_FilingBase.formatters_columns, "id": lambda pk: Markup(
            '<a class="btn btn-xs btn-default" href="{}">{}</a>').format(
            url_for("FilingReviewView.show", pk=pk), _("报备详情 / 日志"))}

    @formatters_columns.setter
    def formatters_columns(self, value):
        pass

    @expose("/review/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("review")
    def review(self, pk):
        filing = self._scoped_get(pk)
        action = "pass" if request.form.get("result") == "pass" else "fail"
        try:
            sup.apply(db.session, filing, action, acting_user(), request.form.get("reason", ""))
            db.session.commit()
        except sup.SupervisionError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("FilingReviewView.show", pk=pk))
        record(MODULE, "审核", f"{filing.project_no}：{sup.ACTION_LABELS[action]}")
        flash(_("已审核：%(result)s", result=sup.ACTION_LABELS[action]), "success")
        return redirect(url_for("FilingReviewView.list"))

    @expose("/return/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("return")
    def return_(self, pk):
        filing = self._scoped_get(pk)
        try:
            sup.apply(db.session, filing, "return", acting_user(), request.form.get("reason", ""))
            db.session.commit()
        except sup.SupervisionError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("FilingReviewView.show", pk=pk))
        record(MODULE, "退回", filing.project_no)
        flash(_("已退回"), "success")
        return redirect(url_for("FilingReviewView.list"))


# ================================================================================ 督查管理 (SUP-7)
PAGE = 20


class SupervisionView(BaseView):
    """督查管理: all approved projects in scope with feedback counts and completeness; 督查反馈 (photos per
    period), 督查评分, 督查结果公布 and the Excel export. Units read their own projects' feedback."""

    route_base = "/supervision"
    default_view = "list"

    def _query(self):
        args = request.args
        query = sup.supervised_filings(current_scope())
        if args.get("year", "").isdigit():
            query = query.where(Filing.year == int(args["year"]))
        if args.get("name"):
            query = query.where(Filing.name.contains(args["name"].strip()))
        if args.get("project_no"):
            query = query.where(Filing.project_no.contains(args["project_no"].strip()))
        if args.get("score") in SCORES:
            query = query.where(Filing.score == args["score"])
        if args.get("published") in ("0", "1"):
            query = query.where(Filing.published.is_(args["published"] == "1"))
        start = sup.parse_datetime(args.get("start", ""))
        end = sup.parse_datetime(args.get("end", ""), end=True)
        if start:
            query = query.where(Filing.ends_at >= start)
        if end:
            query = query.where(Filing.starts_at <= end)
        return query

    @expose("/")
    @has_access
    def list(self):
        try:
            page = max(1, int(request.args.get("page", 1)))
        except ValueError:
            page = 1
        query = self._query()
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(db.session.scalars(query.options(selectinload(Filing.institution))
                                       .order_by(Filing.starts_at.desc(), Filing.id.desc())
                                       .offset((page - 1) * PAGE).limit(PAGE)))
        stats = sup.project_stats(db.session, [f.id for f in rows])
        sm = self.appbuilder.sm
        return self.render_template("supervision/manage_list.html", rows=rows, stats=stats, page=page, total=total,
                                    pages=max(1, (total + PAGE - 1) // PAGE), args=request.args, scores=SCORES,
                                    may_publish=sm.has_access("can_publish", "SupervisionView"),
                                    may_export=sm.has_access("can_export", "SupervisionView"))

    @expose("/<int:pk>")
    @has_access
    @permission_name("list")
    def detail(self, pk):
        filing = _scoped_filing(pk)
        if filing.status != "approved":
            abort(404)
        stats = sup.project_stats(db.session, [filing.id])[filing.id]
        return self.render_template("supervision/manage_detail.html", filing=filing, stats=stats, scores=SCORES,
                                    periods=sup.period_rows(db.session, filing, datetime.datetime.now()),
                                    may_score=self.appbuilder.sm.has_access("can_score", "SupervisionView"))

    @expose("/period/<int:pid>")
    @has_access
    @permission_name("list")
    def period(self, pid):
        period = db.session.get(Period, pid) or abort(404)
        filing = _scoped_filing(period.filing_id)
        feedbacks = list(db.session.scalars(select(Feedback).where(Feedback.period_id == period.id)
                                            .order_by(Feedback.id)))
        # Seed 003 项目督察: "举办地点、现场日程背板、现场照片、主讲人讲课照片在现场会务负责人提交后可显示在单位账号中";
        # 督查反馈 "单位上报督查内容后用户可以实时查看" — the back office sees a period's photos once submitted.
        return self.render_template("supervision/manage_period.html", filing=filing, period=period,
                                    feedbacks=feedbacks)

    @expose("/photo/<int:photo_id>")
    @has_access
    @permission_name("list")
    def photo(self, photo_id):
        photo = db.session.get(FeedbackPhoto, photo_id) or abort(404)
        _scoped_filing(photo.feedback.filing_id)
        if photo.feedback.submitted_at is None:  # not shown before the site manager submits the period
            abort(404)
        att = db.session.get(Attachment, photo.original_id if request.args.get("original") == "1" else photo.stamped_id)
        return _send(att)

    @expose("/score/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("score")
    def score(self, pk):
        filing = _scoped_filing(pk)
        if filing.status != "approved":
            abort(404)
        try:
            filing.score, filing.score_comment = sup.validate_score(request.form.get("score", ""),
                                                                    request.form.get("comment", ""))
        except sup.SupervisionError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("SupervisionView.detail", pk=pk))
        user = acting_user()
        filing.scored_at, filing.scored_by = datetime.datetime.now(), user.get_full_name()
        db.session.commit()
        record(MODULE, "督查评分", f"{filing.project_no}：{filing.score}")
        flash(_("已评分：%(score)s", score=filing.score), "success")
        return redirect(url_for("SupervisionView.detail", pk=pk))

    @expose("/publish", methods=["POST"])
    @has_access
    @permission_name("publish")
    def publish(self):
        """督查结果公布 of the ticked projects (all in scope and scored, or nothing changes)."""
        ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
        publish = request.form.get("action") != "withdraw"
        if not ids:
            flash(_("请先勾选项目"), "warning")
            return redirect(url_for("SupervisionView.list"))
        rows = list(db.session.scalars(current_scope().filter(
            select(Filing).where(Filing.id.in_(ids), Filing.status == "approved"), Filing)))
        if len(rows) != len(set(ids)):
            abort(404)
        unscored = [f.project_no for f in rows if not f.score]
        if publish and unscored:
            flash(_("以下项目尚未督查评分，不能公布：%(nos)s", nos="、".join(unscored)), "danger")
            return redirect(url_for("SupervisionView.list"))
        now = datetime.datetime.now()
        for f in rows:
            f.published, f.published_at = publish, now if publish else None
        db.session.commit()
        record(MODULE, "督查结果公布" if publish else "撤销公布", "、".join(f.project_no for f in rows))
        flash(_("已公布 %(n)s 个项目", n=len(rows)) if publish else _("已撤销公布 %(n)s 个项目", n=len(rows)),
              "success")
        return redirect(url_for("SupervisionView.list"))

    @expose("/export")
    @has_access
    @permission_name("export")
    def export(self):
        """导出: one row per project on the first sheet, one row per period on the second."""
        filings = list(db.session.scalars(self._query().options(selectinload(Filing.institution))
                                          .order_by(Filing.starts_at, Filing.id)))
        now = datetime.datetime.now()
        projects, _stats = sup.export_rows(db.session, filings, now)
        with filestore.guard(None):
            fd, path = tempfile.mkstemp(suffix=".xlsx")
            os.close(fd)
        with filestore.guard(path):  # a full disk: the Chinese message, no half-written file
            self._write_export(path, filings, projects, now)
        record(MODULE, "导出", f"{len(filings)}个项目")

        def chunks():
            try:
                with open(path, "rb") as fh:
                    while block := fh.read(65536):
                        yield block
            finally:
                os.unlink(path)

        name = f"项目督查-{datetime.date.today():%Y%m%d}.xlsx"
        return Response(chunks(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    @staticmethod
    def _write_export(path: str, filings, projects, now) -> None:
        from app.services.exports import workbook

        wb = workbook(path, constant_memory=True, default_date_format="yyyy-mm-dd hh:mm")
        bold = wb.add_format({"bold": True})
        ws = wb.add_worksheet("项目督查汇总")
        header = ["项目编号", "项目名称", "项目类型", "申报单位", "举办地点", "开始时间", "结束时间", "反馈数量",
                  "第一次反馈时间", "最新一次反馈时间", "已反馈/时段数", "完成率", "督查评分", "评分意见", "是否公布"]
        for col, title in enumerate(header):
            ws.write(0, col, title, bold)
            ws.set_column(col, col, 16)
        for r, row in enumerate(projects, start=1):
            for c, value in enumerate(row):
                ws.write(r, c, value)
        ws2 = wb.add_worksheet("时段明细")
        for col, title in enumerate(["项目编号", "项目名称", "督查时段", "状态", "反馈数量", "照片数", "异常照片数"]):
            ws2.write(0, col, title, bold)
            ws2.set_column(col, col, 16)
        r = 1
        periods = sup.period_rows_many(db.session, [f.id for f in filings], now)
        for f in filings:
            for row in periods[f.id]:
                for c, value in enumerate([f.project_no, f.name, row["label"], row["status"], row["feedback"],
                                           row["photos"], row["flagged"]]):
                    ws2.write(r, c, value)
                r += 1
        wb.close()

    @expose("/sms")
    @has_access
    @permission_name("sms")
    def sms(self):
        """短信发送记录 of the development sender (city admin only)."""
        rows = list(db.session.scalars(select(SmsOutbox).order_by(SmsOutbox.id.desc()).limit(100)))
        return self.render_template("supervision/sms.html", rows=rows)


# ================================================================================ phone pages (SUP-5, SUP-6)
def _captcha_text() -> str:
    fixed = current_app.config.get("SUP_CAPTCHA_FIXED")
    if fixed and current_app.config.get("TESTING"):  # test-only: never honoured outside TESTING
        return fixed
    return "".join(secrets.choice("ACDEFHJKLMNPRTUVWXY34679") for _ in range(4))


def _check_captcha() -> None:
    """One try per image: the ticket in the cookie is used up on the server, right or wrong (the
    answer itself never leaves the server)."""
    from app.services import captcha

    ok = captcha.consume(db.session, session.pop("sup_captcha", None), request.form.get("captcha"),
                         datetime.datetime.now())
    db.session.commit()
    if not ok:
        raise sup.SupervisionError("图形验证码不正确，请点击图片换一张后重新输入")


def _limits() -> sup.SmsLimits:
    cfg = current_app.config
    return sup.SmsLimits(ttl_seconds=cfg.get("SUP_SMS_TTL_SECONDS", 300),
                         interval_seconds=cfg.get("SUP_SMS_INTERVAL_SECONDS", 60),
                         daily_max=cfg.get("SUP_SMS_DAILY_MAX", 10))


SUP_CODE_COOKIE = "cme_sup_code"
SUP_CODE_MAX_AGE = 90 * 24 * 3600


def _current_manager() -> SiteManager | None:
    user = acting_user()
    if user is None:
        return None
    manager = db.session.scalar(select(SiteManager).where(SiteManager.user_id == user.id))
    # A regenerated login code ends the sessions opened with the old one at once.
    if manager is None or session.get("sup_code") != manager.login_code or manager.filing.status != "approved":
        return None
    return manager


def mobile_page(letter: bool = True):
    """The phone pages: a site manager whose code is still valid and (unless ``letter`` is False) who has
    accepted the commitment letter; anyone else goes to the phone login page."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            manager = _current_manager()
            if manager is None:
                if acting_user() is not None and SITE_MANAGER in {r.name for r in acting_user().roles}:
                    # Signed in with a password (no code in the session), or with a code since regenerated.
                    expired = bool(session.get("sup_code"))
                    logout_user()
                    session.pop("sup_code", None)
                    flash(_("登录码已失效，请重新扫码登录") if expired else
                          _("现场会务负责人请扫描项目二维码，用手机号和短信验证码登录"), "warning")
                elif request.cookies.get(SUP_CODE_COOKIE):
                    # The session ended (timed out or ended on the server): the login page has the code.
                    flash(_("登录已超时，请重新登录：获取新的短信验证码即可"), "warning")
                if request.method == "POST":
                    abort(403)
                return redirect(url_for("SiteMobileView.login"))
            if letter and manager.letter_accepted_at is None:
                if request.method == "POST":
                    abort(403)
                return redirect(url_for("SiteMobileView.letter"))
            return fn(self, manager, *args, **kwargs)
        return wrapper
    return decorate


class SiteMobileView(BaseView):
    """/m: the 现场会务负责人's phone pages."""

    route_base = "/m"
    default_view = "home"
    base_permissions = ["can_use"]

    def _render(self, template: str, status: int = 200, **kwargs):
        return make_response(self.render_template(template, **kwargs), status)

    # ------------------------------------------------------------------ login
    @expose("/login", methods=["GET", "POST"])
    def login(self):
        code = (request.values.get("code") or "").strip().upper()
        if request.method == "POST":
            phone = request.form.get("phone", "").strip()
            try:
                # No image captcha here: the SMS code, sent only after one was solved, is the proof.
                manager = sup.manager_by_code(db.session, code)
                if manager is None:
                    raise sup.SupervisionError("登录码无效或已失效，请向项目单位索取新的二维码")
                if manager.phone != phone:
                    raise sup.SupervisionError("手机号与该登录码登记的负责人手机号不一致")
                sup.verify_sms_code(db.session, manager, phone, request.form.get("sms_code", ""),
                                    datetime.datetime.now(), _limits())
                user = self._account(manager)
                db.session.commit()
            except sup.SupervisionError as exc:
                db.session.commit()  # keeps the failed attempt count of the SMS code
                record(MODULE, "现场负责人登录", f"{phone}：{exc}", False)
                flash(str(exc), "danger")
                return self._render("supervision/m_login.html", 200, code=code, phone=phone)
            login_user(user)
            session["sup_code"] = manager.login_code
            record(MODULE, "现场负责人登录", phone, True, operator=user.username)
            response = redirect(url_for("SiteMobileView.home"))
            # The phone remembers its login code: after the session ends only a new SMS is needed.
            response.set_cookie(SUP_CODE_COOKIE, manager.login_code, max_age=SUP_CODE_MAX_AGE, httponly=True,
                                samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
            return response
        if not code:  # the code this phone signed in with, while it is still valid
            remembered = (request.cookies.get(SUP_CODE_COOKIE) or "")[:16].upper()
            if remembered and sup.manager_by_code(db.session, remembered) is not None:
                code = remembered
        return self._render("supervision/m_login.html", code=code, phone="")

    def _account(self, manager: SiteManager):
        from app.cli import add_user
        from app.models import CmeUser

        if manager.user_id:
            user = db.session.get(CmeUser, manager.user_id)
            user.first_name, user.last_name = "", manager.name
            return user
        user = add_user(f"site{manager.id}_{secrets.token_hex(4)}", SITE_MANAGER, last_name=manager.name, first_name="",
                        org=manager.filing.institution, password=secrets.token_urlsafe(24))
        manager.user_id = user.id
        return user

    @expose("/captcha.png")
    def captcha(self):
        from captcha.image import ImageCaptcha

        from app.services import captcha

        text = _captcha_text()
        session["sup_captcha"] = captcha.issue(db.session, text, datetime.datetime.now())
        db.session.commit()
        data = ImageCaptcha(width=160, height=60).generate(text).getvalue()
        response = Response(data, mimetype="image/png")
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/sms", methods=["POST"])
    def sms(self):
        """发送短信: needs the login code, the registered phone and the image captcha."""
        phone = request.form.get("phone", "").strip()
        try:
            _check_captcha()
            manager = sup.manager_by_code(db.session, request.form.get("code", ""))
            if manager is None:
                raise sup.SupervisionError("登录码无效或已失效，请向项目单位索取新的二维码")
            code = sup.issue_sms_code(db.session, manager, phone, datetime.datetime.now(), _limits())
            from app.services.sms import sender

            sender(current_app.config).send(phone, f"【继续医学教育项目督查】验证码{code}，5分钟内有效，请勿泄露。",
                                            params={"code": code})  # a failed send is an SmsError
            db.session.commit()
        except sup.SupervisionError as exc:
            db.session.rollback()
            return jsonify(ok=False, message=str(exc)), 422
        return jsonify(ok=True, message=_("验证码已发送"))

    @expose("/logout", methods=["POST"])
    def logout(self):
        user = acting_user()
        user = user._get_current_object() if hasattr(user, "_get_current_object") else user
        logout_user()
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)  # ends copies of this session too (issue 17.5)
        session.pop("sup_code", None)
        return redirect(url_for("SiteMobileView.login"))

    # ------------------------------------------------------------------ letter
    @expose("/letter", methods=["GET", "POST"])
    @mobile_page(letter=False)
    def letter(self, manager):
        if manager.letter_accepted_at is not None:
            return redirect(url_for("SiteMobileView.home"))
        if request.method == "POST":
            if request.form.get("agree") != "1":
                flash(_("请勾选“我已阅读以上承诺内容并知晓”"), "danger")
            else:
                manager.letter_accepted_at = datetime.datetime.now()
                db.session.commit()
                record(MODULE, "签署承诺书", manager.filing.project_no)
                return redirect(url_for("SiteMobileView.home"))
        return self._render("supervision/m_letter.html", manager=manager, letter=LETTER)

    # ------------------------------------------------------------------ periods
    @expose("/")
    @mobile_page()
    def home(self, manager):
        now = datetime.datetime.now()
        submitted = set(db.session.scalars(select(Feedback.period_id).where(
            Feedback.manager_id == manager.id, Feedback.submitted_at.is_not(None))))
        rows = [(p, sup.period_status(p, now, p.id in submitted)) for p in manager.filing.periods]
        docs = {k: attachments.of(f"sup_{k}", manager.filing_id) for k in DOC_KINDS}
        return self._render("supervision/m_home.html", manager=manager, rows=rows, docs=docs, doc_kinds=DOC_KINDS)

    @expose("/doc/<int:att_id>")
    @mobile_page()
    def doc(self, manager, att_id):
        att = db.session.get(Attachment, att_id)
        if att is None or att.owner_id != manager.filing_id or att.owner_type not in ("sup_notice", "sup_schedule"):
            abort(404)
        return _send(att, download=True)

    def _period(self, manager: SiteManager, pid: int) -> Period:
        period = db.session.get(Period, pid)
        if period is None or period.filing_id != manager.filing_id:
            abort(404)
        return period

    @expose("/period/<int:pid>")
    @mobile_page()
    def period(self, manager, pid):
        period = self._period(manager, pid)
        return self._period_page(manager, period)

    def _period_page(self, manager, period, error: str | None = None, status: int = 200):
        now = datetime.datetime.now()
        fb = sup.feedback_for(db.session, period, manager)
        by_slot = {(p.slot, p.lecturer_no): p for p in (fb.photos if fb else [])}
        return self._render("supervision/m_period.html", status, manager=manager, period=period, feedback=fb,
                            by_slot=by_slot, fixed=[(s, PHOTO_SLOTS[s]) for s in FIXED_SLOTS],
                            lecturers=fb.lecturers if fb else 1, editable=sup.is_open(period, now),
                            status_label=sup.period_status(period, now, bool(fb and fb.submitted_at)),
                            missing=sup.missing_photos(fb) if fb else [], error=error)

    def _open_feedback(self, manager, pid):
        period = self._period(manager, pid)
        sup.check_open(period, datetime.datetime.now())
        return period, sup.feedback_for(db.session, period, manager, create=True)

    def _post(self, manager, pid, action):
        """Run one change of the period's feedback; a passed (or not started) period answers 403."""
        try:
            period, fb = self._open_feedback(manager, pid)
            message = action(period, fb)
            db.session.commit()
        except sup.SupervisionError as exc:
            db.session.rollback()
            period = self._period(manager, pid)
            closed = not sup.is_open(period, datetime.datetime.now())
            return self._period_page(manager, period, str(exc), 403 if closed else 422)
        except (UploadError, photos.PhotoError) as exc:
            db.session.rollback()
            return self._period_page(manager, self._period(manager, pid), str(exc), 422)
        if message:
            flash(message, "success")
        return redirect(url_for("SiteMobileView.period", pid=pid))

    @expose("/period/<int:pid>/photo", methods=["POST"])
    @mobile_page()
    @once
    def upload_photo(self, manager, pid):
        def action(period, fb):
            slot = request.form.get("slot", "")
            try:
                number = int(request.form.get("lecturer_no") or 0) if slot == "lecturer" else 0
            except ValueError:
                number = -1
            photo = sup.add_photo(db.session, period, fb, slot, number, request.files.get("photo"),
                                  max_bytes=current_app.config.get("SUP_PHOTO_MAX_BYTES", 10 * 1024 * 1024),
                                  user_id=acting_user().id,
                                  browser_time=sup.parse_datetime(request.form.get("browser_time", "")),
                                  browser_lat=_float(request.form.get("lat"), 90),
                                  browser_lon=_float(request.form.get("lon"), 180))
            return (_("%(label)s照片已上传", label=sup.photo_label(photo.slot, photo.lecturer_no))
                    + (f"（{photo.flags}）" if photo.flags else ""))
        return self._post(manager, pid, action)

    @expose("/period/<int:pid>/photo/<int:photo_id>/delete", methods=["POST"])
    @mobile_page()
    def delete_photo(self, manager, pid, photo_id):
        def action(period, fb):
            photo = next((p for p in fb.photos if p.id == photo_id), None)
            if photo is None:
                abort(404)
            sup.drop_photo(db.session, fb, photo)
            return _("照片已删除")
        return self._post(manager, pid, action)

    @expose("/period/<int:pid>/lecturer", methods=["POST"])
    @mobile_page()
    @once
    def lecturer(self, manager, pid):
        def action(period, fb):
            if request.form.get("op") == "remove":
                sup.remove_lecturer(db.session, fb)
                return _("已删除主讲教师")
            sup.add_lecturer(fb)
            return _("已添加主讲教师")
        return self._post(manager, pid, action)

    @expose("/period/<int:pid>/submit", methods=["POST"])
    @mobile_page()
    def submit(self, manager, pid):
        def action(period, fb):
            sup.submit_feedback(fb)
            return _("本时段督查信息已提交")
        response = self._post(manager, pid, action)
        if response.status_code == 302:  # logged after the commit (its own connection)
            record(MODULE, "提交督查信息", f"{manager.filing.project_no} {self._period(manager, pid).label}",
                   operator=acting_user().username)
        return response

    @expose("/photo/<int:photo_id>")
    @mobile_page()
    def photo(self, manager, photo_id):
        photo = db.session.get(FeedbackPhoto, photo_id)
        if photo is None or photo.feedback.manager_id != manager.id:
            abort(404)
        return _send(db.session.get(Attachment, photo.original_id if request.args.get("original") == "1"
                                    else photo.stamped_id))


def _float(value, limit: float):
    """A latitude (limit 90) or longitude (limit 180) sent by the page; None when missing or absurd."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit else None


# ================================================================================ registration
def register(appbuilder) -> None:
    cat = "项目督查"
    appbuilder.add_view(FilingView, "项目报备", label=_l("项目报备"), icon="fa-file-signature", category=cat,
                        category_label=_l("项目督查"), category_icon="fa-binoculars")
    appbuilder.add_view(FilingReviewView, "报备审核", label=_l("报备审核"), icon="fa-clipboard-check", category=cat)
    appbuilder.add_view(SupervisionView, "督查管理", label=_l("督查管理"), icon="fa-tasks", category=cat)
    appbuilder.add_link("短信发送记录", href="/supervision/sms", label=_l("短信发送记录"), icon="fa-sms",
                        category=cat)
    appbuilder.add_view_no_menu(SiteMobileView)
