"""services/filestore: a file written for a row lives and dies with the row's transaction; OSError → StorageError."""
from __future__ import annotations

import errno
import os

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, CmeUser
from app.services import attachments, filestore
from tests.activities.helpers import PDF


def _path(tmp_path, name="a.bin") -> str:
    return str(tmp_path / "files" / name)


def test_commit_keeps_the_file_rollback_and_close_delete_it(app_ctx, tmp_path):
    kept = filestore.write(_path(tmp_path, "kept"), b"1", session=db.session)
    db.session.commit()
    rolled = filestore.write(_path(tmp_path, "rolled"), b"2", session=db.session)
    assert os.path.exists(rolled)
    db.session.rollback()
    closed = filestore.write(_path(tmp_path, "closed"), b"3", session=db.session)
    db.session.remove()  # the request ended without a commit (an exception, a forgotten commit)
    assert os.path.exists(kept) and not os.path.exists(rolled) and not os.path.exists(closed)


def test_a_commit_that_fails_deletes_the_file(app_ctx, world, tmp_path):
    path = filestore.write(_path(tmp_path), b"x", session=db.session)
    user = db.session.scalar(select(CmeUser).limit(1))
    db.session.add(CmeUser(first_name="x", last_name="x", username=user.username, email=user.email))
    with pytest.raises(Exception):  # noqa: B017 - the backend's own IntegrityError
        db.session.commit()
    db.session.rollback()
    assert not os.path.exists(path)


def test_attachment_file_goes_with_its_row_only_when_the_deletion_commits(app_ctx):
    att = attachments.store_bytes(PDF, "pdf", "证明.pdf", "credit", 1)
    db.session.commit()
    path = os.path.join(attachments.folder(), att.path)
    db.session.delete(db.session.get(Attachment, att.id))
    db.session.flush()
    db.session.rollback()
    assert os.path.exists(path)
    db.session.delete(db.session.get(Attachment, att.id))
    db.session.commit()
    assert not os.path.exists(path)


@pytest.mark.parametrize("code, message", [(errno.ENOSPC, filestore.FULL_MESSAGE), (errno.EROFS, filestore.FULL_MESSAGE),
                                           (errno.EDQUOT, filestore.FULL_MESSAGE), (errno.EACCES, filestore.FULL_MESSAGE),
                                           (errno.EIO, filestore.OTHER_MESSAGE)])
def test_os_errors_become_a_chinese_message_and_no_partial_file(app_ctx, tmp_path, code, message):
    path = _path(tmp_path)
    os.makedirs(os.path.dirname(path))
    with pytest.raises(filestore.StorageError) as caught, filestore.guard(path):
        with open(path, "wb") as fh:
            fh.write(b"half")
        raise OSError(code, os.strerror(code))
    assert str(caught.value) == message and not os.path.exists(path)
    assert filestore.last_storage_error()["message"].startswith("写入文件失败")


def test_other_errors_pass_through_untouched(app_ctx, tmp_path):
    with pytest.raises(KeyError), filestore.guard(_path(tmp_path)):
        raise KeyError("x")

