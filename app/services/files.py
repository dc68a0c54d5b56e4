"""Stored files (evidence attachments, job result files) are recorded relative to their root folder.

The root is a setting (ATTACHMENT_DIR, JOB_FILES_DIR), so the database and the files can move to
another machine or folder together (a backup restored elsewhere): a row keeps ``ab/cd.pdf``, never
``/srv/cme/files/ab/cd.pdf``. ``resolve`` is the one way from a stored path to a file on disk; it refuses
a path that leaves its root (``../``, an absolute path elsewhere) and a file that is not there.
"""
from __future__ import annotations

import os


class MissingFile(LookupError):
    """The stored file is not on disk (or its path leaves its root); views answer 404."""

    message = "文件不存在或已被删除，请联系管理员恢复该文件或重新上传"

    def __init__(self, path: str | None = None):
        super().__init__(self.message)
        self.path = path


def relative(root: str, path: str) -> str:
    """``path`` (absolute, under ``root``, or already relative) as stored: relative, with ``/``."""
    if not os.path.isabs(path):
        rel = os.path.normpath(path)
    else:
        rel = os.path.relpath(os.path.normpath(path), os.path.normpath(os.path.abspath(root)))
    if rel == "." or rel.startswith("..") or os.path.isabs(rel):
        raise ValueError(f"path {path!r} is not under {root!r}")
    return rel.replace(os.sep, "/")


def resolve(root: str, stored: str, *, must_exist: bool = True) -> str:
    """The absolute path of a stored path under ``root``; MissingFile when it escapes or is missing.

    An absolute stored path (written before paths became relative, and not migrated) is accepted
    only when it lies under ``root``."""
    if not stored:
        raise MissingFile(stored)
    base = os.path.realpath(root)
    path = os.path.realpath(os.path.join(base, stored))  # join keeps an absolute ``stored`` as is
    if os.path.commonpath([base, path]) != base or path == base:
        raise MissingFile(stored)
    if must_exist and not os.path.isfile(path):
        raise MissingFile(stored)
    return path


__all__ = ["MissingFile", "relative", "resolve"]
