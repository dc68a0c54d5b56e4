#!/usr/bin/env bash
# Production web server (README "Production"; deploy/cme-web.service runs it): gunicorn with threaded
# workers (gthread) on run:app, behind nginx. Settings come from the environment (/etc/cme/cme.env):
#   BIND          address to listen on                         default 127.0.0.1:8000
#   WEB_WORKERS   worker processes                              default 2 × cores, at most 9 (2 cores: 4)
#   WEB_THREADS   threads per worker                            default 1 (measured: bench/README.md, issue 18;
#                 threads of one process share its interpreter lock: 4 × 1 served the page mix 10–25 % faster
#                 than 3 × 4 or 4 × 2 on 2 cores; raise it where many slow downloads tie processes up)
#   WEB_KEEPALIVE seconds an idle keep-alive connection is kept  default 0: each response closes its
#                 connection, so every request goes to whichever process is free (a kept connection stays
#                 with its process: at 50 busy sessions p95 1.7–2.0 s with 5, 1.3–1.4 s with 0, same
#                 throughput; bench/README.md). nginx reconnects on localhost at no measurable cost.
# A worker is replaced after 20,000 (± 2,000) requests (a guard against slow leaks; a new one loads the app
# again, ~3 s of CPU, so not much more often than every quarter of an hour at city load).
#   WEB_TIMEOUT   seconds a silent worker lives before restart  default 120
#   ACCESS_LOG / ERROR_LOG   file paths, or "-" for stdout/stderr (journald under systemd)   default -
set -euo pipefail
cd "$(dirname "$0")/.."
export CME_CONFIG=${CME_CONFIG:-production}
CORES=$(nproc 2>/dev/null || echo 2)
WORKERS=${WEB_WORKERS:-$(( CORES * 2 ))}
if [ -z "${WEB_WORKERS:-}" ] && [ "$WORKERS" -gt 9 ]; then WORKERS=9; fi
exec .venv/bin/gunicorn run:app \
    --worker-class gthread \
    --workers "$WORKERS" \
    --threads "${WEB_THREADS:-1}" \
    --bind "${BIND:-127.0.0.1:8000}" \
    --timeout "${WEB_TIMEOUT:-120}" \
    --graceful-timeout 30 \
    --keep-alive "${WEB_KEEPALIVE:-0}" \
    --max-requests 20000 --max-requests-jitter 2000 \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    --access-logfile "${ACCESS_LOG:--}" \
    --error-logfile "${ERROR_LOG:--}" \
    --access-logformat '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"' \
    --capture-output
