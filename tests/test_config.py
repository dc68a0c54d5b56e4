"""Configuration (issue 2 point 1): development on a SQLite file in instance/, production entirely from
environment variables, refusing to start with the default secret. Each case runs in a fresh
interpreter, as config.py reads the environment when it is imported."""
from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = """
import json
from app import create_app
app = create_app({config!r})
print(json.dumps({{k: app.config.get(k) for k in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "SECRET_KEY",
                                                 "SESSION_COOKIE_SECURE", "DEBUG", "TESTING", "PUBLIC_BASE_URL",
                                                 "TRUST_X_FORWARDED_FOR", "ATTACHMENT_DIR", "JOB_FILES_DIR",
                                                 "MAX_CONTENT_LENGTH", "EXPORT_INLINE_MAX", "SUP_SMS_SENDER",
                                                 "SMS_API_URL", "SMS_TEMPLATE_ID", "RQ_QUEUE", "WORKER_TTL",
                                                 "SQLALCHEMY_ENGINE_OPTIONS", "LOGIN_LOCK_ATTEMPTS")}}))
"""


def _run(config: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CME_CONFIG", "TEST_DATABASE_URL")
             and not k.startswith(("SMS_", "SUP_", "CME_"))}
    clean.update({"JOB_FILES_DIR": str(tmp_path / "jobs")}, **env, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", PROBE.format(config=config)], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120, check=False)


def _config(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


GATEWAY = {"SUP_SMS_SENDER": "app.services.sms:HttpSmsSender", "SMS_API_URL": "https://sms.example.cn/send",
           "SMS_API_KEY": "k", "SMS_API_SECRET": "s", "SMS_TEMPLATE_ID": "SMS_1"}


def test_production_refuses_the_default_or_missing_secret(tmp_path):
    db = f"sqlite:///{tmp_path / 'prod.db'}"
    result = _run("production", {"DATABASE_URL": db, **GATEWAY}, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    result = _run("production", {"DATABASE_URL": db, "SECRET_KEY": "dev-secret-change-me"}, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    # deploy/cme.env.example's placeholder, left unchanged
    result = _run("production", {"DATABASE_URL": db, "SECRET_KEY": "change-me-to-a-long-random-string", **GATEWAY},
                  tmp_path)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    result = _run("production", {"SECRET_KEY": "a-real-secret-0123456789"}, tmp_path)
    assert result.returncode != 0 and "DATABASE_URL" in result.stderr


def test_production_takes_everything_from_the_environment(tmp_path):
    db = f"sqlite:///{tmp_path / 'prod.db'}"
    config = _config(_run("production", {
        "DATABASE_URL": db, "SECRET_KEY": "a-real-secret-0123456789", "REDIS_URL": "redis://127.0.0.1:6379/3",
        "PUBLIC_BASE_URL": "https://cme.example.cn", "TRUST_X_FORWARDED_FOR": "1",
        "ATTACHMENT_DIR": str(tmp_path / "att"), "JOB_FILES_DIR": str(tmp_path / "files"),
        "MAX_CONTENT_LENGTH": "31457280", "EXPORT_INLINE_MAX": "5000", "RQ_QUEUE": "cme-site",
        "WORKER_TTL": "90", "LOGIN_LOCK_ATTEMPTS": "7", **GATEWAY}, tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == db
    assert config["SECRET_KEY"] == "a-real-secret-0123456789"
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert config["SESSION_COOKIE_SECURE"] is True and not config["DEBUG"] and not config["TESTING"]
    assert (config["PUBLIC_BASE_URL"], config["TRUST_X_FORWARDED_FOR"]) == ("https://cme.example.cn", 1)
    assert (config["ATTACHMENT_DIR"], config["JOB_FILES_DIR"]) == (str(tmp_path / "att"), str(tmp_path / "files"))
    assert (config["MAX_CONTENT_LENGTH"], config["EXPORT_INLINE_MAX"]) == (30 * 1024 * 1024, 5000)
    assert (config["SUP_SMS_SENDER"], config["SMS_API_URL"], config["SMS_TEMPLATE_ID"]) == (
        GATEWAY["SUP_SMS_SENDER"], GATEWAY["SMS_API_URL"], "SMS_1")
    assert (config["RQ_QUEUE"], config["WORKER_TTL"], config["LOGIN_LOCK_ATTEMPTS"]) == ("cme-site", 90, 7)
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_production_refuses_the_development_sms_sender_unless_allowed(tmp_path):
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}", "SECRET_KEY": "a-real-secret-0123456789"}
    result = _run("production", base, tmp_path)
    assert result.returncode != 0 and "开发用短信发送器" in result.stderr and "CME_ALLOW_DEV_SMS" in result.stderr
    result = _run("production", {**base, **GATEWAY, "SMS_API_SECRET": ""}, tmp_path)
    assert result.returncode != 0 and "缺少 SMS_API_SECRET" in result.stderr
    config = _config(_run("production", {**base, "CME_ALLOW_DEV_SMS": "1"}, tmp_path))
    assert config["SUP_SMS_SENDER"] == "app.services.sms:DevSmsSender"
    assert config["TRUST_X_FORWARDED_FOR"] == 0 and config["PUBLIC_BASE_URL"] == ""


def test_development_uses_a_sqlite_file_in_instance_and_in_process_jobs(tmp_path):
    config = _config(_run("development", {}, tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + os.path.join(ROOT, "instance", "cme.db")
    assert config["REDIS_URL"] is None  # no Redis: jobs run in-process
