"""Uploaded files: type checked by content (not by extension), size checked before storing."""
from __future__ import annotations

import io
import os
import uuid
import zipfile

import filetype
from flask import current_app

from app.extensions import db
from app.services import filestore
from app.services.filestore import UploadError

KIND_LABELS = {"xlsx": "Excel(.xlsx)", "pdf": "PDF", "png": "PNG", "jpg": "JPG"}


def sniff(data: bytes) -> str | None:
    """Return xlsx / pdf / png / jpg from the file's bytes, or None.

    An .xlsx is a zip holding ``xl/workbook.xml``; other zips (.docx, .pptx, plain archives)
    and text such as CSV are refused whatever their name says."""
    kind = filetype.guess(data[:8192])
    if kind is None:
        return None
    if kind.extension in ("zip", "xlsx"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        return "xlsx" if "xl/workbook.xml" in names and "[Content_Types].xml" in names else None
    return {"pdf": "pdf", "png": "png", "jpg": "jpg"}.get(kind.extension)


def format_size(size: int) -> str:
    """10485760 → 10MB, 512000 → 500KB, 100 → 100字节."""
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)}MB"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}MB"
    if size >= 1024:
        return f"{size // 1024}KB"
    return f"{size}字节"


def check_upload(storage, kinds: set[str], max_bytes: int) -> tuple[bytes, str]:
    """Read and check an uploaded file; returns (bytes, kind). UploadError when refused, nothing stored."""
    if storage is None or not storage.filename:
        raise UploadError("请选择要上传的文件")
    data = storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError("文件过大，不能超过%(size)s", size=format_size(max_bytes))
    if not data:
        raise UploadError("文件为空")
    kind = sniff(data)
    if kind not in kinds:
        allowed = "、".join(KIND_LABELS.get(k, k) for k in sorted(kinds))
        raise UploadError("文件类型不正确，只能上传%(kinds)s文件", kinds=allowed)
    return data, kind


def store_upload(data: bytes, kind: str, folder: str | None = None) -> str:
    """Write checked bytes under the uploads folder; returns the path. The file is deleted again unless the
    session's transaction (the job row) commits; StorageError when the disk refuses."""
    path = os.path.join(folder or upload_folder(), f"{uuid.uuid4().hex}.{kind}")
    return filestore.write(path, data, session=db.session)


def save_upload(storage, kinds: set[str], max_bytes: int, folder: str | None = None) -> str:
    """Check and store an uploaded file; returns its path (see check_upload and store_upload)."""
    data, kind = check_upload(storage, kinds, max_bytes)
    return store_upload(data, kind, folder)


def upload_folder() -> str:
    """Where accepted uploads wait for their job (under JOB_FILES_DIR, never under static/)."""
    return os.path.join(current_app.config["JOB_FILES_DIR"], "uploads")
