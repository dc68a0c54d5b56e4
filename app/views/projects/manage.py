"""继教项目管理: the unit's projects — details, 举办申请, card-reader uploads, 手工签到, 授分, attendee lists —
and 项目异常提示, the city's list of flagged projects (seed 002 二 2–3)."""
from __future__ import annotations

import datetime

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from wtforms import SelectField
from wtforms.validators import Optional

from app.extensions import db
from app.models import Person
from app.models.projects import CHECKIN_SOURCES, AttendanceUpload, CheckIn, Project, SwipeProblem, Topic
from app.oplog import record
from app.services import checkin as checkins
from app.services import projects as svc
from app.views.actions import act, refusing
from app.views.base import InputError, ScopedModelView, acting_user, current_scope
from app.views.projects.common import MODULE, PROJECT_LABELS, date_text, dict_choices, institution, logged, num
from app.views.submit import once
from app.views.widgets import BOX

ATTENDEE_PAGE = 200


def flag_text(project: Project) -> str:
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


def _status(row) -> str:
    if row.duplicate:
        return _("重复签到")
    return _("已授分") if row.credited else _("待授分")


def _show(pk: int, anchor: str = "") -> str:
    return url_for("ProjectView.show", pk=pk) + anchor


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
    formatters_columns = {"credits": num, "hours": num, "flagged": lambda v: _("是") if v else ""}
    edit_form_extra_fields = {
        "major": SelectField(_l("项目专业"), choices=dict_choices("subject"), validators=[Optional()],
                             render_kw=BOX),
        "assessment": SelectField(_l("考核方式"), choices=dict_choices("assessment"), validators=[Optional()],
                                  render_kw=BOX),
        "activity_form": SelectField(_l("活动形式"), choices=dict_choices("activity_form"),
                                     validators=[Optional()], render_kw=BOX)}
    description_columns = {"starts_on": _l("讲授时间（开始）"), "ends_on": _l("讲授时间（结束）")}
    export_columns = ["approval_no", "name", "category", "institution", "credits", "hours", "year", "starts_on",
                      "ends_on", "applied_on", "planned_count", "credited_count", "flag_text"]
    export_formatters = {"flag_text": flag_text, "credits": lambda p: float(p.credits),
                         "hours": lambda p: float(p.hours)}
    export_name = "继教项目"
    show_template = "projects/project_show.html"

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """Projects come from the catalogue (添加此项目), never from a blank form."""
        return redirect(url_for("ProjectCatalogView.list"))

    @refusing
    def pre_update(self, item: Project) -> None:
        svc.check_details(item)
        svc.refresh_flags(db.session, item)

    def post_update(self, item: Project) -> None:
        # Where this request goes after the edit: kept on the request (flask.g), never on the shared view.
        g.project_saved = url_for("ProjectView.show", pk=item.id)

    @refusing
    def pre_delete(self, item: Project) -> None:
        if db.session.scalar(select(CheckIn.id).where(CheckIn.project_id == item.id).limit(1)) is not None:
            raise InputError(_("项目已有签到记录，不能删除"))
        # Uploads that matched nobody (only unknown cards) go with the project.
        db.session.execute(delete(SwipeProblem).where(SwipeProblem.project_id == item.id))
        db.session.execute(delete(AttendanceUpload).where(AttendanceUpload.project_id == item.id))

    def get_redirect(self):
        return g.pop("project_saved", None) or super().get_redirect()

    def _project(self, pk) -> Project:
        project = db.session.scalar(current_scope().filter(select(Project).where(Project.id == pk), Project))
        if project is None:
            abort(404)
        return project

    def _writable(self, pk) -> Project:
        """Write actions: only the holding unit (a district / city admin reads)."""
        project = self._project(pk)
        inst = institution()
        if inst is None or inst.id != project.institution_id:
            abort(403)
        return project

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        project = self._project(pk)
        flags = act(lambda: svc.refresh_flags(db.session, project))  # the stored flags follow the rules now
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
        inst = institution()
        return self.render_template(
            self.show_template, project=project, flags=flags, messages=flags.messages(project, db.session),
            rows=rows, total=total, page=page, pages=(total + ATTENDEE_PAGE - 1) // ATTENDEE_PAGE,
            upload=upload, problems=problems, pending=pending, sources=CHECKIN_SOURCES,
            owner=inst is not None and inst.id == project.institution_id, today=datetime.date.today(),
            can_topic=self.appbuilder.sm.has_access("can_add", "TopicView"), fmt=num)

    @expose("/apply/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("apply")
    def apply(self, pk):
        """举办申请: filed today (the date the system records); flagged when fewer than 5 working days ahead."""
        project = self._writable(pk)

        def message(flags) -> str | None:
            if not flags.apply_late:
                return _("已提交举办申请")
            flash(_("已提交举办申请。距项目开始仅%(n)s个工作日，不足规定的%(m)s个工作日，已标记提示", n=flags.workdays,
                    m=svc.parameter(db.session, "holding_apply_workdays")), "warning")
            return None

        return act(lambda: svc.file_application(db.session, project, datetime.date.today()),
                   done=logged("举办申请", lambda _f: f"{project.approval_no} {project.name}", message),
                   then=_show(pk))

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
            return redirect(_show(pk))
        max_bytes = current_app.config["IMPORT_MAX_BYTES"]
        data = storage.stream.read(max_bytes + 1)
        no = project.approval_no

        def upload():
            swipes = checkins.read_swipes(data, max_bytes)
            return swipes, checkins.import_swipes(db.session, project, swipes, storage.filename,
                                                  getattr(acting_user(), "username", None))

        def done(outcome) -> None:
            swipes, result = outcome
            record(MODULE, "上传刷卡数据", f"{no} 共{len(swipes)}条")
            flash(_("已上传%(total)s条刷卡记录：签到%(ok)s人次，重复%(dup)s条，未知卡号%(unknown)s条，不在课题时间内%(out)s条",
                    total=len(swipes), ok=result.matched, dup=result.duplicates, unknown=len(result.unknown),
                    out=len(result.outside)), "success" if not (result.unknown or result.outside) else "warning")
            if result.upload.late:
                flash(_("刷卡数据上传时间晚于项目结束后%(n)s天，已标记提示",
                        n=svc.parameter(db.session, "attendance_upload_days")), "warning")

        def refused(exc):
            record(MODULE, "上传刷卡数据", f"{no}：{exc}", False)
            flash(str(exc), "danger")
            return redirect(_show(pk))

        return act(upload, done=done, failed=refused,
                   then=lambda outcome: _show(pk, "#attendance") if outcome else _show(pk))

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
            return redirect(_show(pk, "#attendance"))
        if person is None:
            flash(_("IC卡号“%(card)s”不存在", card=card), "danger")
            return redirect(_show(pk, "#attendance"))

        def sign():
            outcome = checkins.check_in(db.session, topic, person, "manual", datetime.datetime.now())
            svc.refresh_flags(db.session, project)
            return outcome

        # Attendees come from the whole city, but a card number must not tell a unit the name of
        # anyone outside its scope: those are shown as surname + card number (issue 17.8).
        name = person.name if current_scope().allows(person) else \
            f"{person.name[:1]}{'*' * max(1, len(person.name) - 1)}（{person.card_no}）"

        def done(outcome) -> None:
            record(MODULE, "手工签到", f"{project.approval_no} {topic.code} {person.card_no}")
            if outcome.duplicate:
                flash(_("%(name)s已签到课题%(code)s，本次记为重复签到，不重复授分", name=name, code=topic.code),
                      "warning")
            else:
                flash(_("%(name)s已签到课题%(code)s", name=name, code=topic.code), "success")

        return act(sign, done=done, then=_show(pk, "#attendance"))

    @expose("/grant/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("grant")
    @once
    def grant(self, pk):
        project = self._writable(pk)

        def done(report) -> None:
            record(MODULE, "授分", f"{project.approval_no}：学员{report.attendees}条，主讲人{report.lecturers}条")
            flash(_("授分完成：学员%(a)s条，主讲人%(l)s条，共%(c)s分", a=report.attendees, l=report.lecturers,
                    c=num(report.credits)), "success")
            for message in report.skipped:
                flash(message, "warning")

        return act(lambda: svc.grant(db.session, project, getattr(acting_user(), "username", None)),
                   done=done, then=_show(pk))

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
                       date_text(r.checked_at), r.reader_id or "", _status(r),
                       float(r.credits) if r.credits is not None else ""]

        record(MODULE, "导出", f"{project.approval_no} 参会人员")
        return stream_xlsx(f"{project.approval_no}-参会人员-{datetime.date.today():%Y%m%d}.xlsx", header, rows())


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
