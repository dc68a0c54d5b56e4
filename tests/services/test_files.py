"""Stored file paths are relative to their root (issue 12 point 4): resolve refuses escapes, a missing
file answers 404 with a Chinese message on the download routes, and the migration converts old rows."""
from __future__ import annotations

import importlib.util
import os

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Attachment
from app.services import files
from tests.activities.helpers import PDF, add_plan

MISSING = "文件不存在或已被删除，请联系管理员恢复该文件或重新上传"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_relative_and_resolve(tmp_path):
    root = tmp_path / "files"
    (root / "ab").mkdir(parents=True)
    (root / "ab" / "x.pdf").write_bytes(PDF)
    (tmp_path / "secret.txt").write_text("no")
    assert files.relative(str(root), str(root / "ab" / "x.pdf")) == "ab/x.pdf"
    assert files.relative(str(root), "ab/x.pdf") == "ab/x.pdf"
    with pytest.raises(ValueError):
        files.relative(str(root), str(tmp_path / "secret.txt"))
    with pytest.raises(ValueError):
        files.relative(str(root), "../secret.txt")
    assert files.resolve(str(root), "ab/x.pdf") == str((root / "ab" / "x.pdf").resolve())
    # An absolute path written before the migration is accepted while it lies under the root.
    assert files.resolve(str(root), str(root / "ab" / "x.pdf")) == str((root / "ab" / "x.pdf").resolve())
    for bad in ("../secret.txt", str(tmp_path / "secret.txt"), "ab/../../secret.txt", "", ".", "ab/missing.pdf"):
        with pytest.raises(files.MissingFile):
            files.resolve(str(root), bad)
    # A symbolic link pointing out of the root is refused too.
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    with pytest.raises(files.MissingFile):
        files.resolve(str(root), "link.txt")


def _plan_with_file(app, world) -> tuple[int, str]:
    from app.services import attachments

    with app.app_context():
        pid = add_plan(world.a, status="pending", name="甲的计划")
        att = attachments.store_bytes(PDF, "pdf", "计划.pdf", "practice_plan", pid)
        db.session.commit()
        assert not os.path.isabs(att.path) and "/" not in att.path
        return pid, attachments.path_of(att)


def test_evidence_path_is_relative_and_a_missing_file_is_a_chinese_404(app, world, login):
    pid, path = _plan_with_file(app, world)
    inst, district = login("inst_a"), login("district1")
    for client, url in ((inst, f"/practiceplan/file/{pid}"), (district, f"/practiceplanreview/file/{pid}")):
        r = client.get(url)
        assert r.status_code == 200 and r.data == PDF
    os.unlink(path)
    for client, url in ((inst, f"/practiceplan/file/{pid}"), (district, f"/practiceplanreview/file/{pid}")):
        r = client.get(url)
        assert r.status_code == 404, url
        assert MISSING in r.get_data(as_text=True)
    # A path leaving the files folder (a tampered row) is refused the same way, never served.
    with app.app_context():
        db.session.execute(text("UPDATE attachment SET path = '../../../../../../etc/passwd'"))
        db.session.commit()
    r = inst.get(f"/practiceplan/file/{pid}")
    assert r.status_code == 404 and MISSING in r.get_data(as_text=True)


def test_job_result_is_stored_relative_and_missing_result_is_404_without_a_link(app, world, login, tmp_path):
    from app.models import Job
    from tests.helpers import xlsx_bytes
    from tests.jobs.test_rq import COLUMNS, GOOD, enqueue_as

    bad = [GOOD[0][:2] + ["123"] + GOOD[0][3:]]
    upload = tmp_path / "bad.xlsx"
    upload.write_bytes(xlsx_bytes(bad, COLUMNS).getvalue())
    job_id = enqueue_as(app, "inst_a", "app.jobs.people:import_persons", path=str(upload))
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == "failed" and job.result_path == f"{job_id}/错误报告.xlsx"
        report = os.path.join(app.config["JOB_FILES_DIR"], job.result_path)
    c = login("inst_a")
    assert c.get(f"/jobs/{job_id}/status").get_json()["has_file"] is True
    assert c.get(f"/jobs/{job_id}/download").status_code == 200
    assert f"/jobs/{job_id}/download" in c.get("/jobs/").get_data(as_text=True)
    os.unlink(report)
    assert c.get(f"/jobs/{job_id}/status").get_json()["has_file"] is False
    assert f"/jobs/{job_id}/download" not in c.get("/jobs/").get_data(as_text=True)
    r = c.get(f"/jobs/{job_id}/download")
    assert r.status_code == 404 and MISSING in r.get_data(as_text=True)


def test_migration_makes_absolute_paths_under_the_root_relative(app, world):
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from app.models import Job
    from app.services import attachments

    spec = importlib.util.spec_from_file_location(
        "relative_paths", os.path.join(ROOT, "migrations", "versions", "b3f1a2c4d5e6_relative_file_paths.py"))
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        root = attachments.folder()
        jobs_root = app.config["JOB_FILES_DIR"]
        for path in (os.path.join(root, "aa.pdf"), "/elsewhere/bb.pdf", "cc.pdf"):
            db.session.add(Attachment(owner_type="x", owner_id=1, name="n.pdf", kind="pdf", size=1, sha256="0" * 64,
                                      path=path))
        db.session.add(Job(id="j1", kind="t", user_id=1, status="failed",
                           result_path=os.path.join(jobs_root, "j1", "错误报告.xlsx")))
        db.session.commit()

        def run(step):
            with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
                step()
            db.session.expire_all()

        run(migration.upgrade)
        assert db.session.scalars(select(Attachment.path).order_by(Attachment.id)).all() == [
            "aa.pdf", "/elsewhere/bb.pdf", "cc.pdf"]
        assert db.session.get(Job, "j1").result_path == "j1/错误报告.xlsx"
        run(migration.downgrade)
        assert db.session.scalars(select(Attachment.path).order_by(Attachment.id)).all() == [
            os.path.join(os.path.abspath(root), "aa.pdf"), "/elsewhere/bb.pdf",
            os.path.join(os.path.abspath(root), "cc.pdf")]
