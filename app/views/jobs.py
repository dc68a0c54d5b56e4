"""Job progress (JOB-1): status JSON polled by the progress bar; result file for its owner only."""
from flask import abort, jsonify
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_login import current_user

from app.extensions import db
from app.jobs.reaper import reap
from app.models import Job
from app.views.files import StoredFileNotFound, job_file_path, send_stored


def has_file(job: Job) -> bool:
    """Offer a download only for a file that is there (a queue failure or a lost file has none)."""
    try:
        return bool(job.result_path) and bool(job_file_path(job.result_path))
    except StoredFileNotFound:
        return False


def _own_job(job_id: str) -> Job:
    job = db.session.get(Job, job_id)
    # Someone else's job answers 404, exactly like a job that does not exist.
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


class JobView(BaseView):
    route_base = "/jobs"
    default_view = "mine"

    @expose("/")
    @has_access
    @permission_name("read")
    def mine(self):
        reap(user_id=current_user.id)  # a job whose worker died shows as failed, not running
        jobs = (db.session.query(Job).filter(Job.user_id == current_user.id)
                .order_by(Job.created_at.desc()).limit(50).all())
        return self.render_template("jobs/list.html", jobs=jobs, has_file=has_file)

    @expose("/<job_id>/status")
    @has_access
    @permission_name("read")
    def status(self, job_id):
        job = _own_job(job_id)
        if job.status in ("queued", "running") and reap([job.id]):
            db.session.refresh(job)  # its worker died: the poll shows "failed" with the reason
        return jsonify(id=job.id, status=job.status, done=job.done, total=job.total,
                       percent=job.percent, message=job.message or "",
                       has_file=has_file(job), title=job.title)

    @expose("/<job_id>/download")
    @has_access
    @permission_name("read")
    def download(self, job_id):
        job = _own_job(job_id)
        return send_stored(job_file_path(job.result_path), name=job.result_name or "结果.xlsx", download=True)
