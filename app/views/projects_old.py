"""继教项目 (seed 003 继续医学教育项目; ICME-4/5): 添加继教项目 (catalogue), 继教项目管理, 课题 with
课程微信签到时间设置 and QR codes, card-reader uploads, grants, attendee lists and exports, the city's list of
flagged projects, and the public phone sign-in page.

Projects, topics, check-ins and uploads load through the user's data scope: a guessed id of another unit's
row answers 404. The sign-in page (/signin/<token>) is public: its token is the topic's, and it works only
inside the topic's sign-in window.
"""
from __future__ import annotations

import datetime

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.widgets import ListWidget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from wtforms import SelectField, StringField
from wtforms.validators import Optional

from app.extensions import db
from app.models import DictItem, DictType, Org, Person
from app.models.projects import (
    CHECKIN_SOURCES,
    PROJECT_CATEGORIES,
    AttendanceUpload,
    CheckIn,
    Holiday,
    Project,
    ProjectCatalog,
    SwipeProblem,
    Topic,
)
from app.oplog import record
from app.services import checkin as checkins
from app.services import credit_rules
from app.services import projects as svc
from app.views.base import (
    ExportMixin,
    InputError,
    ScopedModelView,
    ScopeFilter,
    acting_user,
    current_scope,
    qr_png_response,
)
from app.views.credits import _BOX, ChoiceFiltersMixin, FilterChoice, _choices
from app.views.submit import once

MODULE = "继教项目"
ATTENDEE_PAGE = 200
CATALOG_LABELS = {"approval_no": _l("审批编号"), "name": _l("项目名称"), "category": _l("学分类别"),
                  "subject": _l("学科"), "credits": _l("总学分"), "hours": _l("总学时"), "year": _l("年度"),
                  "organizer": _l("主办单位"), "planned_count": _l("计划人数")}
PROJECT_LABELS = {**CATALOG_LABELS, "approval_no": _l("项目编号"), "organizer": _l("原主办单位"),
                  "institution": _l("举办单位"), "starts_on": _l("讲授开始日期"), "ends_on": _l("讲授结束日期"),
                  "major": _l("项目专业"), "assessment": _l("考核方式"), "activity_form": _l("活动形式"),
                  "description": _l("描述"), "applied_on": _l("举办申请日期"), "credited_count": _l("授分人数"),
                  "flagged": _l("异常"), "flag_text": _l("异常提示"), "apply_late": _l("举办申请不足5个工作日"),
                  "count_out_of_range": _l("授分人数超出计划±20%"), "upload_late": _l("刷卡数据逾期上传"),
                  "duplicate_count": _l("重复签到次数"), "last_upload_at": _l("最近上传时间")}
TOPIC_LABELS = {"project": _l("所属项目"), "code": _l("课题ID"), "name": _l("名称"), "lecturer": _l("主讲教师"),
                "lecturer_unit": _l("主讲教师所在单位"), "lecturer_title": _l("技术职务"), "credits": _l("学分"),
                "hours": _l("小时"), "place": _l("上课地点"), "starts_at": _l("授课开始时间"),
                "ends_at": _l("授课结束时间"), "signin_from": _l("签到开始时间"), "signin_to": _l("签到结束时间"),
                "description": _l("描述"), "lecturer_card": _l("主讲教师IC卡号"), "window": _l("签到时间")}


