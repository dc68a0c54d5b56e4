"""`flask cme backup` and `flask cme restore` (services/backup.py does the work).

Contract for scripts (deploy/cme-backup.service, scripts/deploy-check.sh):
  flask cme backup [-o DIR] [--keep N] [--allow-missing]
      exit 0 and the archive's absolute path as the LAST line of stdout; progress lines before it.
      DIR defaults to BACKUP_DIR (else instance/backups). --keep N deletes all but the newest N archives
      of DIR afterwards. Exit 1 with a Chinese message on stderr when refused or failed.
  flask cme restore ARCHIVE
      into the configured DATABASE_URL / ATTACHMENT_DIR / JOB_FILES_DIR, which must be empty (a new,
      empty database: no `flask cme init` first). Prints the verification report ending with
      "恢复校验通过 (restore verified)" and then one line on the schema version (run `flask cme init` when the
      code is newer); exit 0 only when every table count and file hash matches the manifest, 1 otherwise
      or when refused (the reason on stderr).
"""
from __future__ import annotations

import os

import click
from flask import current_app

from app.extensions import db


def file_roots() -> dict[str, str]:
    """The files folders of this site by name (the names are those of the archive)."""
    from app.services import attachments

    return {"attachments": attachments.folder(), "jobs": current_app.config["JOB_FILES_DIR"]}


def backup_dir() -> str:
    return (current_app.config.get("BACKUP_DIR") or os.environ.get("BACKUP_DIR")
            or os.path.join(current_app.instance_path, "backups"))


def register(cme: click.Group) -> None:
    @cme.command("backup")
    @click.option("-o", "--output", "out_dir", default=None, help="folder for the archive (default: BACKUP_DIR)")
    @click.option("--keep", type=click.IntRange(min=1), default=None,
                  help="afterwards keep only the newest N archives of the folder")
    @click.option("--allow-missing", is_flag=True,
                  help="back up even when files referenced by the database are missing (listed in the manifest)")
    def backup_cmd(out_dir: str | None, keep: int | None, allow_missing: bool):
        """Back up the database and every stored file into one archive; prints its path last."""
        from app.services import backup

        out_dir = os.path.abspath(out_dir or backup_dir())
        db.session.remove()
        try:
            path = backup.backup(db.engine, file_roots(), out_dir, allow_missing=allow_missing,
                                 say=lambda m: click.echo(m, err=True))
            if keep:
                for old in backup.prune(out_dir, keep):
                    click.echo(f"删除旧备份 {old}", err=True)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(path)

    @cme.command("restore")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False))
    def restore_cmd(archive: str):
        """Restore an archive onto an EMPTY database and EMPTY files folders, then verify it."""
        from app.services import backup

        db.session.remove()
        try:
            report = backup.restore(os.path.abspath(archive), db.engine, file_roots(), say=click.echo)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(schema_advice(report.manifest.get("alembic_revision")))
        if not report.ok:
            raise SystemExit(1)


def schema_advice(revision: str | None) -> str:
    """What to do about the restored schema: nothing, `flask cme init` (the code is newer), or get the
    code the backup was taken with (the backup is newer than this code)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    restored = set((revision or "").split(",")) - {""}
    heads = set(script.get_heads())
    known = {rev.revision for rev in script.walk_revisions()}
    if restored == heads:
        return f"数据库结构版本 {revision} 与程序一致 (schema matches the code)"
    if restored - known:
        return (f"注意：备份的数据库结构版本 {revision} 比本程序新，请安装做备份时的程序版本 "
                "(warning: the backup comes from newer code)")
    return (f"数据库结构版本 {revision} 早于本程序，请运行 flask cme init 升级 "
            "(the schema is older than the code: run flask cme init)")
