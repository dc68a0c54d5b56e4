"""Backup and restore of a whole site: the database and every stored file in one archive (issue 12 point 4).

    archive = backup.backup(engine, roots, "/var/backups/cme")      # cme-backup-20261206-021500.tar.gz
    report = backup.restore(archive, engine, roots)                 # onto an EMPTY database and folders

``roots`` names the files folders: {"attachments": ATTACHMENT_DIR, "jobs": JOB_FILES_DIR}. Stored paths
are relative to them (services/files.py), so an archive restores on another machine and another path.

The archive (.tar.gz) holds
  database.dump      PostgreSQL: pg_dump custom format (pg_restore --no-owner on the other side), or
  database.sqlite3   SQLite: a copy made by the online backup API;
  files/<root>/…     every file under each root;
  manifest.json      alembic revision, rows per table, and size + sha256 of the database file and of
                     every stored file.
Consistency: on PostgreSQL the dump, the row counts and the list of referenced files are read in ONE
exported snapshot (pg_dump --snapshot); on SQLite they are read from the backup copy. The files are
copied after the dump, and every file the dump references must be in the archive (files are never
rewritten in place: a newer file is only extra). Flask-free: the CLI (app/cli.py) passes engine and roots.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from app.services import files
from app.services.errors import DomainError

FORMAT = 1
ARCHIVE_RE = re.compile(r"^cme-backup-\d{8}-\d{6}(-\d+)?\.tar(?:\.gz)?$")
# Columns holding a path under a files root: (table, column, root name).
FILE_COLUMNS = (("attachment", "path", "attachments"), ("job", "result_path", "jobs"))
CHUNK = 1024 * 1024


class BackupError(DomainError):
    """A backup or restore refused or failed; the message is Chinese and says what to do."""


@dataclass
class RestoreReport:
    """What a restore found: rows per table and files checked against the manifest."""

    manifest: dict
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # table → (expected, restored)
    files_checked: int = 0
    bad_files: list[str] = field(default_factory=list)

    @property
    def table_mismatches(self) -> dict[str, tuple[int, int]]:
        return {t: v for t, v in self.tables.items() if v[0] != v[1]}

    @property
    def ok(self) -> bool:
        return not self.table_mismatches and not self.bad_files

    def lines(self) -> list[str]:
        out = [(f"数据表 {len(self.tables)} 张，"
               f"{sum(v[1] for v in self.tables.values())} 行；文件 {self.files_checked} 个（校验 sha256）")]
        for table, (want, got) in sorted(self.table_mismatches.items()):
            out.append(f"  行数不一致：{table} 备份 {want} 行，恢复后 {got} 行")
        for path in self.bad_files:
            out.append(f"  文件校验失败：{path}")
        out.append("恢复校验通过 (restore verified)" if self.ok else "恢复校验未通过 (restore NOT verified)")
        return out


# ----------------------------------------------------------------------------------------------------
# backup

def backup(engine: Engine, roots: dict[str, str], out_dir: str, *, now: datetime.datetime | None = None,
           allow_missing: bool = False, say: Callable[[str], None] = lambda _m: None) -> str:
    """Write one archive into ``out_dir`` and return its path (see the module docstring)."""
    now = now or datetime.datetime.now()
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".cme-backup-", dir=out_dir)
    try:
        if engine.dialect.name == "postgresql":
            db_name = "database.dump"
            tables, referenced, revision = _dump_postgresql(engine, os.path.join(work, db_name), say)
        elif engine.dialect.name == "sqlite":
            db_name = "database.sqlite3"
            tables, referenced, revision = _dump_sqlite(engine, os.path.join(work, db_name), say)
        else:
            raise BackupError("不支持备份 %(backend)s 数据库，只支持 PostgreSQL 和 SQLite", backend=engine.dialect.name)
        db_path = os.path.join(work, db_name)
        manifest = {
            "format": FORMAT, "created_at": now.isoformat(timespec="seconds"), "backend": engine.dialect.name,
            "alembic_revision": revision, "tables": tables,
            "database": {"name": db_name, "size": os.path.getsize(db_path), "sha256": _sha256_file(db_path)},
            "roots": sorted(roots), "files": [], "missing": [],
        }
        name = _archive_name(out_dir, now)
        partial = os.path.join(work, name)
        say(f"写入归档 {name}")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(db_path, arcname=db_name)
            archived = set()
            for root_name, _root, rel, path in _stored_files(roots, exclude=out_dir):
                size, digest = _add_file(tar, path, f"files/{root_name}/{rel}")
                manifest["files"].append({"root": root_name, "path": rel, "size": size, "sha256": digest})
                archived.add((root_name, rel))
            missing = sorted(f"{r}/{p}" for r, p in referenced - archived)
            if missing and not allow_missing:
                raise BackupError("数据库引用的 %(count)s 个文件不在文件目录中（例如 %(example)s），备份未完成；"
                                  "请先找回这些文件，或加 --allow-missing 参数在清单中记录缺失后继续备份",
                                  count=len(missing), example=missing[0])
            manifest["missing"] = missing
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(data), int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
        final = os.path.join(out_dir, name)
        os.chmod(partial, 0o600)  # personal data: readable by the site's account only
        os.replace(partial, final)  # a finished archive appears whole, never half-written
        say(f"数据表 {len(tables)} 张，{sum(tables.values())} 行；文件 {len(manifest['files'])} 个"
            + (f"；缺失 {len(missing)} 个" if missing else ""))
        return final
    finally:
        shutil.rmtree(work, ignore_errors=True)


def prune(out_dir: str, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` archives of ``out_dir`` (by the time in their name); returns them."""
    if keep < 1:
        raise BackupError("保留份数至少为 1")
    names = [n for n in os.listdir(out_dir) if ARCHIVE_RE.match(n)] if os.path.isdir(out_dir) else []
    names.sort(key=_archive_order)
    removed = [os.path.join(out_dir, n) for n in names[:-keep]]
    for path in removed:
        os.unlink(path)
    return removed


