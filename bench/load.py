"""Load test of the issue-18 mix against a running server (run by hand; no extra dependency).

    .venv/bin/python bench/load.py --url http://127.0.0.1:5000 --user admin --sessions 10 --seconds 30
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --user admin,hospital --sessions 4 --seconds 20 \\
        --pages home,credit_p1,api_credit

Each session is a thread with its own keep-alive HTTP connection (http.client) that walks the mix in a
random order, over and over, for ``--seconds`` (the first second is a warm-up, not counted), waiting
``--think`` seconds on average between requests (default none: a closed loop at full speed). ``--each``
runs each page alone first (its CPU per request), then the mix. The users (``--user``, comma-separated, password
``--password``, default the demo one) log in once each through the login form (CSRF token included)
and the sessions share their cookies round-robin, so the login rate limit is not hit. At the end it
prints, per page and for the whole mix: requests, requests/s, p50 / p95 / p99 / max in ms, errors
(status ≠ 200, a page that is the login form, a connection error) and timeouts (``--timeout``).

With ``--pg-stat`` (a PostgreSQL URL of the bench database's server, psql on PATH) it also reports the
database's CPU proxy: the total execution time of ``pg_stat_statements`` if installed, else the
``xact_commit`` delta — and the server process CPU with ``--server-pid`` (from /proc, Linux).

The mix (``mix_paths``) is the issue's: home, the credit list page 1 and a deep page, a person name
filter, the compliance list, a transcript and ``GET /api/v1/credit/``.
"""
from __future__ import annotations

import argparse
import http.client
import random
import re
import sys
import threading
import time
import urllib.parse

DEMO_PASSWORD = "Cme@2026demo"


def mix_paths(person_id: int) -> list[tuple[str, str]]:
    """(name, path) of each page of the mix; ``person_id`` is the transcript's person."""
    return [
        ("home", "/"),
        ("credit_p1", "/credits/list/"),
        ("credit_deep", "/credits/list/?page_CreditView=499"),  # the last page the capped pager offers
        ("person_name", "/persons/list/?_flt_0_name=" + urllib.parse.quote("张伟")),
        ("compliance", "/compliance/list/"),
        ("transcript", f"/transcript/{person_id}"),
        ("api_credit", "/api/v1/credit/"),
    ]


class Client:
    """One keep-alive connection with a cookie header (enough for the app's session cookie)."""

    def __init__(self, base: str, timeout: float):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        self.https = parts.scheme == "https"
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn = None

    def _connect(self):
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        self.conn = cls(self.host, self.port, timeout=self.timeout)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, dict, bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, dict(response.getheaders()), data

    def login(self, username: str, password: str) -> None:
        status, _, page = self.request("GET", "/login/")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page) or \
            re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', page)
        form = {"username": username, "password": password}
        if match:
            form["csrf_token"] = match.group(1).decode()
        status, headers, _ = self.request("POST", "/login/", urllib.parse.urlencode(form))
        if status != 302 or "/login" in headers.get("Location", ""):
            raise SystemExit(f"login of {username} failed ({status} → {headers.get('Location')})")


