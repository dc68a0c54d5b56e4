"""Health of an installation (issue 12 item 6): `/healthz` for monitoring, `flask cme check` for the operator.

Four checks — the database answers, Redis answers, an RQ worker of our queue has a fresh heartbeat, the
files folders have free space and no file write failed in the last hour. Each gives ``ok`` and a message in Chinese and English; no address,
password or path of the configuration is ever shown (the page needs no login).
"""
from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import asdict, dataclass

from flask import Flask, current_app, jsonify

# A worker's heartbeat (RQ writes it while idle every worker_ttl − 15 s) older than this is dead.
WORKER_GRACE_SECONDS = 30


@dataclass
class Check:
    name: str
    ok: bool
    message: str
    detail: dict | None = None


def check_database() -> Check:
    from sqlalchemy import text

    from app.extensions import db

    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return Check("database", False, f"数据库无法连接 (database unreachable): {type(exc).__name__}")
    return Check("database", True, "数据库正常 (database ok)", {"dialect": db.engine.dialect.name,
                                                             "revisions": sorted(revision)})


def _redis():
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=3, socket_connect_timeout=3)


def check_redis() -> Check:
    if not current_app.config.get("REDIS_URL"):
        return Check("redis", True, "未配置 Redis，后台任务在网站进程内执行 (no Redis: jobs run in-process)")
    try:
        _redis().ping()
    except Exception as exc:  # noqa: BLE001
        return Check("redis", False, f"Redis 无法连接 (Redis unreachable): {type(exc).__name__}")
    return Check("redis", True, "Redis 正常 (Redis ok)")


def check_worker(now: datetime.datetime | None = None) -> Check:
    """A worker listening on our queue whose last heartbeat is within its TTL (RQ's worker registry)."""
    if not current_app.config.get("REDIS_URL"):
        return Check("worker", True, "未配置 Redis，无需后台 worker (no Redis: no worker needed)")
    from rq import Queue, Worker

    now = now or datetime.datetime.now(datetime.UTC)
    limit = current_app.config.get("WORKER_TTL", 60) + WORKER_GRACE_SECONDS
    try:
        queue = Queue(current_app.config["RQ_QUEUE"], connection=_redis())
        workers = Worker.all(queue=queue)
        waiting = queue.count
    except Exception as exc:  # noqa: BLE001
        return Check("worker", False, f"无法读取 worker 状态 (cannot read workers): {type(exc).__name__}")
    ages = []
    for worker in workers:
        beat = worker.last_heartbeat
        if beat is not None:
            if beat.tzinfo is None:
                beat = beat.replace(tzinfo=datetime.UTC)
            ages.append((now - beat).total_seconds())
    alive = [a for a in ages if a <= limit]
    detail = {"workers": len(alive), "queued_jobs": waiting,
              "last_heartbeat_seconds": round(min(ages), 1) if ages else None}
    if not alive:
        return Check("worker", False, "没有正在运行的后台 worker，导入、导出等任务不会执行 "
                     "(no live worker: imports and exports will not run)", detail)
    return Check("worker", True, f"后台 worker 运行中：{len(alive)} 个 (workers alive: {len(alive)})", detail)


def _folders() -> dict[str, str]:
    from app.services import attachments

    return {"job_files": current_app.config["JOB_FILES_DIR"], "attachments": attachments.folder()}


def check_disk() -> Check:
    minimum = int(current_app.config.get("HEALTH_MIN_FREE_MB", 1024))
    detail, low = {}, []
    for name, path in _folders().items():
        probe = path
        while probe and not os.path.exists(probe):  # a folder not created yet: its parent's disk
            probe = os.path.dirname(probe)
        try:
            free = shutil.disk_usage(probe or "/").free // (1024 * 1024)
        except OSError as exc:
            return Check("disk", False, f"无法读取文件目录的磁盘空间 (cannot read disk space): {type(exc).__name__}")
        detail[f"{name}_free_mb"] = free
        if free < minimum:
            low.append(name)
    if low:
        return Check("disk", False, f"文件目录所在磁盘剩余空间不足 {minimum} MB (less than {minimum} MB free)", detail)
    # A write that failed lately (full or read-only disk, issue 13.4) fails the check for a while even
    # when space came back, so monitoring sees it; the time is shown, never the path or the file.
    from app.services.filestore import last_storage_error

    failed = last_storage_error()
    if failed is not None:
        at = failed["at"].replace(tzinfo=None)
        detail["last_storage_error_at"] = at.isoformat(timespec="seconds")
        window = datetime.timedelta(minutes=int(current_app.config.get("HEALTH_STORAGE_ERROR_MINUTES", 60)))
        if datetime.datetime.now() - at <= window:
            return Check("disk", False, f"{at:%Y-%m-%d %H:%M} 写入文件失败（存储空间不足或只读），请检查磁盘 "
                                        "(a file write failed lately: disk full or read-only)", detail)
    return Check("disk", True, f"文件目录磁盘空间充足 (disk space ok, ≥ {minimum} MB free)", detail)


def run_checks() -> list[Check]:
    return [check_database(), check_redis(), check_worker(), check_disk()]


def report(checks: list[Check]) -> dict:
    return {"status": "ok" if all(c.ok for c in checks) else "fail",
            "checks": {c.name: {k: v for k, v in asdict(c).items() if k != "name" and v is not None}
                       for c in checks}}


def install(app: Flask) -> None:
    """`GET /healthz`: 200 with {"status": "ok", …} when every check passes, else 503."""

    def healthz():
        body = report(run_checks())
        response = jsonify(body)
        response.status_code = 200 if body["status"] == "ok" else 503
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(healthz)