def _archive_order(name: str) -> tuple[str, int]:
    """cme-backup-20261206-021500.tar.gz, then …-021500-2.tar.gz (a second archive in the same second)."""
    match = ARCHIVE_RE.match(name)
    return name[len("cme-backup-"):len("cme-backup-") + 15], int(match.group(1)[1:]) if match.group(1) else 1


def _archive_name(out_dir: str, now: datetime.datetime) -> str:
    base = f"cme-backup-{now:%Y%m%d-%H%M%S}"
    name, n = f"{base}.tar.gz", 1
    while os.path.exists(os.path.join(out_dir, name)):
        n += 1
        name = f"{base}-{n}.tar.gz"
    return name


def _read_state(conn: Connection) -> tuple[dict[str, int], set[tuple[str, str]], str | None]:
    """Rows per table, the stored files the rows reference, and the alembic revision, on ``conn``."""
    names = sorted(inspect(conn).get_table_names())
    tables = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in names}
    referenced = set()
    for table, column, root in FILE_COLUMNS:
        if table in tables:
            for (path,) in conn.execute(text(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')):
                referenced.add((root, path))
    revision = None
    if "alembic_version" in tables:
        revision = ",".join(sorted(r for (r,) in conn.execute(text("SELECT version_num FROM alembic_version"))))
    return tables, referenced, revision


def _dump_postgresql(engine: Engine, target: str, say) -> tuple[dict[str, int], set, str | None]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # One snapshot for the dump, the counts and the referenced files: they describe the same instant.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            major = conn.execute(text("SHOW server_version_num")).scalar_one()
            tool = pg_tool("pg_dump", int(major) // 10000)
            say(f"导出数据库（{os.path.basename(tool)}，PostgreSQL {int(major) // 10000}）")
            _run([tool, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={target}"],
                 engine)
            tables, referenced, revision = _read_state(conn)
    return tables, referenced, revision


def _dump_sqlite(engine: Engine, target: str, say) -> tuple[dict[str, int], set, str | None]:
    say("复制数据库（SQLite 在线备份）")
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(dest)
        finally:
            dest.close()
    finally:
        raw.close()
    from sqlalchemy import create_engine

    copy = create_engine(f"sqlite:///{target}")
    try:
        with copy.connect() as conn:
            return _read_state(conn)
    finally:
        copy.dispose()


def _stored_files(roots: dict[str, str], exclude: str | None = None) -> Iterator[tuple[str, str, str, str]]:
    """(root name, root, relative path, absolute path) of every file under each root. A root nested in
    another (ATTACHMENT_DIR defaults to JOB_FILES_DIR/attachments) is walked once, as its own root."""
    real = {name: os.path.realpath(path) for name, path in roots.items()}
    skip = set(real.values()) | ({os.path.realpath(exclude)} if exclude else set())
    for name in sorted(real):
        root = real[name]
        if not os.path.isdir(root):
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) not in skip and not d.startswith(".cme-"))
            for n in sorted(names):
                path = os.path.join(folder, n)
                if os.path.isfile(path) and not os.path.islink(path):
                    yield name, root, files.relative(root, path), path


def _add_file(tar: tarfile.TarFile, path: str, arcname: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
        fh.seek(0)
        info = tar.gettarinfo(path, arcname=arcname)
        info.size = size
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, fh)
    return size, digest.hexdigest()


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------------
# PostgreSQL client tools

def pg_tool(name: str, server_major: int) -> str:
    """pg_dump / pg_restore of the server's major version (Debian keeps one per version under
    /usr/lib/postgresql/N/bin), else the one on PATH if it is at least that version."""
    candidates = [f"/usr/lib/postgresql/{server_major}/bin/{name}"]
    found = shutil.which(name)
    if found:
        candidates.append(found)
    for path in candidates:
        if os.path.exists(path):
            version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
            match = re.search(r"(\d+)(?:\.\d+)?", version)
            if match and int(match.group(1)) >= server_major:
                return path
    raise BackupError("找不到 PostgreSQL %(major)s 版本的 %(name)s；请安装 postgresql-client-%(major)s"
                      "（Debian/Ubuntu：apt-get install postgresql-client-%(major)s）", major=server_major, name=name)


def _pg_env(engine: Engine) -> dict[str, str]:
    """libpq settings from the engine's URL (the password travels in the environment, not the command)."""
    url = make_url(engine.url)
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _run(command: list[str], engine: Engine) -> None:
    done = subprocess.run(command, env=_pg_env(engine), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError("%(command)s 执行失败：%(error)s", command=os.path.basename(command[0]),
                          error=done.stderr.strip()[-2000:])


# ----------------------------------------------------------------------------------------------------
# restore

def read_manifest(archive: str) -> dict:
    try:
        with tarfile.open(archive) as tar:
            member = tar.getmember("manifest.json")
            return json.loads(tar.extractfile(member).read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError("无法读取备份文件 %(archive)s：不是本系统的备份归档（%(error)s）", archive=archive, error=exc) from None


def check_empty(engine: Engine, roots: dict[str, str]) -> None:
    """Refuse (BackupError) unless the database has no table and every files folder holds no file."""
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        raise BackupError("目标数据库不是空的（已有 %(count)s 张表，如 %(example)s），恢复只能写入空数据库；"
                          "请新建一个空数据库并把 DATABASE_URL 指向它", count=len(tables), example=min(tables))
    for name, root in roots.items():
        if os.path.isdir(root):
            for _folder, _dirs, names in os.walk(root):
                if names:
                    raise BackupError("文件目录 %(root)s 不是空的，恢复只能写入空目录；请换一个空目录（%(name)s）",
                                      root=root, name=name)


def restore(archive: str, engine: Engine, roots: dict[str, str],
            say: Callable[[str], None] = lambda _m: None) -> RestoreReport:
    """Restore ``archive`` onto an empty database and empty files folders, then check it against the
    manifest (rows per table, size and sha256 of every file); the report says what matched."""
    manifest = read_manifest(archive)
    if manifest.get("format") != FORMAT:
        raise BackupError("备份格式版本 %(format)s 不受支持", format=manifest.get("format"))
    if manifest["backend"] != engine.dialect.name:
        raise BackupError("备份来自 %(source)s 数据库，不能恢复到 %(target)s 数据库", source=manifest["backend"],
                          target=engine.dialect.name)
    unknown = set(manifest["roots"]) - set(roots)
    if unknown:
        raise BackupError("备份中的文件目录 %(roots)s 在本机没有配置", roots=sorted(unknown))
    check_empty(engine, roots)
    report = RestoreReport(manifest)
    expected = {(f["root"], f["path"]): f for f in manifest["files"]}
    db_entry = manifest["database"]
    work = tempfile.mkdtemp(prefix=".cme-restore-")
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                if member.name == "manifest.json":
                    continue
                if member.name == db_entry["name"]:
                    tar.extract(member, work, filter="data")
                    continue
                parts = member.name.split("/", 2)
                if len(parts) != 3 or parts[0] != "files" or not member.isfile():
                    raise BackupError("备份归档中有未知条目：%(name)s", name=member.name)
                root_name, rel = parts[1], parts[2]
                entry = expected.get((root_name, rel))
                if entry is None:
                    raise BackupError("备份归档中的文件不在清单中：%(name)s", name=member.name)
                try:
                    target = files.resolve(roots[root_name], rel, must_exist=False)
                except (files.MissingFile, KeyError):
                    raise BackupError("备份归档中的文件路径不合法：%(name)s", name=member.name) from None
                os.makedirs(os.path.dirname(target), exist_ok=True)
                size, digest = _copy_out(tar.extractfile(member), target)
                report.files_checked += 1
                if (size, digest) != (entry["size"], entry["sha256"]):
                    report.bad_files.append(f"{root_name}/{rel}")
                expected.pop((root_name, rel))
        report.bad_files.extend(f"{r}/{p}（归档中没有）" for r, p in expected)
        db_file = os.path.join(work, db_entry["name"])
        if not os.path.exists(db_file) or _sha256_file(db_file) != db_entry["sha256"]:
            raise BackupError("备份中的数据库文件缺失或校验失败，归档已损坏")
        say(f"恢复数据库（{manifest['backend']}）")
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
            _run([pg_tool("pg_restore", major), "--no-owner", "--no-acl", "--exit-on-error", "--no-password",
                  f"--dbname={make_url(engine.url).database}", db_file], engine)
        else:
            source = sqlite3.connect(db_file)
            raw = engine.raw_connection()
            try:
                source.backup(raw.driver_connection)
            finally:
                raw.close()
                source.close()
        engine.dispose()  # connections opened before the restore cache an empty schema
        with engine.connect() as conn:
            restored, _referenced, _revision = _read_state(conn)
        for table in sorted(set(manifest["tables"]) | set(restored)):
            report.tables[table] = (manifest["tables"].get(table, 0), restored.get(table, 0))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for line in report.lines():
        say(line)
    return report


def _copy_out(source, target: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(target, "xb") as out:  # "x": never overwrite a file (the folder was checked empty)
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
            out.write(block)
    return size, digest.hexdigest()


__all__ = ["BackupError", "RestoreReport", "backup", "check_empty", "pg_tool", "prune", "read_manifest", "restore"]
