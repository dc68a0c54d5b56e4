"""Store and find evidence files (models/attachments.py): checked by content and size before storing.

    att = attachments.store(request.files["file"], "credit", credit.id, user_id=g.user.id)
    for att in attachments.of("credit", credit.id): ...

``store`` refuses (UploadError, Chinese message) a wrong type or a too large file before anything is
written; the caller commits the Attachment row with its owner, so a failed save leaves no row.
"""
from __future__ import annotations

import hashlib
import os
import uuid

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import object_session

from app.extensions import db
from app.models.attachments import Attachment
from app.services import files, filestore
from app.services.uploads import KIND_LABELS, UploadError, format_size, sniff

EVIDENCE_KINDS = {"pdf", "png", "jpg"}
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024  # ICME-3: PDF/PNG/JPG, ≤ 5 MB each


def folder() -> str:
    return current_app.config.get("ATTACHMENT_DIR") or os.path.join(current_app.config["JOB_FILES_DIR"],
                                                                     "attachments")


def path_of(att: Attachment) -> str:
    """The file of an attachment on disk (its path is stored relative to ``folder()``); MissingFile
    (views answer 404 with a Chinese message) when it is not there or its path leaves the folder."""
    return files.resolve(folder(), att.path)


def check(storage, kinds: set[str] = EVIDENCE_KINDS, max_bytes: int = EVIDENCE_MAX_BYTES) -> tuple[bytes, str]:
    """Read an uploaded file and return (bytes, kind); UploadError when refused. Nothing is stored."""
    if storage is None or not storage.filename:
        raise UploadError("请选择要上传的文件")
    data = storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError("文件“%(name)s”过大，不能超过%(size)s", name=storage.filename, size=format_size(max_bytes))
    if not data:
        raise UploadError("文件“%(name)s”为空", name=storage.filename)
    kind = sniff(data)
    if kind not in kinds:
        allowed = "、".join(KIND_LABELS.get(k, k) for k in sorted(kinds))
        raise UploadError("文件“%(name)s”类型不正确，只能上传%(kinds)s文件", name=storage.filename, kinds=allowed)
    return data, kind


def store(storage, owner_type: str, owner_id: int | None, *, user_id: int | None = None,
          kinds: set[str] = EVIDENCE_KINDS, max_bytes: int = EVIDENCE_MAX_BYTES) -> Attachment:
    """Check, write to disk and add (not commit) an Attachment row."""
    data, kind = check(storage, kinds, max_bytes)
    return store_bytes(data, kind, storage.filename, owner_type, owner_id, user_id=user_id)


def store_bytes(data: bytes, kind: str, name: str, owner_type: str, owner_id: int | None, *,
                user_id: int | None = None) -> Attachment:
    base = folder()
    path = os.path.join(base, f"{uuid.uuid4().hex}.{kind}")
    filestore.write(path, data, session=db.session)  # deleted again unless this transaction commits
    att = Attachment(owner_type=owner_type, owner_id=owner_id, name=os.path.basename(name)[:256], kind=kind,
                     size=len(data), sha256=hashlib.sha256(data).hexdigest(), path=files.relative(base, path),
                     uploaded_by_fk=user_id)
    db.session.add(att)
    return att


@event.listens_for(Attachment, "after_delete")
def _file_goes_with_row(_mapper, _connection, att: Attachment) -> None:
    """A deleted attachment's file is deleted when the deletion commits (no file without its row)."""
    session = object_session(att)
    if session is not None and att.path:
        try:  # through files.resolve: a path leaving the folder is never deleted
            filestore.remove_after_commit(session, files.resolve(folder(), att.path, must_exist=False))
        except files.MissingFile:
            pass


def of(owner_type: str, owner_id: int) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(Attachment.owner_type == owner_type,
                                                            Attachment.owner_id == owner_id)
                                   .order_by(Attachment.id)))


def of_many(owner_type: str, owner_ids: list[int]) -> dict[int, list[Attachment]]:
    """Attachments of many owners in one query (lists show a paper-clip count without N+1)."""
    out: dict[int, list[Attachment]] = {i: [] for i in owner_ids}
    if owner_ids:
        for att in db.session.scalars(select(Attachment).where(Attachment.owner_type == owner_type,
                                                               Attachment.owner_id.in_(owner_ids))
                                      .order_by(Attachment.id)):
            out[att.owner_id].append(att)
    return out


__all__ = ["EVIDENCE_KINDS", "EVIDENCE_MAX_BYTES", "Attachment", "UploadError", "check", "folder", "of", "of_many",
           "path_of", "store", "store_bytes"]
