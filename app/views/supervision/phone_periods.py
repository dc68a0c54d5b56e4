"""The site manager's periods on the phone (SUP-6): the project's documents, the half-day periods, and per
period the photos of the four kinds (场地 / 背板 / 现场 / 主讲教师 n), lecturers, submit.

A photo is posted by the page's script as soon as it is taken (``X-Requested-With: fetch``): the answer
is JSON with the photo's tile; without the script the same form posts and the page reloads.
"""
from __future__ import annotations

import datetime

from flask import abort, current_app, flash, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment
from app.models.supervision import FIXED_SLOTS, PHOTO_SLOTS, Feedback, FeedbackPhoto, Period, SiteManager
from app.services import attachments
from app.services import supervision as sup
from app.views.actions import act
from app.views.base import acting_user
from app.views.submit import once
from app.views.supervision.common import DOC_KINDS, MODULE, send
from app.views.supervision.phone import bp, mobile_page, render


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


@bp.route("/")
@mobile_page()
def home(manager):
    now = datetime.datetime.now()
    submitted = set(db.session.scalars(select(Feedback.period_id).where(
        Feedback.manager_id == manager.id, Feedback.submitted_at.is_not(None))))
    rows = [(p, sup.period_status(p, now, p.id in submitted)) for p in manager.filing.periods]
    docs = {k: attachments.of(f"sup_{k}", manager.filing_id) for k in DOC_KINDS}
    return render("supervision/m_home.html", manager=manager, rows=rows, docs=docs, doc_kinds=DOC_KINDS)


@bp.route("/doc/<int:att_id>")
@mobile_page()
def doc(manager, att_id):
    att = db.session.get(Attachment, att_id)
    if att is None or att.owner_id != manager.filing_id or att.owner_type not in ("sup_notice", "sup_schedule"):
        abort(404)
    return send(att, download=True)


def _period(manager: SiteManager, pid: int) -> Period:
    period = db.session.get(Period, pid)
    if period is None or period.filing_id != manager.filing_id:
        abort(404)
    return period


@bp.route("/period/<int:pid>")
@mobile_page()
def period(manager, pid):
    return _period_page(manager, _period(manager, pid))


def _page_values(manager: SiteManager, period: Period) -> dict:
    now = datetime.datetime.now()
    fb = sup.feedback_for(db.session, period, manager)
    return {"manager": manager, "period": period, "feedback": fb,
            "by_slot": {(p.slot, p.lecturer_no): p for p in (fb.photos if fb else [])},
            "fixed": [(s, PHOTO_SLOTS[s]) for s in FIXED_SLOTS], "lecturers": fb.lecturers if fb else 1,
            "editable": sup.is_open(period, now),
            "status_label": sup.period_status(period, now, bool(fb and fb.submitted_at)),
            "missing": sup.missing_photos(fb) if fb else []}


def _period_page(manager, period, error: str | None = None, status: int = 200):
    return render("supervision/m_period.html", status, error=error, **_page_values(manager, period))


def _say(result):
    """An action's message: text (flashed as a success) or (text, category)."""
    if isinstance(result, tuple):
        flash(*result)
        return None
    return result


def _post(manager: SiteManager, pid: int, action, log: tuple | None = None, page: bool = True):
    """Run one change of the period's feedback; a passed (or not started) period answers 403. ``page``:
    the period page follows (else the action's result is returned, for a JSON answer)."""
    current = _period(manager, pid)

    def run():
        sup.check_open(current, datetime.datetime.now())
        return action(current, sup.feedback_for(db.session, current, manager, create=True))

    def refused(exc):
        again = _period(manager, pid)
        status = 422 if sup.is_open(again, datetime.datetime.now()) else 403
        if _wants_json():
            return jsonify(ok=False, message=str(exc)), status
        return _period_page(manager, again, str(exc), status)

    return act(run, log=log, done=_say if page else None,
               then=url_for("SiteMobileView.period", pid=pid) if page else None, failed=refused)


