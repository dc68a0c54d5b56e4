"""A full disk (issue 13 item 4): the writer fails half way with ENOSPC. The user reads
"服务器存储空间不足，请联系管理员" on the form they filled, with what they typed; nothing is left behind —
no partial file, no row; the operator finds it in the error log, the operation log and
``filestore.last_storage_error()`` (/healthz). Also a real full filesystem (a 64 KB tmpfs) when this
machine lets the test mount one.
"""
from __future__ import annotations

import builtins
import errno
import io
import logging
import os
import re
import subprocess
import tempfile

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Credit, Job, OperationLog
from app.models.activities import GrantDraft
from app.models.supervision import Filing
from app.services import attachments, filestore
from tests.activities.helpers import PDF, standard_id

FULL = "服务器存储空间不足，请联系管理员"


class _HalfWriter:
    """A file that takes half of what it is given, then reports a full disk (as write(2) does)."""

    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()
        return False

    def write(self, data):
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.fh, name)


@pytest.fixture
def full_disk(monkeypatch):
    """Every file filestore writes fails half way; returns the partial files' paths as they were opened."""
    opened: list[str] = []
    real_open = builtins.open

    def fake_open(path, mode="r", *args, **kwargs):
        fh = real_open(path, mode, *args, **kwargs)
        if "w" in mode:
            opened.append(path)
            return _HalfWriter(fh)
        return fh

    monkeypatch.setattr(filestore, "open", fake_open, raising=False)
    return opened


def folder_files(app, sub: str | None = None) -> set[str]:
    with app.app_context():
        base = attachments.folder() if sub is None else os.path.join(app.config["JOB_FILES_DIR"], sub)
    return {os.path.join(base, n) for n in os.listdir(base)} if os.path.isdir(base) else set()


def count(app, model, *where) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model).where(*where))
        db.session.remove()
    return n


