#!/usr/bin/env bash
# Shared setup: a virtualenv in .venv with the pinned dependencies. Sourced by run.sh / test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "==> 创建虚拟环境 .venv ($PY)"
  "$PY" -m venv .venv
fi
REQ=${1:-requirements.txt}
STAMP=".venv/.installed-$(basename "$REQ")"
if [ ! -f "$STAMP" ] || [ "$REQ" -nt "$STAMP" ] || [ requirements.txt -nt "$STAMP" ]; then
  echo "==> 安装依赖 ($REQ)"
  .venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/pip install -q -r "$REQ"
  touch "$STAMP"
fi
