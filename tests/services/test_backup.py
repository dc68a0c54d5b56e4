"""Backup and restore (issue 12 point 4): the test world with evidence files and a job's result file is
backed up, restored into another database and another folder, compared table by table and file by
file, and a restored evidence file is downloaded through an app running on the restored copy."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from app.extensions import db
from app.services import backup
from tests.activities.helpers import PDF, PNG, add_plan
from tests.conftest import _create_pg_database, _drop_pg_database
from tests.helpers import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MISSING = "文件不存在或已被删除，请联系管理员恢复该文件或重新上传"


def roots_of(app) -> dict[str, str]:
    with app.app_context():
        from app.cli_backup import file_roots

        return file_roots()


def fill(app, world, tmp_path) -> dict:
    """Evidence files on two plans, a job with an error report; returns {attachment id: bytes}."""
    from app.services import attachments
    from tests.helpers import xlsx_bytes
    from tests.jobs.test_rq import COLUMNS, GOOD, enqueue_as

    stored = {}
    with app.app_context():
        for n, (data, kind) in enumerate(((PDF, "pdf"), (PNG, "png"), (PDF + b"%2", "pdf"))):
            pid = add_plan(world.a, status="pending", name=f"计划{n}")
            att = attachments.store_bytes(data, kind, f"计划{n}.{kind}", "practice_plan", pid)
            db.session.commit()
            stored[att.id] = (pid, data)
    upload = tmp_path / "bad.xlsx"
    upload.write_bytes(xlsx_bytes([GOOD[0][:2] + ["123"] + GOOD[0][3:]], COLUMNS).getvalue())
    enqueue_as(app, "inst_a", "app.jobs.people:import_persons", path=str(upload))
    return stored


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in inspect(conn).get_table_names()}


def hashes(roots: dict[str, str]) -> dict[tuple[str, str], str]:
    out = {}
    for name, root in roots.items():
        for folder, _dirs, names in os.walk(root):
            for n in names:
                path = os.path.join(folder, n)
                rel = os.path.relpath(path, root)
                if name == "jobs" and rel.split(os.sep)[0] == "attachments":
                    continue  # the nested attachments root is its own root
                out[(name, rel)] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return out


@pytest.fixture(autouse=True)
def own_files_folder(request, tmp_path, monkeypatch):
    """The site's files in a folder of this test (earlier tests leave files in the session's folder)."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        monkeypatch.setitem(app.config, "JOB_FILES_DIR", str(tmp_path / "site" / "jobfiles"))
        monkeypatch.setitem(app.config, "ATTACHMENT_DIR", None)