def _date(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _num(value) -> str:
    return svc._n(value) if value is not None else ""


def _dict_choices(code: str):
    def load():
        labels = db.session.scalars(select(DictItem.label).join(DictType).where(
            DictType.code == code, DictItem.active.is_(True)).order_by(DictItem.sort, DictItem.id))
        return [("", "")] + [(v, v) for v in labels]
    return load


def _institution() -> Org | None:
    org = getattr(acting_user(), "org", None)
    if org is None or not org.institution_id:
        return None
    return db.session.get(Org, org.institution_id)


# =============================================================================== 添加继教项目 (catalogue)
class CatalogListWidget(ListWidget):
    """The catalogue list with a 添加此项目 button on each row (seed 003)."""

    template = "projects/_catalog_list_widget.html"

    def __call__(self, **kwargs):
        sm = current_app.appbuilder.sm
        kwargs["can_adopt"] = sm.has_access("can_adopt", "ProjectCatalogView") and _institution() is not None
        inst = _institution()
        kwargs["adopted"] = set(db.session.scalars(select(Project.catalog_id).where(
            Project.institution_id == inst.id))) if inst is not None else set()
        return super().__call__(**kwargs)


class ProjectCatalogView(ChoiceFiltersMixin, ExportMixin, ModelView):
    """申报项目目录: the city keeps it (add, edit, import); units search it and 添加此项目."""

    datamodel = SQLAInterface(ProjectCatalog)
    route_base = "/project-catalog"
    list_title = _l("添加继教项目")
    add_title = _l("新增申报项目")
    edit_title = _l("编辑申报项目")
    show_title = _l("申报项目详情")
    label_columns = CATALOG_LABELS
    list_columns = ["approval_no", "name", "category", "subject", "credits", "hours", "year", "organizer",
                    "planned_count"]
    show_columns = list_columns
    add_columns = edit_columns = list_columns
    search_columns = ["year", "name", "approval_no", "category", "subject"]
    custom_filters = {"category": [FilterChoice]}
    search_form_extra_fields = {"category": SelectField(_l("学分类别"), choices=_choices(
        {c: c for c in PROJECT_CATEGORIES}), render_kw=_BOX)}
    add_form_extra_fields = edit_form_extra_fields = {
        "category": SelectField(_l("学分类别"), choices=[(c, c) for c in PROJECT_CATEGORIES], render_kw=_BOX),
        "subject": SelectField(_l("学科"), choices=_dict_choices("subject"), validators=[Optional()], render_kw=_BOX)}
    base_order = ("id", "desc")
    page_size = 20
    list_widget = CatalogListWidget
    list_template = "projects/catalog_list.html"
    formatters_columns = {"credits": _num, "hours": _num}
    export_columns = list_columns
    export_name = "继教项目目录"

    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    def _check(self, item: ProjectCatalog) -> None:
        from app.services.catalog_import import APPROVAL_RE

        item.approval_no = (item.approval_no or "").strip().replace("（", "(").replace("）", ")")
        if not APPROVAL_RE.match(item.approval_no):
            raise InputError(_("审批编号格式不正确，应如 2025-14-03-020 (京)"))
        for name, label in (("credits", _("总学分")), ("hours", _("总学时"))):
            if getattr(item, name) is None or getattr(item, name) <= 0:
                raise InputError(_("%(label)s必须大于0", label=label))
        if not item.planned_count or item.planned_count <= 0:
            raise InputError(_("计划人数必须大于0"))
        item.subject = item.subject or None

    pre_add = pre_update = _check

    # A refused edit must not leave the populated row dirty in the session (see ScopedModelView._edit).
    def _edit(self, pk):
        from app.views.base import _discard_pending

        try:
            return super()._edit(pk)
        finally:
            _discard_pending()

    def pre_delete(self, item: ProjectCatalog) -> None:
        if db.session.scalar(select(Project.id).where(Project.catalog_id == item.id).limit(1)) is not None:
            raise InputError(_("已有单位添加了该项目，不能删除"))

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            from app.models import Job

            job = None
            if request.args.get("job"):
                job = db.session.get(Job, request.args["job"])
                if job is None or job.user_id != acting_user().id or job.kind != "catalog_import":
                    job = None
            kwargs["job"] = job
            kwargs["can_import"] = self.appbuilder.sm.has_access("can_import", "ProjectCatalogView")
        return super().render_template(template, **kwargs)

    @expose("/adopt/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("adopt")
    @once
    def adopt(self, pk):
        """添加此项目 → the project's page to complete the details (seed 003 第一步)."""
        catalog = db.session.get(ProjectCatalog, pk)
        if catalog is None:
            abort(404)
        try:
            project = svc.adopt(db.session, catalog, _institution())
            db.session.commit()
        except svc.ProjectError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("ProjectCatalogView.list"))
        record(MODULE, "添加此项目", f"{catalog.approval_no} {catalog.name}")
        flash(_("已添加项目，请完善项目信息后添加课题"), "success")
        return redirect(url_for("ProjectView.edit", pk=project.id))

    @expose("/import/", methods=["POST"])
    @has_access
    @permission_name("import")
    @once
    def import_(self):
        from app.jobs.imports import start_import
        from app.services.uploads import UploadError

        try:
            job, again = start_import(request.files.get("file"), kind="catalog_import",
                                      func_path="app.jobs.projects:import_catalog", user_id=acting_user().id,
                                      title=_("继教项目目录导入"), max_bytes=current_app.config["IMPORT_MAX_BYTES"])
        except UploadError as exc:
            db.session.rollback()
            record(MODULE, "导入项目目录", f"上传被拒绝：{exc}", False)
            flash(str(exc), "danger")
            return redirect(url_for("ProjectCatalogView.list"))
        if again:
            flash(_("该文件已于%(time)s上传，未重复导入；以下是那次导入的进度和结果",
                    time=f"{job.created_at:%H:%M:%S}"), "info")
        return redirect(url_for("ProjectCatalogView.list", job=job.id))

    @expose("/import/template/")
    @has_access
    @permission_name("import")
    def import_template(self):
        from app.services.catalog_import import template_workbook

        return send_file(template_workbook(), as_attachment=True, download_name="继教项目导入模板.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# =============================================================================== 继教项目管理
def _flag_text(project: Project) -> str:
    parts = []
    if project.apply_late:
        parts.append(_("举办申请不足5个工作日"))
    if project.count_out_of_range:
        parts.append(_("授分人数超出计划±20%"))
    if project.upload_late:
        parts.append(_("刷卡数据逾期上传"))
    if project.duplicate_count:
        parts.append(_("重复签到%(n)s次", n=project.duplicate_count))
    return "；".join(parts)


class ProjectView(ScopedModelView):
    """继教项目管理: the unit's projects; details, 举办申请, topics, check-ins, grant, attendees."""

    datamodel = SQLAInterface(Project)
    route_base = "/projects"
    list_title = _l("继教项目管理")
    edit_title = _l("完善继教项目信息")
    show_title = _l("继教项目详情")
    label_columns = PROJECT_LABELS
    list_columns = ["approval_no", "name", "category", "institution", "credits", "hours", "starts_on", "ends_on",
                    "planned_count", "credited_count", "flagged"]
    edit_columns = ["starts_on", "ends_on", "major", "assessment", "activity_form", "description"]
    search_columns = ["year", "name", "approval_no", "category", "flagged", "starts_on"]
    base_order = ("id", "desc")
    formatters_columns = {"credits": _num, "hours": _num, "flagged": lambda v: _("是") if v else ""}
    edit_form_extra_fields = {
        "major": SelectField(_l("项目专业"), choices=_dict_choices("subject"), validators=[Optional()],
                             render_kw=_BOX),
        "assessment": SelectField(_l("考核方式"), choices=_dict_choices("assessment"), validators=[Optional()],
                                  render_kw=_BOX),
        "activity_form": SelectField(_l("活动形式"), choices=_dict_choices("activity_form"),
                                     validators=[Optional()], render_kw=_BOX)}
    description_columns = {"starts_on": _l("讲授时间（开始）"), "ends_on": _l("讲授时间（结束）")}
    export_columns = ["approval_no", "name", "category", "institution", "credits", "hours", "year", "starts_on",
                      "ends_on", "applied_on", "planned_count", "credited_count", "flag_text"]
    export_formatters = {"flag_text": _flag_text, "credits": lambda p: float(p.credits),
                         "hours": lambda p: float(p.hours)}
    export_name = "继教项目"
    show_template = "projects/project_show.html"

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """Projects come from the catalogue (添加此项目), never from a blank form."""
        return redirect(url_for("ProjectCatalogView.list"))

    def pre_update(self, item: Project) -> None:
        try:
            svc.check_details(item)
        except svc.ProjectError as exc:
            raise InputError(str(exc)) from None
        svc.refresh_flags(db.session, item)

    def post_update(self, item: Project) -> None:
        self._next = url_for("ProjectView.show", pk=item.id)

    def pre_delete(self, item: Project) -> None:
        if db.session.scalar(select(CheckIn.id).where(CheckIn.project_id == item.id).limit(1)) is not None:
            raise InputError(_("项目已有签到记录，不能删除"))
        # Uploads that matched nobody (only unknown cards) go with the project.
        db.session.execute(delete(SwipeProblem).where(SwipeProblem.project_id == item.id))
        db.session.execute(delete(AttendanceUpload).where(AttendanceUpload.project_id == item.id))

    def get_redirect(self):
        nxt = getattr(self, "_next", None)
        if nxt:
            self._next = None
            return nxt
        return super().get_redirect()

    def _project(self, pk) -> Project:
        project = db.session.scalar(current_scope().filter(select(Project).where(Project.id == pk), Project))
        if project is None:
            abort(404)
        return project

    def _writable(self, pk) -> Project:
        """Write actions: only the holding unit (a district / city admin reads)."""
        project = self._project(pk)
        inst = _institution()
        if inst is None or inst.id != project.institution_id:
            abort(403)
        return project

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        project = self._project(pk)
        flags = svc.refresh_flags(db.session, project)
        db.session.commit()
        project = self._project(pk)
        page = max(0, request.args.get("page", 0, type=int))
        rows = list(db.session.execute(svc.attendees_query(project).offset(page * ATTENDEE_PAGE).limit(ATTENDEE_PAGE)))
        total = db.session.scalar(select(func.count(CheckIn.id)).where(CheckIn.project_id == project.id))
        upload = db.session.scalar(select(AttendanceUpload).where(AttendanceUpload.project_id == project.id)
                                   .order_by(AttendanceUpload.id.desc()).limit(1))
        problems = list(db.session.scalars(select(SwipeProblem).where(SwipeProblem.upload_id == upload.id)
                                           .order_by(SwipeProblem.row).limit(500))) if upload else []
        pending = db.session.scalar(select(func.count(CheckIn.id)).where(
            CheckIn.project_id == project.id, CheckIn.duplicate.is_(False), CheckIn.credited.is_(False)))
        inst = _institution()
        return self.render_template(
            self.show_template, project=project, flags=flags, messages=flags.messages(project, db.session),
            rows=rows, total=total, page=page, pages=(total + ATTENDEE_PAGE - 1) // ATTENDEE_PAGE,
            upload=upload, problems=problems, pending=pending, sources=CHECKIN_SOURCES,
            owner=inst is not None and inst.id == project.institution_id, today=datetime.date.today(),
            can_topic=self.appbuilder.sm.has_access("can_add", "TopicView"), fmt=_num)

    @expose("/apply/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("apply")
    def apply(self, pk):
        """举办申请: filed today (the date the system records); flagged when fewer than 5 working days ahead."""
        project = self._writable(pk)
        try:
            flags = svc.file_application(db.session, project, datetime.date.today())
            db.session.commit()
        except svc.ProjectError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("ProjectView.show", pk=pk))
        record(MODULE, "举办申请", f"{project.approval_no} {project.name}")
        if flags.apply_late:
            flash(_("已提交举办申请。距项目开始仅%(n)s个工作日，不足规定的%(m)s个工作日，已标记提示", n=flags.workdays,
                    m=svc.parameter(db.session, "holding_apply_workdays")), "warning")
        else:
            flash(_("已提交举办申请"), "success")
        return redirect(url_for("ProjectView.show", pk=pk))

    @expose("/attendance/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("attendance")
    @once
    def attendance(self, pk):
        """Upload a card-reader export (CSV or .xlsx): swipes matched, problems listed back."""
        project = self._writable(pk)
        storage = request.files.get("file")
        if storage is None or not storage.filename:
            flash(_("请选择要上传的文件"), "danger")
            return redirect(url_for("ProjectView.show", pk=pk))
        max_bytes = current_app.config["IMPORT_MAX_BYTES"]
        data = storage.stream.read(max_bytes + 1)
        try:
            swipes = checkins.read_swipes(data, max_bytes)
            result = checkins.import_swipes(db.session, project, swipes, storage.filename,
                                            getattr(acting_user(), "username", None))
            db.session.commit()
        except checkins.CheckInError as exc:
            db.session.rollback()
            record(MODULE, "上传刷卡数据", f"{project.approval_no}：{exc}", False)
            flash(str(exc), "danger")
            return redirect(url_for("ProjectView.show", pk=pk))
        record(MODULE, "上传刷卡数据", f"{project.approval_no} 共{len(swipes)}条")
        flash(_("已上传%(total)s条刷卡记录：签到%(ok)s人次，重复%(dup)s条，未知卡号%(unknown)s条，不在课题时间内%(out)s条",
                total=len(swipes), ok=result.matched, dup=result.duplicates, unknown=len(result.unknown),
                out=len(result.outside)), "success" if not (result.unknown or result.outside) else "warning")
        if result.upload.late:
            flash(_("刷卡数据上传时间晚于项目结束后%(n)s天，已标记提示",
                    n=svc.parameter(db.session, "attendance_upload_days")), "warning")
        return redirect(url_for("ProjectView.show", pk=pk) + "#attendance")

    @expose("/checkin/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("checkin")
    @once
    def checkin(self, pk):
        """手工签到: the organizer adds one person (by IC card number) to one topic."""
        project = self._writable(pk)
        topic = db.session.scalar(select(Topic).where(Topic.id == request.form.get("topic_id", type=int),
                                                      Topic.project_id == project.id))
        card = (request.form.get("card_no") or "").strip()
        person = db.session.scalar(select(Person).where(Person.card_no == card)) if card else None
        if topic is None:
            flash(_("请选择课题"), "danger")
        elif person is None:
            flash(_("IC卡号“%(card)s”不存在", card=card), "danger")
        else:
            outcome = checkins.check_in(db.session, topic, person, "manual", datetime.datetime.now())
            svc.refresh_flags(db.session, project)
            db.session.commit()
            record(MODULE, "手工签到", f"{project.approval_no} {topic.code} {person.card_no}")
            # Attendees come from the whole city, but a card number must not tell a unit the name of
            # anyone outside its scope: those are shown as surname + card number (issue 17.8).
            name = person.name if current_scope().allows(person) else \
                f"{person.name[:1]}{'*' * max(1, len(person.name) - 1)}（{person.card_no}）"
            if outcome.duplicate:
                flash(_("%(name)s已签到课题%(code)s，本次记为重复签到，不重复授分", name=name, code=topic.code),
                      "warning")
            else:
                flash(_("%(name)s已签到课题%(code)s", name=name, code=topic.code), "success")
        return redirect(url_for("ProjectView.show", pk=pk) + "#attendance")

    @expose("/grant/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("grant")
    @once
    def grant(self, pk):
        project = self._writable(pk)
        try:
            report = svc.grant(db.session, project, getattr(acting_user(), "username", None))
            db.session.commit()
        except (svc.ProjectError, credit_rules.RuleError) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("ProjectView.show", pk=pk))
        record(MODULE, "授分", f"{project.approval_no}：学员{report.attendees}条，主讲人{report.lecturers}条")
        flash(_("授分完成：学员%(a)s条，主讲人%(l)s条，共%(c)s分", a=report.attendees, l=report.lecturers,
                c=_num(report.credits)), "success")
        for message in report.skipped:
            flash(message, "warning")
        return redirect(url_for("ProjectView.show", pk=pk))

    @expose("/attendees/<int:pk>.xlsx")
    @has_access
    @permission_name("export")
    def attendees(self, pk):
        """参会人员名单 (streamed): check-in source and credits per person and topic."""
        from app.services.exports import stream_xlsx

        project = self._project(pk)
        header = [_("IC卡号"), _("姓名"), _("单位"), _("课题ID"), _("课题名称"), _("签到方式"), _("签到时间"),
                  _("读卡器编号"), _("状态"), _("学分")]

        def rows():
            for r in db.session.execute(svc.attendees_query(project).execution_options(yield_per=1000)):
                yield [r.card_no, r.name, r.institution or "", r.code, r.topic, CHECKIN_SOURCES.get(r.source, r.source),
                       _date(r.checked_at), r.reader_id or "", _status(r),
                       float(r.credits) if r.credits is not None else ""]

        record(MODULE, "导出", f"{project.approval_no} 参会人员")
        return stream_xlsx(f"{project.approval_no}-参会人员-{datetime.date.today():%Y%m%d}.xlsx", header, rows())


def _status(row) -> str:
    if row.duplicate:
        return _("重复签到")
    return _("已授分") if row.credited else _("待授分")


class ProjectFlagView(ProjectView):
    """项目异常提示: the flagged projects (for the city office; districts see their own)."""

    route_base = "/projects-flagged"
    list_title = _l("项目异常提示")
    base_filters = ScopedModelView.base_filters + [["flagged", FilterEqual, True]]
    list_columns = ["approval_no", "name", "institution", "starts_on", "ends_on", "applied_on", "planned_count",
                    "credited_count", "apply_late", "count_out_of_range", "upload_late", "duplicate_count"]
    search_columns = ["year", "name", "approval_no", "apply_late", "count_out_of_range", "upload_late"]
    formatters_columns = {**ProjectView.formatters_columns,
                          **{c: (lambda v: _("是") if v else "") for c in ("apply_late", "count_out_of_range",
                                                                          "upload_late")}}
    export_name = "项目异常提示"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return redirect(url_for("ProjectView.show", pk=self._project(pk).id))


# =============================================================================== 课题 and 签到时间设置
class TopicView(ScopedModelView):
    datamodel = SQLAInterface(Topic)
    route_base = "/topics"
    list_title = _l("课程微信签到时间设置")
    add_title = _l("添加课题")
    edit_title = _l("编辑课题")
    show_title = _l("课题详情")
    label_columns = TOPIC_LABELS
    list_columns = ["project", "code", "name", "lecturer", "lecturer_unit", "lecturer_title", "credits", "hours",
                    "place", "starts_at", "window"]
    show_columns = ["project", "code", "name", "lecturer", "lecturer_unit", "lecturer_title", "credits", "hours",
                    "place", "starts_at", "ends_at", "signin_from", "signin_to", "description"]
    add_columns = ["project", "code", "name", "lecturer", "lecturer_card", "lecturer_unit", "lecturer_title",
                   "credits", "hours", "place", "starts_at", "ends_at", "signin_from", "signin_to", "description"]
    edit_columns = add_columns
    search_columns = ["project", "code", "name", "lecturer", "starts_at"]
    base_order = ("starts_at", "desc")
    formatters_columns = {"credits": _num, "hours": _num, "starts_at": _date, "ends_at": _date,
                          "signin_from": _date, "signin_to": _date}
    description_columns = {"signin_from": _l("课程微信签到时间设置：签到二维码只在此时间内有效"),
                           "lecturer_card": _l("填写后可为主讲教师授予主讲人学分")}
    show_template = "projects/topic_show.html"

    def __init__(self, **kwargs):
        scoped = [["id", ScopeFilter, None]]
        self.add_form_query_rel_fields = {"project": scoped}
        self.edit_form_query_rel_fields = {"project": scoped}
        self.search_form_query_rel_fields = {"project": scoped}
        self.add_form_extra_fields = {"lecturer_card": StringField(_l("主讲教师IC卡号"), validators=[Optional()],
                                                                   render_kw=_BOX)}
        self.edit_form_extra_fields = self.add_form_extra_fields
        super().__init__(**kwargs)

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None and item.lecturer_person is not None:
            form.lecturer_card.data = item.lecturer_person.card_no

    def _check(self, item: Topic) -> None:
        project = item.project
        if project is None or not current_scope().allows(project):
            raise InputError(_("请选择所属继教项目"))
        inst = _institution()
        if inst is None or inst.id != project.institution_id:
            raise InputError(_("只有举办单位可以添加或修改课题"))
        card = (request.form.get("lecturer_card") or "").strip()
        if card:
            person = db.session.scalar(select(Person).where(Person.card_no == card))
            if person is None:
                raise InputError(_("主讲教师IC卡号“%(card)s”不存在", card=card))
            item.lecturer_person_id = person.id
        else:
            item.lecturer_person_id = None
        try:
            svc.check_topic(db.session, item)
        except svc.ProjectError as exc:
            raise InputError(str(exc)) from None

    def pre_add(self, item: Topic) -> None:
        self._check(item)

    def pre_update(self, item: Topic) -> None:
        if item.lecturer_credited or db.session.scalar(select(CheckIn.id).where(
                CheckIn.topic_id == item.id, CheckIn.credited.is_(True)).limit(1)) is not None:
            old_hours = db.session.scalar(select(Topic.hours).where(Topic.id == item.id))
            if old_hours is not None and float(old_hours) != float(item.hours):
                raise InputError(_("课题已授分，不能修改学时"))
        self._check(item)

    def pre_delete(self, item: Topic) -> None:
        if db.session.scalar(select(CheckIn.id).where(CheckIn.topic_id == item.id).limit(1)) is not None:
            raise InputError(_("课题已有签到记录，不能删除"))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        topic = self._scoped_get(pk)
        return self.render_template(self.show_template, topic=topic, url=_signin_url(topic),
                                    window=checkins.window_text(topic), fmt=_num,
                                    open=svc.in_window(topic, datetime.datetime.now()))

    @expose("/qr/<int:pk>.png")
    @has_access
    @permission_name("qr")
    def qr(self, pk):
        """The sign-in QR code of a topic in scope (seed 003: 微信签到)."""
        topic = self._scoped_get(pk)
        return qr_png_response(_signin_url(topic))


def _signin_url(topic: Topic) -> str:
    return url_for("SignInView.signin", token=topic.qr_token, _external=True)


# =============================================================================== phone sign-in (public)
# The public form must not let anyone try all 10,000 "last 4 digits" of a card: failed attempts per card
# number are counted in the operation log (one indexed query) and lock the card for a while.
SIGNIN_MAX_FAILURES = 5
SIGNIN_LOCK_MINUTES = 15


def _signin_failures(card: str, now: datetime.datetime) -> int:
    from app.models import OperationLog

    if not card:
        return 0
    since = now - datetime.timedelta(minutes=SIGNIN_LOCK_MINUTES)
    return db.session.scalar(select(func.count(OperationLog.id)).where(
        OperationLog.operator == card, OperationLog.module == MODULE, OperationLog.action == "扫码签到",
        OperationLog.status.is_(False), OperationLog.created_at >= since)) or 0


class SignInView(BaseView):
    """扫码签到 on the technician's phone: inside the topic's window, by login or card + name + ID last 4."""

    route_base = "/signin"
    default_view = "signin"

    @expose("/<token>", methods=["GET", "POST"])
    def signin(self, token):
        topic = db.session.scalar(select(Topic).where(Topic.qr_token == token)) if len(token) <= 48 else None
        if topic is None:
            return self.render_template("projects/signin.html", topic=None, error=_("签到二维码无效")), 404
        now = datetime.datetime.now()
        window = checkins.window_text(topic)
        if not svc.in_window(topic, now):
            error = (_("本课题未设置签到时间，不能签到") if topic.signin_from is None else
                     _("不在签到时间内，不能签到（签到时间：%(w)s）", w=window))
            return self.render_template("projects/signin.html", topic=topic, error=error, window=window), 403
        user = acting_user()
        me = db.session.get(Person, user.person_id) if user is not None and getattr(user, "person_id", None) else None
        if request.method == "POST":
            if request.form.get("as_me") and me is not None:
                person = me
            else:
                card = (request.form.get("card_no") or "").strip()[:32]
                person = None
                locked = _signin_failures(card, now) >= SIGNIN_MAX_FAILURES
                if not locked:
                    person = checkins.find_signer(db.session, card, request.form.get("name"),
                                                  request.form.get("id_last4"))
                if person is None:
                    if not locked:
                        record(MODULE, "扫码签到", f"验证失败 {topic.project.approval_no} {topic.code}", False,
                               operator=card or "-")
                    error = (_("验证失败次数过多，请%(m)s分钟后再试，或请会务人员手工签到", m=SIGNIN_LOCK_MINUTES)
                             if locked else _("卡号、姓名或身份证号后4位不正确"))
                    return self.render_template("projects/signin.html", topic=topic, window=window, me=me,
                                                error=error, form=request.form,
                                                login_url=self.appbuilder.get_url_for_login_with(request.url)), (
                        429 if locked else 422)
            outcome = checkins.check_in(db.session, topic, person, "qr", now)
            svc.refresh_flags(db.session, topic.project)
            db.session.commit()
            record(MODULE, "扫码签到", f"{topic.project.approval_no} {topic.code} {person.card_no}"
                   + ("（重复）" if outcome.duplicate else ""), operator=person.card_no)
            return self.render_template("projects/signin.html", topic=topic, window=window, done=True,
                                        duplicate=outcome.duplicate, person=person, at=now)
        return self.render_template("projects/signin.html", topic=topic, window=window, me=me, form={},
                                    login_url=self.appbuilder.get_url_for_login_with(request.url))


# =============================================================================== 节假日设置
class HolidayView(ModelView):
    """法定节假日与调休: the data the 5-working-day rule counts with (city office)."""

    datamodel = SQLAInterface(Holiday)
    route_base = "/holidays"
    list_title = _l("节假日设置")
    add_title = _l("新增节假日")
    edit_title = _l("编辑节假日")
    show_title = _l("节假日详情")
    label_columns = {"day": _l("日期"), "name": _l("名称"), "workday": _l("调休上班")}
    list_columns = ["day", "name", "workday"]
    add_columns = edit_columns = show_columns = list_columns
    search_columns = ["day", "name", "workday"]
    base_order = ("day", "desc")
    formatters_columns = {"workday": lambda v: _("是") if v else _("否")}
    description_columns = {"workday": _l("勾选表示该日虽为周末但需上班（调休）；不勾选表示该日放假")}

    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    def _init_forms(self):
        from app.views.base import checkbox_may_stay_unticked

        super()._init_forms()
        for form in (self.add_form, self.edit_form):
            checkbox_may_stay_unticked(form)


def register(appbuilder) -> None:
    cat = "继教项目"
    appbuilder.add_view(ProjectCatalogView, "添加继教项目", label=_l("添加继教项目"), icon="fa-search-plus",
                        category=cat, category_label=_l("继教项目"), category_icon="fa-chalkboard-teacher")
    appbuilder.add_view(ProjectView, "继教项目管理", label=_l("继教项目管理"), icon="fa-list-alt", category=cat)
    appbuilder.add_view(TopicView, "课程微信签到时间设置", label=_l("课程微信签到时间设置"), icon="fa-qrcode",
                        category=cat)
    appbuilder.add_view(ProjectFlagView, "项目异常提示", label=_l("项目异常提示"), icon="fa-exclamation-triangle",
                        category=cat)
    appbuilder.add_view(HolidayView, "节假日设置", label=_l("节假日设置"), icon="fa-calendar", category=cat)
    appbuilder.add_view_no_menu(SignInView)
