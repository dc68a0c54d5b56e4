"""Personnel benchmark on PostgreSQL: build the city-scale data set, then time the personnel list.

    .venv/bin/python bench/bench_people.py                 # 300,000 persons, scratch database
    .venv/bin/python bench/bench_people.py --persons 50000 --keep
    .venv/bin/python bench/bench_people.py --url postgresql://postgres@127.0.0.1:5432/cme_bench_x

1. Creates a scratch database (unless --url names an existing one) and runs the real command
   ``flask cme demo --persons N`` in a subprocess, timing it (migrations included).
2. Serves requests through the real app with a Flask test client logged in as the demo users:
   the city admin (``admin``) and the admin of a tertiary hospital (``hospital``). Each request is
   timed 20 times (median printed) and its SQL statements are counted with a
   ``before_cursor_execute`` listener.
3. Runs EXPLAIN ANALYZE on the statements the list pages sent, to show which indexes are used.
4. Drops the scratch database unless --keep.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_sql(admin_url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def create_database(admin_url: str) -> str:
    from sqlalchemy.engine import make_url

    name = f"cme_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _admin_sql(admin_url, f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    _admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def build(url: str, persons: int, institutions: int | None) -> float:
    """Run ``flask cme demo`` against ``url``; return its wall-clock seconds."""
    env = dict(os.environ, DATABASE_URL=url, FLASK_APP="run.py", CME_CONFIG="development")
    cmd = [os.path.join(os.path.dirname(sys.executable), "flask"), "cme", "demo", "--persons", str(persons)]
    if institutions:
        cmd += ["--institutions", str(institutions)]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    seconds = time.perf_counter() - started
    for line in done.stdout.splitlines():
        if "用时" in line:  # the command's own timing of the data (migrations excluded)
            print(f"  {line.strip()}")
    return seconds


class StatementCounter:
    """Counts (and keeps) the SQL statements sent while ``recording``."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.recording = False
        self.statements: list[tuple[str, object]] = []
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording:
            self.statements.append((statement, parameters))

    def run(self, fn):
        self.statements = []
        self.recording = True
        try:
            return fn()
        finally:
            self.recording = False


def login(app, username: str, password: str):
    client = app.test_client()
    r = client.post("/login/", data={"username": username, "password": password})
    if r.status_code != 302:
        raise SystemExit(f"login of {username} failed ({r.status_code})")
    return client


def time_request(counter: StatementCounter, client, path: str, repeat: int) -> dict:
    for _ in range(2):  # warm caches (templates, query plans, PostgreSQL buffers)
        client.get(path)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"GET {path} answered {r.status_code}")
    response = counter.run(lambda: client.get(path))
    return {"path": path, "median": statistics.median(times), "min": min(times), "max": max(times),
            "statements": list(counter.statements), "bytes": len(response.data),
            "body": response.get_data(as_text=True)}


def explain(engine, statement: str, parameters) -> list[str]:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
        return [row[0] for row in cur.fetchall()]
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--institutions", type=int, default=None,
                        help="institutions to generate (default: automatic, ~1 per 2,000 persons)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--url", help="use this existing database (no build, never dropped)")
    parser.add_argument("--admin-url", default=os.environ.get("CME_BENCH_PG", DEFAULT_ADMIN_URL),
                        help="PostgreSQL URL used to create / drop the scratch database")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--verbose", action="store_true", help="print every SQL statement of each request")
    args = parser.parse_args()

    scratch = None
    if args.url:
        url = args.url
        print(f"database: {url} (existing, not rebuilt)")
    else:
        url = scratch = create_database(args.admin_url)
        print(f"database: {url} (scratch)")
    try:
        if scratch:
            seconds = build(url, args.persons, args.institutions)
            print(f"build: flask cme demo --persons {args.persons}: {seconds:.1f} s")
        run_benchmarks(url, args)
    finally:
        if scratch and not args.keep:
            drop_database(args.admin_url, scratch)
            print(f"dropped {scratch}")
        elif scratch:
            print(f"kept {scratch}")


