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
                                                 "SESSION_COOKIE_SECURE", "DEBUG", "TESTING")}}))
"""


def _run(config: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CME_CONFIG", "TEST_DATABASE_URL")}
    clean.update(env, JOB_FILES_DIR=str(tmp_path / "jobs"), PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-c", PROBE.format(config=config)], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120, check=False)


def _config(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_refuses_the_default_or_missing_secret(tmp_path):
    db = f"sqlite:///{tmp_path / 'prod.db'}"
    result = _run("production", {"DATABASE_URL": db}, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    result = _run("production", {"DATABASE_URL": db, "SECRET_KEY": "dev-secret-change-me"}, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
    result = _run("production", {"SECRET_KEY": "a-real-secret-0123456789"}, tmp_path)
    assert result.returncode != 0 and "DATABASE_URL" in result.stderr


def test_production_takes_everything_from_the_environment(tmp_path):
    db = f"sqlite:///{tmp_path / 'prod.db'}"
    config = _config(_run("production", {"DATABASE_URL": db, "SECRET_KEY": "a-real-secret-0123456789",
                                         "REDIS_URL": "redis://127.0.0.1:6379/3"}, tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == db
    assert config["SECRET_KEY"] == "a-real-secret-0123456789"
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert config["SESSION_COOKIE_SECURE"] is True and not config["DEBUG"] and not config["TESTING"]


def test_development_uses_a_sqlite_file_in_instance_and_in_process_jobs(tmp_path):
    config = _config(_run("development", {}, tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + os.path.join(ROOT, "instance", "cme.db")
    assert config["REDIS_URL"] is None  # no Redis: jobs run in-process
