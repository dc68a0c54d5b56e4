"""Where each page of the issue-18 mix spends its time (run by hand on a built bench database).

    .venv/bin/python bench/pages.py --db cme_bench_small                # every page, city admin and hospital admin
    .venv/bin/python bench/pages.py --db cme_bench_small --only home --explain-all

For each page of the mix (bench/load.py runs the same paths over HTTP) and each demo user: the
median time through the app (Flask test client, in process), the number of SQL statements, and
``EXPLAIN (ANALYZE, BUFFERS)`` of every statement whose plan takes over ``--slow`` ms (all of them
with ``--explain-all``); ``--cpu N`` prints only the CPU time per request (median of N runs); ``--profile N`` adds a cProfile of N requests of each page. Nothing is written to the database (the app's migrations are applied
first, like bench_credits.py --reuse).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_people import DEFAULT_ADMIN_URL, StatementCounter, explain, login
from load import mix_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="cme_bench_small")
    parser.add_argument("--admin-url", default=os.environ.get("CME_BENCH_PG", DEFAULT_ADMIN_URL))
    parser.add_argument("--url", default="", help="a full database URL instead of --db (e.g. the SQLite demo)")
    parser.add_argument("--users", default="admin,hospital")
    parser.add_argument("--only", default="", help="comma-separated page names of the mix")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--slow", type=float, default=1.0, help="explain statements slower than this (ms)")
    parser.add_argument("--explain-all", action="store_true")
    parser.add_argument("--no-migrate", action="store_true")
    parser.add_argument("--profile", type=int, default=0, help="cProfile this many requests of each page (top functions)")
    parser.add_argument("--cpu", type=int, default=0,
                        help="measure only: CPU time (time.process_time) per request, median of this many runs "
                             "of 5 requests each (the app's Python work; SQL waits excluded)")
    args = parser.parse_args()

    from sqlalchemy import select

    from app import create_app
    from app.cli import DEMO_PASSWORD
    from app.extensions import db
    from app.models import CmeUser, Person

    url = args.url or args.admin_url.rsplit("/", 1)[0] + "/" + args.db
    if not args.no_migrate:
        from bench_credits import migrate
        migrate(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, JOB_FILES_DIR=tempfile.mkdtemp())
    import gc

    gc.freeze()  # as run.py does for the served app
    with app.app_context():
        engine = db.engine
        counter = StatementCounter(engine)
        hospital = db.session.scalar(select(CmeUser).where(CmeUser.username == "hospital"))
        person_id = db.session.scalar(select(Person.id).where(Person.institution_id == hospital.org.institution_id)
                                      .order_by(Person.id).limit(1))  # seen by the city and the hospital
        db.session.remove()
        only = set(filter(None, args.only.split(",")))
        for username in args.users.split(","):
            client = login(app, username, DEMO_PASSWORD)
            for name, path in mix_paths(person_id):
                if only and name not in only:
                    continue
                if args.cpu:
                    client.get(path)  # warm-up
                    runs = []
                    for _ in range(args.cpu):
                        started = time.process_time()
                        for _ in range(5):
                            r = client.get(path)
                        runs.append((time.process_time() - started) * 1000 / 5)
                    print(f"{username:10} {name:12} → {r.status_code}  CPU {statistics.median(runs):6.1f} ms/request "
                          f"(min {min(runs):.1f}, max {max(runs):.1f})")
                    continue
                times = []
                for i in range(args.repeat + 1):
                    started = time.perf_counter()
                    r = client.get(path)
                    if i:
                        times.append((time.perf_counter() - started) * 1000)
                timed_sql: list[tuple[float, str, object]] = []
                starts: dict[int, float] = {}

                def before(conn, cursor, statement, parameters, context, executemany, starts=starts):
                    starts[id(cursor)] = time.perf_counter()

                def after(conn, cursor, statement, parameters, context, executemany, starts=starts,
                          timed_sql=timed_sql):
                    timed_sql.append(((time.perf_counter() - starts.pop(id(cursor), time.perf_counter())) * 1000,
                                      statement, parameters))

                from sqlalchemy import event
                event.listen(engine, "before_cursor_execute", before)
                event.listen(engine, "after_cursor_execute", after)
                try:
                    counter.run(lambda client=client, path=path: client.get(path))
                finally:
                    event.remove(engine, "before_cursor_execute", before)
                    event.remove(engine, "after_cursor_execute", after)
                if args.profile:
                    import cProfile
                    import pstats

                    profiler = cProfile.Profile()
                    profiler.enable()
                    for _ in range(args.profile):
                        client.get(path)
                    profiler.disable()
                    print(f"\n--- cProfile of {args.profile} × {username} {name}: by own time, then cumulative")
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
                sql_ms = sum(t for t, _, _ in timed_sql)
                print(f"\n=== {username} {name} {path} → {r.status_code}, median {statistics.median(times):.1f} ms "
                      f"(min {min(times):.1f}), {len(timed_sql)} statements, SQL {sql_ms:.1f} ms, "
                      f"{len(r.data) // 1024} KiB")
                for ms, statement, parameters in timed_sql:
                    head = " ".join(statement.split())[:150]
                    print(f"  {ms:7.2f} ms  {head}")
                    if (args.explain_all or ms >= args.slow) and statement.lstrip().upper().startswith("SELECT"):
                        for row in explain(engine, statement, parameters):
                            print("             | " + row)


if __name__ == "__main__":
    main()
