"""Credit benchmark on PostgreSQL (issue 3): 300,000 persons, 10,000,000 credits, then the timings.

    .venv/bin/python bench/bench_credits.py                  # build cme_bench (minutes), then measure
    .venv/bin/python bench/bench_credits.py --reuse          # measure again on the database built before
    .venv/bin/python bench/bench_credits.py --build-only     # (re)build and stop
    .venv/bin/python bench/bench_credits.py --reuse --repeat 9 --only recompute,list

Run by hand, not by pytest; it prints numbers. Steps:
1. Build (unless --reuse finds a built database): drop and create the database ``--db`` (default
   ``cme_bench``), run the real ``flask cme demo --persons 300000`` (persons by COPY, see
   bench_people.py), then 10,000,000 credits in one ``INSERT … SELECT … FROM generate_series`` with
   the credit table's plain indexes and foreign keys dropped and rebuilt afterwards (same
   transaction), and ``VACUUM (ANALYZE)``. Credits spread uniformly over persons and over three
   credit years (2022-11-01 … 2025-10-31), over the categories, amounts and statuses of BUCKETS.
2. Measure, median of ``--repeat`` runs each (after one warm-up run):
   - recompute: the 达标计算 job function (app.jobs.compliance.recompute_year, city scope, the
     year the app offers by default) next to the bare ``SELECT person_id, sum(credits) … GROUP BY
     person_id`` over the same rows (counted statuses, the year's window); target ≤ 1.2× (issue 18; 1.5× in issue 3);
   - explain: one person's explanation, ``credit_records.transcript`` (the query + evaluate) and
     the REST call ``GET /api/v1/compliance/<id>``; target ≤ 50 ms;
   - list: the credit list page as the view runs it (count included) for the city admin and for
     the admin of a tertiary hospital, filtered by status and date; target ≤ 100 ms;
   - export: ``/credits/export/`` of ~100,000 credits next to a bare XlsxWriter ``constant_memory``
     write of the same rows fetched by plain SQL; target ≤ 1.3×; peak Python memory (tracemalloc,
     a separate run) of both.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_people import (
    DEFAULT_ADMIN_URL,
    StatementCounter,
    _admin_sql,
    build,
    explain,
    login,
)

# (weight, category, activity type, credits, hours, months, source, from a project?) — the mix of a
# credit year: mostly project attendance of 1–10 credits, practice sessions, capped self-study, a
# few full-year further studies and residencies.
PROJECT, PRACTICE = "继续医学教育项目", "有组织的继续医学教育实践活动"
BUCKETS = [
    (8, "国家级继续医学教育项目", PROJECT, 2, 6, None, "card", True),
    (6, "国家级继续医学教育项目", PROJECT, 4, 12, None, "qr", True),
    (4, "国家级继续医学教育项目", PROJECT, 10, 30, None, "project_import", True),
    (8, "市级继续医学教育项目", PROJECT, 1, 3, None, "card", True),
    (8, "市级继续医学教育项目", PROJECT, 3, 9, None, "card", True),
    (4, "市级继续医学教育项目", PROJECT, 6, 18, None, "qr", True),
    (10, "区级继续医学教育项目", PROJECT, 2, 6, None, "card", True),
    (6, "区级继续医学教育项目", PROJECT, 5, 15, None, "unit", True),
    (5, "北京市继教委许可发证书项目", PROJECT, 6, 18, None, "project_import", True),
    (9, "有组织的继续医学教育实践活动", PRACTICE, 0.2, 1, None, "unit", False),
    (5, "有组织的继续医学教育实践活动", PRACTICE, 0.5, 1, None, "unit", False),
    (5, "有组织的继续医学教育实践活动", PRACTICE, 2, 12, None, "unit", False),
    (7, "有计划的自学", "有计划的自学", 4, None, None, "self_study", False),
    (5, "有计划的自学", "有计划的自学", 8, None, None, "self_study", False),
    (2, "进修学习", "进修学习", 25, None, 3, "manual", False),
    (2, "进修学习", "进修学习", 3, 18, None, "manual", False),
    (1, "在职学历(学位)教育", "在职学历(学位)教育", 25, None, 6, "manual", False),
    (1, "政府指令性医疗卫生任务", "政府指令性医疗卫生任务", 4, 24, None, "unit", False),
    (1, "住院医师规范化培训", "符合规定的其他方式", 25, None, None, "unit", False),
    (3, "发表论文", "符合规定的其他方式", 5, None, None, "manual", False),
]
# 100 status buckets: most credits passed review, some wait, some were rejected.
STATUSES = ["city_approved"] * 70 + ["unit_approved"] * 15 + ["submitted"] * 6 + ["rejected"] * 5 + ["draft"] * 4
SUBJECTS = ["心血管病学", "呼吸病学", "消化病学", "内分泌学", "普通外科学", "骨科学", "妇产科学", "儿科学",
            "急诊医学", "护理学", "全科医学", "影像医学"]
FIRST_DAY = "2022-11-01"  # three credit years of Beijing's 11-01 … 10-31 window
DAYS = 1095


def database_url(admin_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def database_ready(admin_url: str, name: str) -> bool:
    """The database exists and holds the built credits (a --reuse can skip the build)."""
    import psycopg2

    conn = psycopg2.connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                return False
    finally:
        conn.close()
    conn = psycopg2.connect(database_url(admin_url, name))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('credit') IS NOT NULL AND EXISTS (SELECT 1 FROM credit)")
            return bool(cur.fetchone()[0])
    finally:
        conn.close()


def _sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def build_credits(url: str, count: int) -> float:
    """INSERT … SELECT generate_series: ``count`` credits over the persons, set-based (no Python
    row loop). Returns seconds."""
    from sqlalchemy import create_engine, text

    from app.demo.city import _indexes_deferred

    engine = create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        pmin, pmax, persons = conn.execute(text("SELECT min(id), max(id), count(*) FROM person")).one()
        if pmax - pmin + 1 != persons:
            raise SystemExit("person ids are not contiguous; rebuild the database")
        rs_id = conn.execute(text("SELECT id FROM rule_set WHERE code = 'BJ2025'")).scalar_one()
        standards = dict(conn.execute(text(
            "SELECT category, min(id) FROM credit_standard WHERE rule_set_id = :rs GROUP BY category"),
            {"rs": rs_id}).all())
        buckets = []
        for weight, category, atype, credits, hours, months, source, project in BUCKETS:
            buckets += [(category, atype, credits, hours, months, source, project,
                         standards.get(category))] * weight
        values = ",\n".join(
            f"({k}, {', '.join(_sql_literal(v) for v in row)})" for k, row in enumerate(buckets))
        conn.execute(text(
            "CREATE TEMP TABLE bench_bucket (k int PRIMARY KEY, category text, activity_type text, "
            "credits numeric, hours numeric, months numeric, source text, project boolean, standard_id int) "
            "ON COMMIT DROP"))
        conn.execute(text(f"INSERT INTO bench_bucket VALUES {values}"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        conn.execute(text("SELECT setseed(0.2026)"))
        statuses = "ARRAY[" + ",".join(_sql_literal(s) for s in STATUSES) + "]"
        subjects = "ARRAY[" + ",".join(_sql_literal(s) for s in SUBJECTS) + "]"
        with _indexes_deferred(conn, "credit"):
            conn.execute(text(f"""
                INSERT INTO credit (person_id, district_id, institution_id, department_id, rule_set_id,
                    standard_id, activity_type, project_no, content, granted_on, category, subject, credits,
                    hours, months, amount, remark, grantor_name, uploaded_at, source, status, certificate_no)
                SELECT p.id, p.district_id, p.institution_id, p.department_id, :rs, b.standard_id,
                       b.activity_type,
                       CASE WHEN b.project THEN '2025-' || lpad((r.g % 9973)::text, 4, '0') || '(01)' END,
                       b.category || '第' || (r.g % 97 + 1) || '期',
                       r.day, b.category, ({subjects})[1 + r.g % {len(SUBJECTS)}], b.credits, b.hours, b.months,
                       coalesce(b.hours, b.months), NULL,
                       CASE WHEN b.project THEN '北京市继续医学教育委员会' END,
                       r.day + make_interval(days => r.g % 20, secs => r.g % 36000 + 28800),
                       b.source, ({statuses})[1 + floor(r.s * 100)::int],
                       CASE WHEN b.project THEN 'Z' || r.g END
                FROM (SELECT g, :pmin + floor(random() * :persons)::int AS pid,
                             floor(random() * {len(buckets)})::int AS k,
                             DATE '{FIRST_DAY}' + floor(random() * {DAYS})::int AS day,
                             random() AS s
                      FROM generate_series(1, :n) AS g) AS r
                JOIN person p ON p.id = r.pid
                JOIN bench_bucket b ON b.k = r.k
            """), {"rs": rs_id, "pmin": pmin, "persons": persons, "n": count})
    seconds = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) credit"))
        conn.execute(text("DELETE FROM compliance_result"))
        conn.execute(text("VACUUM (ANALYZE) compliance_result"))
    engine.dispose()
    return seconds


def build_all(args) -> None:
    url = database_url(args.admin_url, args.db)
    _admin_sql(args.admin_url, f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
    _admin_sql(args.admin_url, f"CREATE DATABASE \"{args.db}\" ENCODING 'UTF8' TEMPLATE template0")
    seconds = build(url, args.persons, None)
    print(f"build: flask cme demo --persons {args.persons}: {seconds:.1f} s")
    started = time.perf_counter()
    insert_s = build_credits(url, args.credits)
    print(f"build: {args.credits:,} credits by INSERT … SELECT generate_series: {insert_s:.1f} s "
          f"(with indexes and keys rebuilt), {time.perf_counter() - started:.1f} s with VACUUM ANALYZE")


def migrate(url: str) -> str:
    """Bring a reused database to the code's migrations (an index added since the build)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, JOB_FILES_DIR=tempfile.mkdtemp())
    with app.app_context():
        before = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        db.session.remove()
        started = time.perf_counter()
        upgrade(revision="heads")
        after = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        db.session.remove()
        db.engine.dispose()
    if before == after:
        return "migrations current"
    return f"migrated {', '.join(sorted(before))} → {', '.join(sorted(after))} in {time.perf_counter() - started:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="cme_bench", help="database to build / reuse (default cme_bench)")
    parser.add_argument("--admin-url", default=os.environ.get("CME_BENCH_PG", DEFAULT_ADMIN_URL),
                        help="PostgreSQL URL used to create / drop the database")
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--credits", type=int, default=10_000_000)
    parser.add_argument("--reuse", action="store_true", help="skip the build when --db is already built")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median printed)")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--only", default="recompute,cold,explain,list,export",
                        help="comma-separated measurements to run")
    parser.add_argument("--verbose", action="store_true", help="EXPLAIN every list statement")
    args = parser.parse_args()

    if args.reuse and database_ready(args.admin_url, args.db):
        print(f"database: {args.db} (reused, not rebuilt; {migrate(database_url(args.admin_url, args.db))})")
    else:
        build_all(args)
    if not args.build_only:
        run_benchmarks(database_url(args.admin_url, args.db), args)


