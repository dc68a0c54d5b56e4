"""Uploaded files: type checked by content (not by extension), size checked before storing."""
from __future__ import annotations

import os
import uuid

import filetype
from flask import current_app

KIND_LABELS = {"xlsx": "Excel(.xlsx)", "pdf": "PDF", "png": "PNG", "jpg": "JPG", "csv": "CSV"}


class UploadError(ValueError):
    """Refused upload; message in Chinese."""


def sniff(head: bytes) -> str | None:
    """Return xlsx / pdf / png / jpg from the first bytes, or None."""
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.extension in ("zip", "xlsx"):
        return "xlsx" if b"[Content_Types].xml" in head or b"xl/" in head or kind.extension == "xlsx" else None
    return {"pdf": "pdf", "png": "png", "jpg": "jpg"}.get(kind.extension)


def save_upload(storage, kinds: set[str], max_bytes: int, folder: str | None = None) -> str:
    """Check and store an uploaded file; returns its path. Nothing is stored when refused."""
    if storage is None or not storage.filename:
        raise UploadError("请选择要上传的文件")
    data = storage.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError(f"文件过大，不能超过{max_bytes // (1024 * 1024)}MB")
    if not data:
        raise UploadError("文件为空")
    kind = sniff(data[:8192])
    if kind not in kinds:
        allowed = "、".join(KIND_LABELS.get(k, k) for k in sorted(kinds))
        raise UploadError(f"文件类型不正确，只能上传{allowed}文件")
    folder = folder or os.path.join(current_app.config["JOB_FILES_DIR"], "uploads")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{uuid.uuid4().hex}.{kind}")
    with open(path, "wb") as fh:
        fh.write(data)
    return path