def _number(slot: str) -> int:
    if slot != "lecturer":
        return 0
    try:
        return int(request.form.get("lecturer_no") or 0)
    except ValueError:
        return -1


def _float(value, limit: float):
    """A latitude (limit 90) or longitude (limit 180) sent by the page; None when missing or absurd."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit else None


@bp.route("/period/<int:pid>/photo", methods=["POST"])
@mobile_page()
@once
def upload_photo(manager, pid):
    """One photo of a slot (replacing the slot's old one). A photo without place or outside the period is
    kept but flagged: the answer says so as a warning with the reason, never as a plain success."""
    def add(period, fb):
        slot = request.form.get("slot", "")
        return sup.add_photo(db.session, period, fb, slot, _number(slot), request.files.get("photo"),
                             max_bytes=current_app.config.get("SUP_PHOTO_MAX_BYTES", 10 * 1024 * 1024),
                             user_id=acting_user().id,
                             browser_time=sup.parse_datetime(request.form.get("browser_time", "")),
                             browser_lat=_float(request.form.get("lat"), 90),
                             browser_lon=_float(request.form.get("lon"), 180))

    if _wants_json():
        result = _post(manager, pid, add, page=False)
        return _photo_answer(manager, pid, result) if isinstance(result, FeedbackPhoto) else result
    return _post(manager, pid, lambda period, fb: _photo_message(add(period, fb)))


def _photo_message(photo: FeedbackPhoto):
    label = sup.photo_label(photo.slot, photo.lecturer_no)
    if photo.flags:
        return _("照片已上传：%(label)s，但需核实：%(flags)s", label=label, flags=photo.flags), "warning"
    return _("照片已上传：%(label)s", label=label)


def _photo_answer(manager: SiteManager, pid: int, photo: FeedbackPhoto):
    """The JSON answer to the page's script: the message, the flags and the refreshed slot's tile (with a
    fresh form token for the next photo of the slot)."""
    values = _page_values(manager, _period(manager, pid))
    label = sup.photo_label(photo.slot, photo.lecturer_no)
    tile = render_template("supervision/m_slot.html", slot=photo.slot, number=photo.lecturer_no, label=label,
                           **values)
    message = _photo_message(photo)
    message = message[0] if isinstance(message, tuple) else message
    return jsonify(ok=True, flagged=bool(photo.flags), flags=photo.flags or "", tile=tile, message=message,
                   missing="、".join(values["missing"]))


@bp.route("/period/<int:pid>/photo/<int:photo_id>/delete", methods=["POST"])
@mobile_page()
def delete_photo(manager, pid, photo_id):
    def action(period, fb):
        photo = next((p for p in fb.photos if p.id == photo_id), None)
        if photo is None:
            abort(404)
        sup.drop_photo(db.session, fb, photo)
        return _("照片已删除")
    return _post(manager, pid, action)


@bp.route("/period/<int:pid>/lecturer", methods=["POST"])
@mobile_page()
@once
def lecturer(manager, pid):
    def action(period, fb):
        if request.form.get("op") == "remove":
            sup.remove_lecturer(db.session, fb)
            return _("已删除主讲教师")
        sup.add_lecturer(fb)
        return _("已添加主讲教师")
    return _post(manager, pid, action)


@bp.route("/period/<int:pid>/submit", methods=["POST"])
@mobile_page()
def submit(manager, pid):
    def action(period, fb):
        sup.submit_feedback(fb)
        return _("本时段督查信息已提交")
    label = _period(manager, pid).label
    return _post(manager, pid, action, log=(MODULE, "提交督查信息", f"{manager.filing.project_no} {label}"))


@bp.route("/photo/<int:photo_id>")
@mobile_page()
def photo(manager, photo_id):
    photo = db.session.get(FeedbackPhoto, photo_id)
    if photo is None or photo.feedback.manager_id != manager.id:
        abort(404)
    return send(db.session.get(Attachment, photo.original_id if request.args.get("original") == "1"
                               else photo.stamped_id))