def run_benchmarks(url: str, args) -> None:
    from sqlalchemy import func, select

    from app import create_app
    from app.cli import DEMO_PASSWORD
    from app.extensions import db
    from app.models import CmeUser, Org, Person

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, JOB_FILES_DIR=tempfile.mkdtemp())
    with app.app_context():
        engine = db.engine
        counter = StatementCounter(engine)
        persons = db.session.scalar(select(func.count(Person.id)))
        n_inst = db.session.scalar(select(func.count(Org.id)).where(Org.kind == "institution"))
        n_dept = db.session.scalar(select(func.count(Org.id)).where(Org.kind == "department"))
        hospital = db.session.scalar(select(CmeUser).where(CmeUser.username == "hospital"))
        inst_id = hospital.org.institution_id
        inst_name = hospital.org.name
        inst_persons = db.session.scalar(select(func.count(Person.id)).where(Person.institution_id == inst_id))
        small = db.session.execute(
            select(Person.institution_id, func.count()).group_by(Person.institution_id)
            .order_by(func.count(), Person.institution_id).limit(1)).one()
        biggest = db.session.execute(
            select(Person.institution_id, func.count()).group_by(Person.institution_id)
            .order_by(func.count().desc()).limit(1)).one()
        db.session.remove()
    print(f"data: {persons} persons, {n_inst} institutions, {n_dept} departments; "
          f"{inst_name} (id {inst_id}) has {inst_persons} persons; largest institution {biggest[1]}, "
          f"smallest {small[1]} (id {small[0]})")

    admin = login(app, "admin", DEMO_PASSWORD)
    hosp = login(app, "hospital", DEMO_PASSWORD)
    cases = [
        ("a", "city admin, list page 1", admin, "/persons/list/"),
        ("b", "city admin, filtered by institution", admin, f"/persons/list/?_flt_0_institution={inst_id}"),
        ("b2", "city admin, filtered by small institution", admin,
         f"/persons/list/?_flt_0_institution={small[0]}"),
        ("c", "institution admin, list page 1", hosp, "/persons/list/"),
        ("d", "city admin, person picker q=张", admin, "/pickers/persons?q=" + quote("张")),
        ("e", "institution admin, person picker q=zh", hosp, "/pickers/persons?q=zh"),
        ("f", "city admin, search name starts with 张伟", admin, "/persons/list/?_flt_0_name=" + quote("张伟")),
        ("g", "city admin, department picker of inst.", admin, f"/persons/departments/?parent={inst_id}"),
    ]
    results = {}
    print(f"\nrequest timings (median of {args.repeat}, ms; SQL statements per request; response size)")
    for key, label, client, path in cases:
        res = time_request(counter, client, path, args.repeat)
        results[key] = res
        print(f"  ({key:<2}) {label:<42} median {res['median']:7.1f}  min {res['min']:7.1f}  "
              f"max {res['max']:7.1f}  sql {len(res['statements']):3d}  {res['bytes'] / 1024:7.1f} KiB")
        if args.verbose:
            for statement, _ in res["statements"]:
                print("      " + " ".join(statement.split())[:160])

    # Forms: nothing may render a <select> of every person / department.
    print("\npage sizes (city admin)")
    for path in ("/persons/list/", "/persons/add", "/persons/import/", "/api/v1/person/_info"):
        r = admin.get(path)
        body = r.get_data(as_text=True)
        if path.endswith("_info"):  # REST form info: the choices it lists per related field
            fields = (r.get_json() or {}).get("add_columns", [])
            choices = {f["name"]: len(f["values"]) for f in fields if "values" in f}
            print(f"  {path:<22} {r.status_code}  {len(r.data) / 1024:7.1f} KiB  choices: {choices}")
        else:
            print(f"  {path:<22} {r.status_code}  {len(r.data) / 1024:7.1f} KiB  <option> tags: "
                  f"{body.count('<option')}")

    deep_page = max(0, persons // 20 // 2)
    deep = time_request(counter, admin, f"/persons/list/?page_PersonView={deep_page}", max(3, args.repeat // 4))
    print(f"\ndeep page (page {deep_page} of {persons // 20}, OFFSET {deep_page * 20}): "
          f"median {deep['median']:.1f} ms over {max(3, args.repeat // 4)} runs")

    with app.app_context():
        engine = db.engine
        print("\nEXPLAIN ANALYZE of the person queries of each list request")
        for key in ("a", "b", "b2", "c", "d", "f"):
            for statement, params in results[key]["statements"]:
                flat = " ".join(statement.split())
                if "FROM person" not in flat:
                    continue
                kind = "count" if flat.startswith("SELECT count(") else "rows"
                print(f"  ({key}) {kind}: {flat[:110]}…")
                for line in explain(engine, statement, params):
                    print("      " + line)
        rows = [s for s in deep["statements"] if "FROM person" in s[0] and "LIMIT" in s[0]]
        if rows:
            print(f"  (deep page) rows: {' '.join(rows[-1][0].split())[:110]}…")
            for line in explain(engine, rows[-1][0], rows[-1][1]):
                print("      " + line)


if __name__ == "__main__":
    main()