# ------------------------------------------------------------------------------------ measuring
def timed(fn, repeat: int, warm: int = 1) -> tuple[float, list[float], object]:
    """(median ms, all ms, last result) of ``fn`` run ``repeat`` times after ``warm`` warm-up runs."""
    result = None
    for _ in range(warm):
        result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times, result


def peak_memory(fn) -> float:
    """Peak Python memory (MiB) allocated while ``fn`` runs (tracemalloc, so a separate, slower run)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def line(label: str, ms: float, times: list[float], extra: str = "") -> None:
    print(f"  {label:<58} median {ms:9.1f} ms  (min {min(times):.1f}, max {max(times):.1f}){extra}")


def verdict(value: float, target: float, unit: str = "×") -> str:
    return f"{value:.2f}{unit} (target ≤ {target}{unit}: {'OK' if value <= target else 'MISSED'})"


class _Ctx:
    """What the job function needs from its JobContext (progress goes nowhere here)."""

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.job_id = "bench"

    def progress(self, *args, **kwargs) -> None:
        pass


def run_benchmarks(url: str, args) -> None:
    from sqlalchemy import func, select, text

    from app import create_app
    from app.cli import DEMO_PASSWORD
    from app.extensions import db
    from app.jobs.compliance import recompute_year
    from app.models import CmeUser, ComplianceResult, Credit, Person
    from app.models.credits import COUNTED_STATUSES
    from app.services import credit_records
    from app.services.compliance import window
    from app.services.rule_sets import policy_params

    only = set(args.only.split(","))
    # The export is measured streamed (an export job writes through the same write_xlsx); above
    # EXPORT_INLINE_MAX rows the app would answer with a job page instead.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, JOB_FILES_DIR=tempfile.mkdtemp(),
                     EXPORT_INLINE_MAX=10**9)
    with app.app_context():
        engine = db.engine
        counter = StatementCounter(engine)
        persons = db.session.scalar(select(func.count(Person.id)))
        credits = db.session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'credit'"))
        region = credit_records.region(db.session)
        year = credit_records.default_year(db.session, region)
        rs = credit_records.rule_set_for_year(db.session, region, year)
        start, end = window(policy_params(rs), year)
        admin = db.session.scalar(select(CmeUser).where(CmeUser.username == "admin"))
        admin_id = admin.id
        hospital = db.session.scalar(select(CmeUser).where(CmeUser.username == "hospital"))
        inst_id, inst_name = hospital.org.institution_id, hospital.org.name
        inst_credits = db.session.scalar(select(func.count()).select_from(Credit).where(Credit.institution_id == inst_id))
        in_year = db.session.scalar(select(func.count()).select_from(Credit).where(
            Credit.status.in_(COUNTED_STATUSES), Credit.granted_on.between(start, end)))
        server = db.session.scalar(text("SELECT version()")).split(",")[0]
        settings = {name: db.session.scalar(text(f"SHOW {name}")) for name in
                    ("shared_buffers", "work_mem", "max_parallel_workers_per_gather")}
        db.session.remove()
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {server}; {settings}")
    print(f"data: {persons:,} persons, ~{credits:,} credits; {region} credit year {year} ({start} … {end}) judged "
          f"by {rs.name}: {in_year:,} counted credits in it; {inst_name} (id {inst_id}) {inst_credits:,} credits")
    print(f"runs: median of {args.repeat} after one warm-up\n")

    if "recompute" in only:
        print("compliance recompute, city scope (target ≤ 1.2× the bare GROUP BY, issue 18)")
        with app.app_context():
            def job():
                out = recompute_year(_Ctx(admin_id), year)
                db.session.remove()
                return out

            job_ms, job_times, _ = timed(job, args.repeat)
            written = db.session.scalar(select(func.count()).select_from(ComplianceResult).where(
                ComplianceResult.year == year))
            met = db.session.scalar(select(func.count()).select_from(ComplianceResult).where(
                ComplianceResult.year == year, ComplianceResult.met.is_(True)))
            bare_sql = text("SELECT person_id, sum(credits) FROM credit WHERE status IN ('unit_approved', "
                            "'city_approved') AND granted_on BETWEEN :s AND :e GROUP BY person_id")

            def bare():
                with engine.connect() as conn:
                    return len(conn.execute(bare_sql, {"s": start, "e": end}).all())

            def bare_server():
                with engine.connect() as conn:
                    return conn.execute(text(f"SELECT count(*) FROM ({bare_sql.text}) t"), {"s": start, "e": end}).scalar()

            bare_ms, bare_times, groups = timed(bare, args.repeat)
            server_ms, server_times, _ = timed(bare_server, args.repeat)
            db.session.remove()
        line(f"job recompute_year({year}): {written:,} results, {met:,} met", job_ms, job_times)
        line(f"bare GROUP BY person_id, {groups:,} rows fetched", bare_ms, bare_times)
        line("bare GROUP BY person_id, counted on the server", server_ms, server_times)
        print(f"  ratio job / bare: {verdict(job_ms / bare_ms, 1.2)}; job / bare on server: "
              f"{job_ms / server_ms:.2f}×\n")

    if "cold" in only:
        # Issue 18: after the results are emptied and vacuumed the statistics say "no rows"; the insert
        # of the missing results was once planned as a nested loop over a growing sequential scan.
        print("compliance recompute with cold statistics (results emptied, VACUUM ANALYZE; once)")
        with app.app_context():
            with engine.connect() as conn:
                conn.execute(text("DELETE FROM compliance_result WHERE year = :y"), {"y": year})
                conn.commit()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE compliance_result"))
            started = time.perf_counter()
            recompute_year(_Ctx(admin_id), year)
            cold_ms = (time.perf_counter() - started) * 1000
            written = db.session.scalar(select(func.count()).select_from(ComplianceResult).where(
                ComplianceResult.year == year))
            db.session.remove()
        line(f"job recompute_year({year}) from empty: {written:,} results inserted", cold_ms, [cold_ms])
        print()

    admin_client = login(app, "admin", DEMO_PASSWORD)
    hosp_client = login(app, "hospital", DEMO_PASSWORD)

    if "explain" in only:
        print("one person's explanation (target ≤ 50 ms)")
        with app.app_context():
            pid = db.session.scalar(text(
                "SELECT person_id FROM credit WHERE granted_on BETWEEN :s AND :e GROUP BY person_id "
                "ORDER BY count(*) DESC LIMIT 1"), {"s": start, "e": end})
            n_lines = None

            def transcript_once():
                person = db.session.get(Person, pid)
                data = credit_records.transcript(db.session, person, year, region)
                db.session.remove()
                return data

            ex_ms, ex_times, data = timed(transcript_once, args.repeat * 4)
            n_lines = len(data.evaluation.lines)
        line(f"transcript() = query + evaluate, person {pid} ({n_lines} lines)", ex_ms, ex_times,
             f"  {verdict(ex_ms, 50, ' ms')}")
        path = f"/api/v1/compliance/{pid}?year={year}"
        api_ms, api_times, r = timed(lambda: admin_client.get(path), args.repeat * 4)
        assert r.status_code == 200, r.status_code
        line(f"GET {path} as city admin", api_ms, api_times, f"  {verdict(api_ms, 50, ' ms')}")
        print()

    if "list" in only:
        print("credit list page as the view runs it, count included (target ≤ 100 ms)")
        day = f"{end.year}-{end.month:02d}-01"
        cases = [
            ("city admin, page 1, no filter", admin_client, "/credits/list/"),
            ("city admin, 市级审核通过 since " + day, admin_client,
             f"/credits/list/?_flt_0_status=city_approved&_flt_0_granted_on={day}"),
            ("city admin, 学员 name starts with 张伟", admin_client, "/credits/list/?_flt_0_person=%E5%BC%A0%E4%BC%9F"),
            ("institution admin, page 1, no filter", hosp_client, "/credits/list/"),
            ("institution admin, 市级审核通过 since " + day, hosp_client,
             f"/credits/list/?_flt_0_status=city_approved&_flt_0_granted_on={day}"),
            ("institution admin, 学分类别 有计划的自学", hosp_client,
             "/credits/list/?_flt_0_category=%E6%9C%89%E8%AE%A1%E5%88%92%E7%9A%84%E8%87%AA%E5%AD%A6"),
        ]
        slow = []
        for label, client, path in cases:
            ms, times, r = timed(lambda c=client, p=path: c.get(p), args.repeat * 2)
            assert r.status_code == 200, (path, r.status_code)
            counter.run(lambda c=client, p=path: c.get(p))
            statements = list(counter.statements)
            line(label, ms, times, f"  sql {len(statements)}  {verdict(ms, 100, ' ms')}")
            if ms > 100 or args.verbose:
                slow.append((label, statements))
        with app.app_context():
            for label, statements in slow:
                for statement, params in statements:
                    if "FROM credit" in statement:
                        print(f"    EXPLAIN ({label}): {' '.join(statement.split())[:120]}…")
                        for row in explain(db.engine, statement, params):
                            print("      " + row)
        print()

    if "export" in only:
        export_benchmark(app, admin_client, args)


EXPORT_SQL = """
SELECT p.name, p.card_no, c.activity_type, c.project_no, c.content, c.granted_on, c.category, c.subject,
       c.credits, c.hours, c.remark, c.grantor_name, c.uploaded_at, c.source, c.status
