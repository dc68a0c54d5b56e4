"""Background jobs (JOB-1): one row per run, polled by the progress bar."""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, Index, Integer, String, Text, text

ACTIVE_SQL = "status IN ('queued', 'running')"


class Job(Model):
    __tablename__ = "job"
    __module_label__ = "后台任务"
    __no_oplog__ = True

    id = Column(String(36), primary_key=True)
    kind = Column(String(64), nullable=False)
    title = Column(String(128))
    user_id = Column(Integer, index=True, nullable=False)
    status = Column(String(16), default="queued", nullable=False)  # queued/running/finished/failed
    done = Column(Integer, default=0, nullable=False)
    total = Column(Integer, default=0, nullable=False)
    message = Column(Text)
    result_path = Column(String(512))
    result_name = Column(String(256))
    upload_sha256 = Column(String(64))  # an import's uploaded file: the same file again soon is the same job
    # Work that must not run twice at once (达标计算 of one scope and year): one queued/running job per key,
    # held by the partial unique index below, so two people starting it together start one job.
    dedupe_key = Column(String(128))
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False, index=True)
    finished_at = Column(DateTime)

    # The home page's to-do counts a user's running and recently failed jobs (issue 18).
    __table_args__ = (Index("ix_job_user_status", "user_id", "status", "created_at"),
                      Index("ux_job_active_key", "dedupe_key", unique=True, postgresql_where=text(ACTIVE_SQL),
                            sqlite_where=text(ACTIVE_SQL)))

    @property
    def percent(self) -> int:
        if self.status == "finished":
            return 100
        return int(self.done * 100 / self.total) if self.total else 0
