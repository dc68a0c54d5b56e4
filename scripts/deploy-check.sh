#!/usr/bin/env bash
# Deploy check (issue 12, run by .ci/run after the tests): install the committed code the way README
# "Production" says, into a fresh folder, and prove it serves.
#
#   1. git clone of this repository into a temporary /opt/cme stand-in; .venv + requirements.txt
#   2. files folders, a fresh PostgreSQL database, the env file made from deploy/cme.env.example
#   3. `flask cme init` with the city and the first 市继教办 administrator
#   4. the web server and the worker started with the ExecStart lines of deploy/cme-web.service and
#      deploy/cme-worker.service (systemd does not run here; the lines are read from the unit files, so they
#      cannot drift), with the unit's Environment= lines and the env file, as systemd would
#   5. over HTTP (scripts/deploy_client.py, the headers nginx adds): /healthz, login, a district, institution
#      and department added through the pages, a people import that fails (error report) and one that
#      succeeds — both run by the worker
#   6. `flask cme backup`, `flask cme restore` into a second database and second files folders, a second
#      server on them: login, the same counts, the error report downloads with the same sha256
#
# What differs from the README, because CI is not a Debian server with sudo: PostgreSQL is reached as
# CME_DEPLOY_PG (default postgres@127.0.0.1, trust) instead of `sudo -u postgres createdb`; Redis is a
# redis-server of its own started with deploy/redis-cme.conf on a free port (not the packaged service);
# there is no nginx (the client sends its X-Forwarded-* headers itself); paths live under a temporary
# folder. Everything is removed afterwards, on failure too (trap).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
PG_ADMIN=${CME_DEPLOY_PG:-postgresql://postgres@127.0.0.1:5432/postgres}
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
WORK=$(mktemp -d /tmp/cme-deploy-check.XXXXXX)
APP=$WORK/opt/cme
DATA1=$WORK/var/lib/cme
DATA2=$WORK/restored/var/lib/cme
DB1=cme_deploy_$$_a
DB2=cme_deploy_$$_b
ADMIN_PASSWORD="Deploy#$(date +%s)x"
STARTED=$(date +%s)
PIDS=()

say() { echo "==> [deploy-check $(( $(date +%s) - STARTED ))s] $*"; }
pg_url() { "$PY" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PG_ADMIN" "$1"; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 1 150); do  # gunicorn's graceful timeout is 30 s; a loaded machine needs a while
        alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.2
    done
    for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; done
    if [ $rc != 0 ]; then
        for log in "$WORK"/*.log; do [ -f "$log" ] && { echo "----- $log (last 40 lines)"; tail -n 40 "$log"; }; done
    fi
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB1 WITH (FORCE)" -c "DROP DATABASE IF EXISTS $DB2 WITH (FORCE)" \
        >/dev/null 2>&1
    rm -rf "$WORK"
    if [ $rc = 0 ]; then say "passed"; else say "FAILED (exit $rc)"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- README 3: code and virtualenv --------------------------------------------------------------------
say "git clone into $APP"
mkdir -p "$WORK/opt"
git clone --quiet "$SRC" "$APP"
cd "$APP"
say "virtualenv and requirements.txt"
"$PY" -m venv .venv
.venv/bin/pip install -q -r requirements.txt >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log"; exit 1; }

# --- README 5: Redis with the shipped settings (append-only file, noeviction) --------------------------
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server "$APP/deploy/redis-cme.conf" --port "$REDIS_PORT" --dir "$WORK/redis" --daemonize no \
    --logfile "$WORK/redis.log" &
PIDS+=($!)
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(redis-cli -p "$REDIS_PORT" config get appendonly | tail -n 1)" = yes ]
[ "$(redis-cli -p "$REDIS_PORT" config get maxmemory-policy | tail -n 1)" = noeviction ]
REDIS_HOST_PORT=127.0.0.1:$REDIS_PORT

# --- README 2 and 4: folders and database -------------------------------------------------------------
mkdir -p "$DATA1/files" "$DATA1/attachments" "$DATA1/backups"
psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB1 ENCODING 'UTF8' TEMPLATE template0"

# --- README 6: the env file, from the example with this site's values ---------------------------------
env_file() {  # env_file OUT KEY=VALUE…: deploy/cme.env.example with those keys set (added when absent)
    local out=$1; shift
    "$PY" - "$APP/deploy/cme.env.example" "$out" "$@" <<'PY'
import sys
src, out, *pairs = sys.argv[1:]
values = dict(p.split("=", 1) for p in pairs)
lines = []
for line in open(src, encoding="utf-8").read().splitlines():
    key = line.split("=", 1)[0] if "=" in line and not line.startswith("#") else None
    lines.append(f"{key}={values.pop(key)}" if key in values else line)
lines += [f"{k}={v}" for k, v in values.items()]
open(out, "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
}
PORT1=$(free_port)
SECRET=$("$PY" -c "import secrets; print(secrets.token_urlsafe(48))")
env_file "$WORK/cme.env" "SECRET_KEY=$SECRET" "DATABASE_URL=$(pg_url "$DB1")" \
    "REDIS_URL=redis://$REDIS_HOST_PORT/0" "PUBLIC_BASE_URL=http://127.0.0.1:$PORT1" \
    "JOB_FILES_DIR=$DATA1/files" "ATTACHMENT_DIR=$DATA1/attachments" "BACKUP_DIR=$DATA1/backups" \
    "BIND=127.0.0.1:$PORT1" "WEB_WORKERS=2" "WEB_THREADS=4"
chmod 640 "$WORK/cme.env"

with_env() {  # with_env ENV_FILE CMD…: run in the app folder with the env file's variables, as systemd does
    local envf=$1; shift
    (set -a; . "$envf"; set +a; cd "$APP"; "$@")
}

# --- README 7: first install ----------------------------------------------------------------------------
say "flask cme init"
with_env "$WORK/cme.env" env FLASK_APP=run.py CME_ADMIN_PASSWORD="$ADMIN_PASSWORD" .venv/bin/flask cme init \
    >"$WORK/init.log" 2>&1
grep -v "Filter type not supported\|^INFO \|^[a-z(]" "$WORK/init.log" | sed 's/^/  /'
grep -q "已创建市继教办管理员" "$WORK/init.log"
ADMIN=$(sed -n 's/^CME_ADMIN_USERNAME=//p' "$WORK/cme.env")
AGAIN=$(with_env "$WORK/cme.env" env FLASK_APP=run.py .venv/bin/flask cme init 2>&1)
grep -q "用户 $ADMIN 已存在，未修改" <<<"$AGAIN"  # running it again changes nothing

# --- README 8: the units' commands ------------------------------------------------------------------------
unit_exec() { sed -n 's/^ExecStart=//p' "$APP/deploy/$1" | sed "s#/opt/cme#$APP#g"; }
unit_env() { sed -n 's/^Environment=//p' "$APP/deploy/$1"; }
start_unit() {  # start_unit UNIT ENV_FILE LOG: the unit's ExecStart in its own process group
    local unit=$1 envf=$2 log=$3 cmd extra
    cmd=$(unit_exec "$unit")
    extra=$(unit_env "$unit")
    [ -n "$cmd" ] || { echo "no ExecStart in deploy/$unit"; exit 1; }
    say "start $unit: $cmd"
    # shellcheck disable=SC2086 # the unit's command line and its Environment= words, split as systemd does
    (set -a; . "$envf"; set +a; cd "$APP"; exec setsid env $extra $cmd) >"$log" 2>&1 &
    PIDS+=($!)
}
start_unit cme-web.service "$WORK/cme.env" "$WORK/web.log"
start_unit cme-worker.service "$WORK/cme.env" "$WORK/worker.log"
for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$PORT1/login/" && break; sleep 0.5; done
grep -q "gthread" "$WORK/web.log"

# --- over HTTP: health, pages, an import job through the worker ------------------------------------------
say "HTTP client on 127.0.0.1:$PORT1"
CLIENT=(.venv/bin/python "$APP/scripts/deploy_client.py")
with_env "$WORK/cme.env" env PYTHONPATH="$APP" "${CLIENT[@]}" setup "http://127.0.0.1:$PORT1" "$ADMIN" \
    "$ADMIN_PASSWORD" "$WORK/state.json"
with_env "$WORK/cme.env" env FLASK_APP=run.py .venv/bin/flask cme check 2>&1 | grep -v "Filter type not supported"
grep -q "203.0.113.7" "$WORK/web.log"  # the access log names the client nginx forwarded (X-Forwarded-For)

# --- README backups: back up, restore into a second database and folder, serve it ----------------------
COMMANDS=$(with_env "$WORK/cme.env" env FLASK_APP=run.py .venv/bin/flask cme --help 2>/dev/null)
if grep -q "restore" <<<"$COMMANDS"; then
    say "flask cme backup"
    ARCHIVE=$(with_env "$WORK/cme.env" env FLASK_APP=run.py .venv/bin/flask cme backup 2>"$WORK/backup.log" | tail -n 1)
    [ -f "$ARCHIVE" ] || { echo "no archive: $ARCHIVE"; exit 1; }
    PORT2=$(free_port)
    mkdir -p "$DATA2/files" "$DATA2/attachments" "$DATA2/backups"
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $DB2 ENCODING 'UTF8' TEMPLATE template0"
    env_file "$WORK/cme2.env" "SECRET_KEY=$SECRET" "DATABASE_URL=$(pg_url "$DB2")" \
        "REDIS_URL=redis://$REDIS_HOST_PORT/0" "PUBLIC_BASE_URL=http://127.0.0.1:$PORT2" \
        "JOB_FILES_DIR=$DATA2/files" "ATTACHMENT_DIR=$DATA2/attachments" "BACKUP_DIR=$DATA2/backups" \
        "BIND=127.0.0.1:$PORT2" "WEB_WORKERS=1" "WEB_THREADS=4" "RQ_QUEUE=cme-restored"
    say "flask cme restore $(basename "$ARCHIVE") into $DB2 and $DATA2"
    with_env "$WORK/cme2.env" env FLASK_APP=run.py .venv/bin/flask cme restore "$ARCHIVE" >"$WORK/restore.log" 2>&1
    for table in org ab_user person job; do
        a=$(psql -tAq "$(pg_url "$DB1")" -c "SELECT count(*) FROM $table")
        b=$(psql -tAq "$(pg_url "$DB2")" -c "SELECT count(*) FROM $table")
        [ "$a" = "$b" ] || { echo "$table: $a rows, restored $b"; exit 1; }
        echo "  $table: $a rows, restored $b"
    done
    start_unit cme-web.service "$WORK/cme2.env" "$WORK/web2.log"
    for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$PORT2/login/" && break; sleep 0.5; done
    with_env "$WORK/cme2.env" env PYTHONPATH="$APP" "${CLIENT[@]}" verify "http://127.0.0.1:$PORT2" "$ADMIN" \
        "$ADMIN_PASSWORD" "$WORK/state.json"
else
    say "flask cme backup/restore not in this revision: backup and restore skipped"
fi

# --- the worker stops cleanly when systemd stops it (SIGTERM: exit 0) -------------------------------------
say "stop the worker as systemctl stop does (SIGTERM)"
WORKER_PID=${PIDS[2]}
kill -TERM "$WORKER_PID"
(sleep 30; kill -KILL "$WORKER_PID" 2>/dev/null) &
WATCHDOG=$!
STOPPED=0
wait "$WORKER_PID" || STOPPED=$?
kill "$WATCHDOG" 2>/dev/null || true
[ "$STOPPED" = 0 ] || { echo "the worker ended with status $STOPPED on SIGTERM (expected 0)"; exit 1; }
