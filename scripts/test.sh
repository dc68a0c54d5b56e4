#!/usr/bin/env bash
# Set up and run the whole test suite: SQLite always; PostgreSQL (127.0.0.1:5432), Redis (127.0.0.1:6379)
# and headless Chromium (/usr/bin/chromium) when present — their tests are skipped, with the reason
# printed, when they are not. CME_REQUIRE_ALL=1 turns those skips into failures (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
# One worker process per core ( CME_TEST_WORKERS=0 runs in this process): each worker has
# its own SQLite file, PostgreSQL database, RQ queues and browser; tests are handed out one by one,
# a browser module whole (tests/conftest.py). CME_TEST_NOW="2026-10-31T23:59" runs the session at that
# instant (ticking), to check that no test depends on the hour or the day it runs.
echo "==> ruff (pyproject.toml)"
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n "${CME_TEST_WORKERS:-auto}" "$@"
