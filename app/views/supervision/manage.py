"""督查管理 (SUP-7): all approved projects in scope with feedback counts and completeness; 督查反馈 (photos
per period), 督查评分, 督查结果公布 and the Excel export. Units read their own projects' feedback."""
from __future__ import annotations

import datetime
import os
import tempfile
from urllib.parse import quote

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Attachment
from app.models.supervision import SCORES, Feedback, FeedbackPhoto, Filing, Period, SmsOutbox
from app.oplog import record
from app.services import filestore
from app.services import supervision as sup
from app.views import widgets
from app.views.actions import act
from app.views.base import acting_user, current_scope
from app.views.supervision.common import MODULE, scoped_filing, send

PAGE = 20


def _approved(pk: int) -> Filing:
    filing = scoped_filing(pk)
    if filing.status != "approved":
        abort(404)
    return filing


class SupervisionView(BaseView):
    """督查管理: the supervised projects of the user's scope."""

    route_base = "/supervision"
    default_view = "list"

    @staticmethod
    def _query():
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
        page = widgets.page()
        query = self._query()
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = list(db.session.scalars(query.options(selectinload(Filing.institution))
                                       .order_by(Filing.starts_at.desc(), Filing.id.desc())
                                       .offset((page - 1) * PAGE).limit(PAGE)))
        stats = sup.project_stats(db.session, [f.id for f in rows])
        sm = self.appbuilder.sm
        return self.render_template("supervision/manage_list.html", rows=rows, stats=stats, page=page, total=total,
                                    pages=widgets.pages(total, PAGE), args=request.args, scores=SCORES,
                                    may_publish=sm.has_access("can_publish", "SupervisionView"),
                                    may_export=sm.has_access("can_export", "SupervisionView"))

    @expose("/<int:pk>")
    @has_access
    @permission_name("list")
    def detail(self, pk):
        filing = _approved(pk)
        stats = sup.project_stats(db.session, [filing.id])[filing.id]
        return self.render_template("supervision/manage_detail.html", filing=filing, stats=stats, scores=SCORES,
                                    periods=sup.period_rows(db.session, filing, datetime.datetime.now()),
                                    may_score=self.appbuilder.sm.has_access("can_score", "SupervisionView"))

    @expose("/period/<int:pid>")
    @has_access
    @permission_name("list")
    def period(self, pid):
        period = db.session.get(Period, pid) or abort(404)
        filing = scoped_filing(period.filing_id)
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
        scoped_filing(photo.feedback.filing_id)
        if photo.feedback.submitted_at is None:  # not shown before the site manager submits the period
            abort(404)
        return send(db.session.get(Attachment, photo.original_id if request.args.get("original") == "1"
                                   else photo.stamped_id))

    @expose("/score/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("score")
    def score(self, pk):
        filing = _approved(pk)
        return act(lambda: sup.set_score(filing, request.form.get("score", ""), request.form.get("comment", ""),
                                         acting_user().get_full_name(), datetime.datetime.now()),
                   log=(MODULE, "督查评分", lambda f: f"{f.project_no}：{f.score}"),
                   done=lambda f: _("已评分：%(score)s", score=f.score),
                   then=url_for("SupervisionView.detail", pk=pk))

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
        numbers = "、".join(f.project_no for f in rows)
        return act(lambda: sup.publish(rows, publish, datetime.datetime.now()),
                   log=(MODULE, "督查结果公布" if publish else "撤销公布", numbers),
                   done=lambda n: _("已公布 %(n)s 个项目", n=n) if publish else _("已撤销公布 %(n)s 个项目", n=n),
                   then=url_for("SupervisionView.list"))

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
            _write_export(path, filings, projects, now)
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

    @expose("/sms")
    @has_access
    @permission_name("sms")
    def sms(self):
        """短信发送记录 of the development sender (city admin only)."""
        rows = list(db.session.scalars(select(SmsOutbox).order_by(SmsOutbox.id.desc()).limit(100)))
        return self.render_template("supervision/sms.html", rows=rows)


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