@pytest.fixture
def other_database(backend, tmp_path):
    """An empty second database of the same backend (the restore target)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
    else:
        url = _create_pg_database()
        yield url
        _drop_pg_database(url)


def test_backup_restores_into_another_database_and_folder(app, world, login, tmp_path, other_database):
    from app import create_app

    stored = fill(app, world, tmp_path)
    archive = backup.backup(_engine(app), roots_of(app), str(tmp_path / "backups"))
    assert os.path.basename(archive).startswith("cme-backup-") and archive.endswith(".tar.gz")
    assert os.stat(archive).st_mode & 0o777 == 0o600
    manifest = backup.read_manifest(archive)
    source_counts = counts(_engine(app))
    assert manifest["tables"] == source_counts and source_counts["attachment"] == 3 and source_counts["job"] == 1
    assert manifest["missing"] == [] and manifest["backend"] == app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
    source_files = hashes(roots_of(app))
    assert {(f["root"], f["path"]): f["sha256"] for f in manifest["files"]} == source_files
    assert len([k for k in source_files if k[0] == "attachments"]) == 3
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", manifest["database"]["name"]} <= names

    # Another machine: another database, other folders (attachments no longer under the job files).
    new_root = tmp_path / "elsewhere"
    restored_app = create_app("testing", SQLALCHEMY_DATABASE_URI=other_database,
                              JOB_FILES_DIR=str(new_root / "jobfiles"), ATTACHMENT_DIR=str(new_root / "evidence"))
    try:
        new_roots = roots_of(restored_app)
        lines = []
        report = backup.restore(archive, _engine(restored_app), new_roots, say=lines.append)
        assert report.ok, lines
        assert lines[-1] == "恢复校验通过 (restore verified)"
        assert report.files_checked == len(source_files)
        assert counts(_engine(restored_app)) == source_counts
        assert hashes(new_roots) == source_files

        # The restored site serves the evidence from its own folder: same bytes.
        c = restored_app.test_client()
        assert c.post("/login/", data={"username": "inst_a", "password": PASSWORD}).status_code == 302
        for pid, data in stored.values():
            r = c.get(f"/practiceplan/file/{pid}")
            assert r.status_code == 200 and r.data == data
        # A file lost after the restore answers 404 with the Chinese message, not 500.
        att_id, (pid, _data) = next(iter(stored.items()))
        with restored_app.app_context():
            from app.models import Attachment
            from app.services import attachments

            os.unlink(attachments.path_of(db.session.get(Attachment, att_id)))
        r = c.get(f"/practiceplan/file/{pid}")
        assert r.status_code == 404 and MISSING in r.get_data(as_text=True)

        # A second restore onto the now filled database is refused, in Chinese, before touching anything.
        with pytest.raises(backup.BackupError, match="目标数据库不是空的"):
            backup.restore(archive, _engine(restored_app), new_roots)
    finally:
        with restored_app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_restore_refuses_a_folder_with_files(app, world, tmp_path, other_database):
    from sqlalchemy import create_engine

    fill(app, world, tmp_path)
    archive = backup.backup(_engine(app), roots_of(app), str(tmp_path / "backups"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "old.pdf").write_bytes(PDF)
    engine = create_engine(other_database)
    try:
        with pytest.raises(backup.BackupError, match="不是空的，恢复只能写入空目录"):
            backup.restore(archive, engine, {"attachments": str(tmp_path / "busy"), "jobs": str(tmp_path / "j")})
        assert counts(engine) == {}
    finally:
        engine.dispose()


def test_backup_refuses_when_a_referenced_file_is_missing(app, world, tmp_path):
    from app.models import Attachment
    from app.services import attachments

    fill(app, world, tmp_path)
    with app.app_context():
        att = db.session.query(Attachment).order_by(Attachment.id).first()
        os.unlink(attachments.path_of(att))
        lost = f"attachments/{att.path}"
    with pytest.raises(backup.BackupError, match="数据库引用的 1 个文件不在文件目录中"):
        backup.backup(_engine(app), roots_of(app), str(tmp_path / "b1"))
    assert [n for n in os.listdir(tmp_path / "b1")] == []  # nothing half-written is left
    archive = backup.backup(_engine(app), roots_of(app), str(tmp_path / "b2"), allow_missing=True)
    assert backup.read_manifest(archive)["missing"] == [lost]


def test_cli_backup_prints_the_archive_last_and_keeps_n(app, world, tmp_path, other_database):
    fill(app, world, tmp_path)
    env = dict(os.environ, CME_CONFIG="development", FLASK_APP="run.py",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], JOB_FILES_DIR=app.config["JOB_FILES_DIR"])
    env.pop("REDIS_URL", None)
    out = tmp_path / "nightly"
    out.mkdir()
    for stamp in ("20261201-021500", "20261202-021500", "20261203-021500"):  # older nightly archives
        (out / f"cme-backup-{stamp}.tar.gz").write_bytes(b"old")
    (out / "notes.txt").write_text("not an archive")
    done = subprocess.run([sys.executable, "-m", "flask", "cme", "backup", "-o", str(out), "--keep", "2"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    path = done.stdout.strip().splitlines()[-1]
    assert os.path.dirname(path) == str(out) and os.path.exists(path)
    assert backup.read_manifest(path)["tables"]["attachment"] == 3
    assert sorted(os.listdir(out)) == sorted(["cme-backup-20261203-021500.tar.gz", os.path.basename(path),
                                              "notes.txt"])
    # restore refuses the source site itself (not empty), exit 1 with the Chinese reason.
    done = subprocess.run([sys.executable, "-m", "flask", "cme", "restore", path], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1 and "目标数据库不是空的" in done.stderr
    # Into an empty database and folder (nothing run there before, not even `flask cme init`): verified.
    target = dict(env, DATABASE_URL=other_database, JOB_FILES_DIR=str(tmp_path / "restored" / "jobfiles"))
    done = subprocess.run([sys.executable, "-m", "flask", "cme", "restore", path], cwd=ROOT, env=target,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-2] == "恢复校验通过 (restore verified)"
    assert "与程序一致 (schema matches the code)" in done.stdout.strip().splitlines()[-1]
    assert "文件 4 个（校验 sha256）" in done.stdout


def _engine(app):
    with app.app_context():
        return db.engine


def test_prune_keeps_the_newest(tmp_path):
    for stamp in ("20261201-021500", "20261202-021500", "20261202-021500-2", "20261203-021500"):
        (tmp_path / f"cme-backup-{stamp}.tar.gz").write_bytes(b"x")
    removed = backup.prune(str(tmp_path), 2)
    assert sorted(os.path.basename(p) for p in removed) == ["cme-backup-20261201-021500.tar.gz",
                                                           "cme-backup-20261202-021500.tar.gz"]
    assert sorted(os.listdir(tmp_path)) == ["cme-backup-20261202-021500-2.tar.gz", "cme-backup-20261203-021500.tar.gz"]
    with pytest.raises(backup.BackupError):
        backup.prune(str(tmp_path), 0)
