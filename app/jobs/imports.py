"""Start an import job from an uploaded workbook, once: the same file again from the same user soon after
(a double click, a reload, a second tab) shows the first job instead of importing every row a second time.

    job, again = start_import(request.files.get("file"), kind="person_import",
                              func_path="app.jobs.people:import_persons", user_id=uid, title="人员导入",
                              max_bytes=limit)
"""
from __future__ import annotations

import datetime
import hashlib
from typing import Any

from sqlalchemy import select, text

from app.extensions import db
from app.jobs import enqueue
from app.models import Job
from app.services.uploads import check_upload, store_upload

SAME_UPLOAD_WINDOW = datetime.timedelta(minutes=10)


def same_upload(user_id: int, kind: str, digest: str, now: datetime.datetime) -> Job | None:
    """The user's import of these exact bytes started within SAME_UPLOAD_WINDOW and not failed, if any."""
    return db.session.scalar(
        select(Job).where(Job.user_id == user_id, Job.kind == kind, Job.upload_sha256 == digest,
                          Job.created_at >= now - SAME_UPLOAD_WINDOW, Job.status != "failed")
        .order_by(Job.created_at.desc()).limit(1))


def start_import(storage, *, kind: str, func_path: str, user_id: int, title: str, max_bytes: int,
                 now: datetime.datetime | None = None, **kwargs: Any) -> tuple[Job, bool]:
    """Check the upload (UploadError), then return (the earlier job, True) for the same file, or store it and
    enqueue ``func_path`` with ``path=`` and ``kwargs`` (job, False). StorageError when the disk refuses."""
    data, file_kind = check_upload(storage, {"xlsx"}, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if db.engine.dialect.name == "postgresql":  # two tabs at once: the second waits and then finds the first
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                           {"k": int.from_bytes(hashlib.sha256(f"import:{user_id}:{kind}".encode()).digest()[:8],
                                                "big", signed=True)})
    earlier = same_upload(user_id, kind, digest, now or datetime.datetime.now())
    if earlier is not None:
        db.session.rollback()
        return earlier, True
    path = store_upload(data, file_kind)
    return enqueue(kind, func_path, user_id=user_id, title=title, upload_sha256=digest, path=path, **kwargs), False