FROM credit c JOIN person p ON p.id = c.person_id
WHERE c.granted_on >= :s AND c.granted_on <= :e
ORDER BY c.granted_on DESC, c.id DESC
"""


def export_benchmark(app, client, args) -> None:
    """``/credits/export/`` of ~``args.export_rows`` credits next to a bare XlsxWriter write of the
    same rows fetched by plain SQL (a server-side cursor, constant_memory)."""
    import datetime

    import xlsxwriter
    from sqlalchemy import text

    from app.extensions import db
    from app.models.credits import CREDIT_SOURCES, CREDIT_STATUSES
    from app.views.credits import CREDIT_LABELS, SEED_COLUMNS

    with app.app_context():
        first = datetime.date(2025, 3, 1)
        per_day = db.session.execute(text(
            "SELECT granted_on, count(*) FROM credit WHERE granted_on >= :s GROUP BY granted_on ORDER BY granted_on"),
            {"s": first}).all()
        total, last = 0, first
        for day, n in per_day:
            total, last = total + n, day
            if total >= args.export_rows:
                break
        db.session.remove()
    print(f"export of {total:,} credits ({first} … {last}, all statuses) (target ≤ 1.3× the bare write)")
    path = f"/credits/export/?_flt_0_granted_on={first}&_flt_1_granted_on={last}"
    header = [str(CREDIT_LABELS.get(c, c)) for c in ["person_name", "card_no"] + SEED_COLUMNS + ["status"]]

    def ours() -> int:
        r = client.get(path)
        size = sum(len(chunk) for chunk in r.iter_encoded())
        r.close()
        if r.status_code != 200:
            raise SystemExit(f"export answered {r.status_code}")
        return size

    def bare() -> int:
        fd, out = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
        with app.app_context():
            engine = db.engine
        with engine.connect().execution_options(stream_results=True, yield_per=1000) as conn:
            workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "default_date_format": "yyyy-mm-dd"})
            sheet = workbook.add_worksheet()
            for col, title in enumerate(header):
                sheet.write(0, col, title)
            for n, row in enumerate(conn.execute(text(EXPORT_SQL), {"s": first, "e": last}), start=1):
                (name, card, atype, pno, content, granted, cat, subject, credits, hours, remark, grantor,
                 uploaded, source, status) = row
                values = (name, card, atype, pno or "", content, granted, cat, subject or "",
                          float(credits), float(hours) if hours is not None else "", remark or "", grantor or "",
                          uploaded.strftime("%Y-%m-%d %H:%M:%S"), CREDIT_SOURCES.get(source, source),
                          CREDIT_STATUSES.get(status, status))
                for col, value in enumerate(values):
                    sheet.write(n, col, value)
            workbook.close()
        size = os.path.getsize(out)
        os.unlink(out)
        return size

    repeat = max(3, args.repeat)
    ours_ms, ours_times, ours_size = timed(ours, repeat)
    bare_ms, bare_times, bare_size = timed(bare, repeat)
    line(f"GET /credits/export/ as city admin ({ours_size / 2**20:.1f} MiB xlsx)", ours_ms, ours_times)
    line(f"bare SQL + XlsxWriter constant_memory ({bare_size / 2**20:.1f} MiB xlsx)", bare_ms, bare_times)
    print(f"  ratio ours / bare: {verdict(ours_ms / bare_ms, 1.3)}")
    print(f"  peak Python memory (tracemalloc): ours {peak_memory(ours):.1f} MiB, bare {peak_memory(bare):.1f} MiB; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
