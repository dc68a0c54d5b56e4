#!/usr/bin/env bash
# Set up and start the app on the embedded default (SQLite in instance/, jobs in-process),
# with demo data. Prints the URL and the demo logins.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
export FLASK_APP=run.py CME_CONFIG=${CME_CONFIG:-development}
echo "==> 初始化数据库并生成演示数据"
mkdir -p instance
.venv/bin/flask cme demo --persons "${DEMO_PERSONS:-2000}" 2>&1 | grep -v "Filter type not supported" \
    | tee instance/demo-logins.txt
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
SITE_CODE=$(sed -n 's|.*/m/login?code=\([A-Z0-9]*\).*|\1|p' instance/demo-logins.txt | head -n 1)
echo
echo "==> 系统地址 (URL): http://$HOST:$PORT/"
echo "    用上面的演示账号登录 (log in with a demo login above). Ctrl+C 停止."
if [ -n "$SITE_CODE" ]; then
    echo "    现场会务负责人手机登录 (site manager, phone): http://$HOST:$PORT/m/login?code=$SITE_CODE"
fi
exec env HOST="$HOST" PORT="$PORT" .venv/bin/python run.py