def first_person_id(client: Client) -> int:
    status, _, data = client.request("GET", "/api/v1/person/?q=" + urllib.parse.quote("(page_size:1)"))
    match = re.search(rb'"ids":\s*\[(\d+)', data)
    if status != 200 or not match:
        raise SystemExit(f"no person visible to find a transcript (GET /api/v1/person/ → {status}); use --person-id")
    return int(match.group(1))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (gunicorn workers), those alive and those that
    ended (a worker replaced after ``--max-requests`` counts in its parent's cutime / cstime)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            pids += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            if p == pid:
                total += (int(fields[13]) + int(fields[14])) / tick
        except OSError:
            pass
    return total


def postgres_cpu() -> float:
    """User + system CPU seconds of every PostgreSQL process on this machine (backends, parallel workers,
    checkpointer…; /proc, Linux; processes that ended meanwhile are not counted)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                head, rest = fh.read().rsplit(")", 1)
            if not head.split("(", 1)[1].startswith("postgres"):
                continue
            fields = rest.split()  # own time, and that of ended children (backends, in the postmaster's)
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
        except (OSError, IndexError):
            pass
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values) - idle) / tick, sum(values) / tick


def pg_cpu(url: str) -> float | None:
    """Milliseconds of statement execution the database reports so far (pg_stat_statements), if any."""
    import subprocess

    sql = "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements"
    out = subprocess.run(["psql", url, "-Atc", sql], check=False, capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return float(out.stdout.strip() or 0)


def run(args, mix: list[tuple[str, str]], cookies: list[dict]) -> int:
    """Run ``mix`` with ``args.sessions`` sessions for ``args.seconds``; print the table; return the errors."""
    times: dict[str, list[float]] = {name: [] for name, _ in mix}
    errors: dict[str, list[str]] = {name: [] for name, _ in mix}
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds + 1.0
    barrier = threading.Barrier(args.sessions + 1)

    def session(index: int) -> None:
        client = Client(args.url, args.timeout)
        client.cookies = dict(cookies[index % len(cookies)])
        rng = random.Random(index)
        barrier.wait()
        while time.monotonic() < stop_at:
            order = mix[:]
            rng.shuffle(order)
            for name, path in order:
                if time.monotonic() >= stop_at:
                    break
                started = time.perf_counter()
                problem = None
                try:
                    status, _headers, data = client.request("GET", path)
                    if status != 200:
                        problem = f"HTTP {status}"
                    elif b'name="password"' in data[:200_000] and "login" not in path:
                        problem = "login page"
                except TimeoutError:
                    problem = "timeout"
                    client.conn = None
                except (OSError, http.client.HTTPException) as exc:
                    problem = type(exc).__name__
                    client.conn = None
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if problem:
                        errors[name].append(problem)
                    else:
                        times[name].append(elapsed)
                if args.think:  # a person reads the page before the next click (exponential, mean --think s)
                    time.sleep(min(rng.expovariate(1 / args.think), 4 * args.think))

    threads = [threading.Thread(target=session, args=(i,), daemon=True) for i in range(args.sessions)]
    for thread in threads:
        thread.start()
    barrier.wait()
    time.sleep(1.0)  # the first second warms the connections up; measured from here
    with lock:
        for name in times:
            times[name].clear()
            errors[name].clear()
    cpu0 = proc_cpu(args.server_pid) if args.server_pid else None
    pg0 = pg_cpu(args.pg_stat) if args.pg_stat else None
    pgproc0, client0, machine0 = postgres_cpu(), time.process_time(), machine_busy()
    started = time.monotonic()
    for thread in threads:
        thread.join(args.seconds + args.timeout + 5)
    wall = time.monotonic() - started
    pgproc, client_cpu = postgres_cpu() - pgproc0, time.process_time() - client0
    machine = [b - a for a, b in zip(machine0, machine_busy())]
    cpu = proc_cpu(args.server_pid) - cpu0 if args.server_pid else None
    pg = pg_cpu(args.pg_stat) - pg0 if args.pg_stat and pg0 is not None else None

    try:
        import os
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    think = f", think time {args.think:g} s" if args.think else ", no think time (each session clicks again at once)"
    print(f"{args.url}: {args.sessions} sessions as {args.user}{think}, {wall:.1f} s, load average {load:.1f} at the end")
    print(f"{'page':<12} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  errors")
    everything: list[float] = []
    all_errors = 0
    for name, _ in mix:
        values = times[name]
        everything += values
        all_errors += len(errors[name])
        kinds = {k: errors[name].count(k) for k in sorted(set(errors[name]))}
        print(f"{name:<12} {len(values):>8} {len(values) / wall:>7.1f} {percentile(values, 50):>8.0f} "
              f"{percentile(values, 95):>8.0f} {percentile(values, 99):>8.0f} "
              f"{max(values) if values else float('nan'):>8.0f}  {len(errors[name])} {kinds or ''}")
    print(f"{'mix':<12} {len(everything):>8} {len(everything) / wall:>7.1f} {percentile(everything, 50):>8.0f} "
          f"{percentile(everything, 95):>8.0f} {percentile(everything, 99):>8.0f} "
          f"{max(everything) if everything else float('nan'):>8.0f}  {all_errors}")
    done = len(everything) + all_errors
    if done:
        parts = [f"PostgreSQL processes {pgproc * 1000 / done:.1f}", f"this load client {client_cpu * 1000 / done:.1f}"]
        if cpu is not None:
            parts.insert(0, f"server {cpu * 1000 / done:.1f}")
        busy = machine[0] / machine[1] * 100 if machine[1] else float("nan")
        print(f"CPU per request (ms): {', '.join(parts)}; the machine was {busy:.0f} % busy")
    if pg is not None and done:
        print(f"PostgreSQL statement time: {pg / 1000:.1f} s, {pg / done:.1f} ms per request (pg_stat_statements)")
    return all_errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--user", default="admin", help="comma-separated demo users, shared round-robin")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--timeout", type=float, default=30, help="a request slower than this is a timeout")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: the whole mix)")
    parser.add_argument("--person-id", type=int, help="the transcript's person (default: the first the user sees)")
    parser.add_argument("--server-pid", type=int, help="server (gunicorn master / run.py) pid: CPU per request")
    parser.add_argument("--think", type=float, default=0,
                        help="mean seconds a session waits between its requests (exponential; default 0: none)")
    parser.add_argument("--each", action="store_true",
                        help="each page alone first (its own CPU per request), then the whole mix")
    parser.add_argument("--pg-stat", help="PostgreSQL URL: execution time per request (pg_stat_statements)")
    args = parser.parse_args()

    users = args.user.split(",")
    cookies = []
    for username in users:
        client = Client(args.url, args.timeout)
        client.login(username, args.password)
        cookies.append(dict(client.cookies))
    person_id = args.person_id or first_person_id(client)
    mix = mix_paths(person_id)
    if args.pages:
        wanted = set(args.pages.split(","))
        mix = [(n, p) for n, p in mix if n in wanted]
    errors = 0
    if args.each:
        for page in mix:
            print(f"\n--- {page[0]} alone")
            errors += run(args, [page], cookies)
    if not args.each or len(mix) > 1:
        if args.each:
            print("\n--- the mix")
        errors += run(args, mix, cookies)
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
