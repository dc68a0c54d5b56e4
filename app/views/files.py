"""Stored files for the download and preview routes: a file missing on disk answers 404 with a Chinese
message (not a 500), whichever route serves it (services/files.py resolves the relative paths)."""
from __future__ import annotations

from flask import current_app, send_file
from werkzeug.exceptions import NotFound

from app.models import Attachment
from app.services import attachments, files


class StoredFileNotFound(NotFound):
    """404 whose page says the file itself is missing (the error handler shows ``user_message``)."""

    user_message = files.MissingFile.message


def stored_path(att: Attachment) -> str:
    """The attachment's file on disk, or a 404 "文件不存在…" page."""
    try:
        return attachments.path_of(att)
    except files.MissingFile:
        current_app.logger.warning("attachment %s: file %r missing under %s", att.id, att.path, attachments.folder())
        raise StoredFileNotFound() from None


def job_file_path(stored: str | None) -> str:
    """A job's result file (stored relative to JOB_FILES_DIR) on disk, or the same 404."""
    try:
        return files.resolve(current_app.config["JOB_FILES_DIR"], stored or "")
    except files.MissingFile:
        raise StoredFileNotFound() from None


def send_stored(path: str, *, mimetype: str | None = None, name: str | None = None, download: bool = False,
                private: bool = True):
    """The one download / inline-preview response of a stored file: never cached (``private,
    no-store``: evidence and personal files), never sniffed into another type (``nosniff``)."""
    response = send_file(path, mimetype=mimetype, as_attachment=download, download_name=name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if private:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def send_attachment(att: Attachment, *, download: bool = False):
    """An evidence file (an Attachment already loaded through the caller's scope), inline unless
    ``download``; a file missing on disk is the 404 page of :func:`stored_path`."""
    return send_stored(stored_path(att), mimetype=att.mimetype, name=att.name, download=download)