def operator_sees_it(app, caplog) -> None:
    assert any(r.name == "app.storage" and r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    assert count(app, OperationLog, OperationLog.module == filestore.STORAGE_MODULE,
                 OperationLog.status.is_(False)) >= 1
    with app.app_context():
        last = filestore.last_storage_error()
        db.session.remove()
    assert last is not None and "写入文件失败" in last["message"], last


def _wizard_draft(app, world, login):
    c = login("inst_a")
    r = c.post("/activities/degree/new")
    draft = int(re.search(r"/wizard/(\d+)/1", r.headers["Location"]).group(1))
    with app.app_context():
        c.post(f"/activities/wizard/{draft}/1", data={"standard_id": standard_id(8), "action": "next"})
    c.post(f"/activities/wizard/{draft}/2", data={"action": "add", "person_id": [world.pa]})
    return c, draft


def _wizard_submit(c, draft, evidence: bytes):
    return c.post(f"/activities/wizard/{draft}/3", data={
        "amount": "4", "hours": "300", "activity_form": "满三个月学习时间", "subject": "内科学",
        "activity_date": "2025-05-10", "content": "在职研究生（磁盘已满）", "action": "submit",
        "evidence": (io.BytesIO(evidence), "成绩单.pdf")}, content_type="multipart/form-data")


def test_wizard_submit_on_a_full_disk(app, world, login, full_disk, caplog):
    c, draft = _wizard_draft(app, world, login)
    before = folder_files(app)
    r = _wizard_submit(c, draft, PDF)
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and FULL in page
    assert "在职研究生（磁盘已满）" in page  # what was typed is on the page again
    assert full_disk and not any(os.path.exists(p) for p in full_disk)  # the half-written file is gone
    assert folder_files(app) == before
    assert count(app, Credit) == 0 and count(app, Attachment) == 0
    with app.app_context():
        assert db.session.get(GrantDraft, draft).status == "open"
        db.session.remove()
    operator_sees_it(app, caplog)


def test_manual_credit_on_a_full_disk(app, world, login, full_disk, caplog):
    from tests.review.helpers import form

    before = folder_files(app)
    r = login("tech_a").post("/manual-credits/add", data={
        **form(content="心血管新进展（磁盘已满）"), "submit": "1", "evidence": (io.BytesIO(PDF), "证书.pdf")},
        content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and FULL in page and "心血管新进展（磁盘已满）" in page and "ZS2026001" in page
    assert folder_files(app) == before and count(app, Credit) == 0 and count(app, Attachment) == 0
    operator_sees_it(app, caplog)


def test_filing_on_a_full_disk(app, world, login, full_disk, caplog):
    from tests.concurrency.test_double_submit import _filing_form

    before = folder_files(app)
    data = _filing_form("")
    data.pop("_submit_token")
    data["name"] = "磁盘已满时填写的项目"
    r = login("inst_a").post("/filing/add", data=data, content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and FULL in page and "磁盘已满时填写的项目" in page and "第一会场" in page
    assert folder_files(app) == before and count(app, Filing) == 0 and count(app, Attachment) == 0
    operator_sees_it(app, caplog)


def test_appeal_on_a_full_disk(app, world, login, full_disk, caplog, clock):
    import datetime

    from app.models.audit_review import AuditAppeal, AuditVerdict
    from tests.audit_review.helpers import IN_PERIOD, audit_world

    clock.at(IN_PERIOD, tick=True)  # verdicts only inside the cycle's 审验时间

    with app.app_context():
        aw = audit_world(world, deadline=datetime.datetime.now() + datetime.timedelta(days=3))
    login("expert").post(f"/audit-review/person/{world.pb}/verdict?cycle={aw.cycle}",
                         data={"decision": "failed", "only": str(aw.pb_credit), f"version_{aw.pb_credit}": "0",
                               "reason": "签到记录缺失"})
    with app.app_context():
        vid = db.session.scalar(select(AuditVerdict.id).where(AuditVerdict.credit_id == aw.pb_credit))
        db.session.remove()
    before = folder_files(app)
    r = login("inst_b").post(f"/audit-appeals/new/{vid}", data={
        "reason": "有签到表，磁盘已满", "files": (io.BytesIO(PDF), "签到表.pdf")}, content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and FULL in page and "有签到表，磁盘已满" in page
    assert folder_files(app) == before and count(app, AuditAppeal) == 0
    operator_sees_it(app, caplog)


def test_import_upload_on_a_full_disk(app, world, login, full_disk, caplog):
    from tests.concurrency.test_double_submit import _persons_xlsx

    before = folder_files(app, "uploads")
    c = login("inst_a")
    r = c.post("/persons/import/", data={"file": (io.BytesIO(_persons_xlsx()), "人员.xlsx")},
               content_type="multipart/form-data", follow_redirects=True)
    assert FULL in r.get_data(as_text=True)
    assert folder_files(app, "uploads") == before and count(app, Job) == 0
    operator_sees_it(app, caplog)


def test_export_file_on_a_full_disk(app, monkeypatch, caplog, tmp_path):
    """XlsxWriter fails while assembling the workbook (its OSError wrapped in FileCreateError): the export
    job and the error reports get the storage message, the half-written workbook is removed."""
    from xlsxwriter.workbook import Workbook

    from app.services.exports import write_xlsx

    def store(self):
        with open(self.filename, "wb") as fh:
            fh.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Workbook, "_store_workbook", store)
    path = str(tmp_path / "导出.xlsx")
    with app.app_context():
        with pytest.raises(filestore.StorageError, match=FULL):
            write_xlsx(path, ["姓名"], [["张三"]])
        db.session.remove()
    assert not os.path.exists(path)
    operator_sees_it(app, caplog)


def test_export_job_on_a_full_disk(app, world, monkeypatch):
    """A job whose result file cannot be written ends failed with the storage message, not 任务执行出错."""
    from app.jobs import enqueue

    monkeypatch.setattr(filestore, "open", lambda *a, **k: (_ for _ in ()).throw(
        OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))), raising=False)
    with app.app_context():
        job = enqueue("test", "tests.concurrency.test_disk_full:_job_writing_a_file", user_id=1, title="t")
        assert (job.status, job.message) == ("failed", FULL)
        db.session.remove()


def _job_writing_a_file(ctx):
    filestore.write(ctx.result_path("结果.txt"), b"data")
    return {"message": "完成"}


# ---------------------------------------------------------------------------- a real full filesystem
@pytest.fixture
def tiny_fs():
    """A 64 KB tmpfs, nearly full; skipped where mounting is not allowed (the patched writer covers that)."""
    path = tempfile.mkdtemp(prefix="cme-full-")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", path], capture_output=True, check=False).returncode:
        os.rmdir(path)
        pytest.skip("tmpfs cannot be mounted here (needs root); the patched writer tests cover a full disk")
    try:
        with open(os.path.join(path, "filler"), "wb") as fh:
            fh.write(b"\0" * 48 * 1024)
        yield path
    finally:
        subprocess.run(["umount", path], capture_output=True, check=False)
        os.rmdir(path)


def test_wizard_on_a_real_full_filesystem(app, world, login, tiny_fs, caplog):
    c, draft = _wizard_draft(app, world, login)
    app.config["ATTACHMENT_DIR"] = tiny_fs
    try:
        r = _wizard_submit(c, draft, PDF + b"0" * 32 * 1024)
    finally:
        app.config.pop("ATTACHMENT_DIR")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and FULL in page and "在职研究生（磁盘已满）" in page
    assert sorted(os.listdir(tiny_fs)) == ["filler"]  # the partial evidence file removed
    assert count(app, Credit) == 0 and count(app, Attachment) == 0
    operator_sees_it(app, caplog)


def test_job_folder_on_a_read_only_disk(app, world, monkeypatch):
    """The job's own folder cannot be created (EROFS): failed with the storage message too."""
    from app import jobs

    def refuse(*_a, **_k):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(jobs.os, "makedirs", refuse)
    with app.app_context():
        job = jobs.enqueue("test", "tests.concurrency.test_disk_full:_job_writing_a_file", user_id=1, title="t")
        assert (job.status, job.message) == ("failed", FULL)
        db.session.remove()
