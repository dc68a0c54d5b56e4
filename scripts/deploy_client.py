"""HTTP client of scripts/deploy-check.sh: a browser's requests to a running server, as nginx forwards them.

    python scripts/deploy_client.py setup  BASE USER PASSWORD STATE_FILE   (first server: org tree, import job)
    python scripts/deploy_client.py verify BASE USER PASSWORD STATE_FILE   (restored server: same data, same file)

Standard library only (urllib + cookie jar); run with the installed virtualenv's python so that openpyxl
and app.services.idcard (valid ID numbers) are at hand. Every request carries the headers nginx adds
(X-Forwarded-For / -Proto), so the app's secure session cookie and ProxyFix are exercised; the cookie
jar is told to send secure cookies over this plain-HTTP loopback as nginx would over HTTPS.
"""
from __future__ import annotations

import datetime
import hashlib
import html
import http.cookiejar
import io
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
PERSONS = [("DC000101", "张一"), ("DC000102", "李二"), ("DC000103", "王三")]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None,
                expect: tuple[int, ...] = (200,)):
        # A browser on the HTTPS site sends its page as Referer (Flask-WTF checks it on HTTPS posts).
        referer = "https://" + urllib.parse.urlsplit(self.base).netloc + path
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={**FORWARDED, "Referer": referer, **(headers or {})})
        try:
            response = self.opener.open(req, timeout=60)
            status, body, location = response.status, response.read(), response.headers.get("Location")
        except urllib.error.HTTPError as exc:
            status, body, location = exc.code, exc.read(), exc.headers.get("Location")
        for cookie in self.jar:  # nginx terminates HTTPS: the browser would send them back
            cookie.secure = False
        if status not in expect:
            raise SystemExit(f"{method} {path}: HTTP {status}, expected {expect}\n{body[:1500].decode(errors='replace')}")
        return status, body, location

    def get(self, path: str, expect=(200,)):
        return self.request("GET", path, expect=expect)

    def form(self, path: str) -> dict[str, str]:
        """The hidden inputs (CSRF token, one-time submit token) of the page's form."""
        page = self.get(path)[1].decode()
        fields = {}
        for tag in re.findall(r"<input[^>]*>", page):
            if 'type="hidden"' in tag:
                name = re.search(r'name="([^"]+)"', tag)
                value = re.search(r'value="([^"]*)"', tag)
                if name:
                    fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
        return fields

    def post(self, path: str, fields: dict, files: dict | None = None, expect=(302,), form_page: str | None = None):
        data = {**self.form(form_page or path), **fields}
        if files:
            boundary = uuid.uuid4().hex
            out = io.BytesIO()
            for key, value in data.items():
                out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
            for key, (filename, content, mime) in files.items():
                out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
                          f"Content-Type: {mime}\r\n\r\n".encode() + content + b"\r\n")
            out.write(f"--{boundary}--\r\n".encode())
            return self.request("POST", path, out.getvalue(),
                                {"Content-Type": f"multipart/form-data; boundary={boundary}"}, expect)
        body = urllib.parse.urlencode(data, doseq=True).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}, expect)

    def login(self, username: str, password: str) -> None:
        _status, _body, location = self.post("/login/", {"username": username, "password": password})
        if location is None or "/login" in location:
            raise SystemExit(f"login of {username} refused")
        home = self.get("/")[1].decode()
        if "/logout" not in home:
            raise SystemExit(f"the home page of {username} is not signed in")
        print(f"  logged in as {username}")


def option_value(page: str, label: str) -> str:
    match = re.search(r'<option[^>]*value="(\d+)"[^>]*>\s*' + re.escape(label), page)
    if not match:
        raise SystemExit(f"no choice {label!r} on the form")
    return match.group(1)


def healthz(browser: Browser, need_worker: bool = True) -> dict:
    deadline = time.monotonic() + 90
    while True:
        status, body, _ = browser.get("/healthz", expect=(200, 503))
        report = json.loads(body)
        text = body.decode()
        for secret in ("postgresql://", "redis://", "SECRET"):
            assert secret not in text, f"/healthz shows {secret}"
        ok = report["checks"]["database"]["ok"] and report["checks"]["disk"]["ok"]
        if need_worker:
            ok = ok and status == 200
        if ok:
            print(f"  /healthz: {status} {json.dumps(report['checks'], ensure_ascii=False)[:300]}")
            return report
        if time.monotonic() > deadline:
            raise SystemExit(f"/healthz not ok: {text}")
        time.sleep(1)


def people_workbook(institution: str, department: str, bad: bool = False) -> bytes:
    import openpyxl

    from app.services import idcard
    from app.services.people_import import COLUMNS

    def id_number(n: int) -> str:
        return idcard.make("110101", datetime.date(1980 + n, 1 + n, 10 + n), n)

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for n, (card, name) in enumerate(PERSONS, start=1):
        row = {"IC卡号": card, "姓名": name, "身份证号": id_number(n), "单位": institution, "科室": department,
               "联系电话": f"1380000{n:04d}"}
        if bad and n == 2:
            row["身份证号"] = "110101199001011234"  # wrong check digit: the import writes nothing
        sheet.append([row.get(c, "") for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run_import(browser: Browser, content: bytes) -> dict:
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    _status, _body, location = browser.post("/persons/import/", {}, files={"file": ("人员.xlsx", content, mime)})
    job_id = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["job"][0]
    deadline = time.monotonic() + 90
    while True:
        status = json.loads(browser.get(f"/jobs/{job_id}/status")[1])
        if status["status"] in ("finished", "failed"):
            print(f"  import job {job_id}: {status['status']} — {status['message']}")
            return status
        if time.monotonic() > deadline:
            raise SystemExit(f"import job {job_id} still {status['status']} after 90 s: is the worker running?")
        time.sleep(0.5)


def setup(browser: Browser, state_file: str) -> None:
    healthz(browser)
    page = browser.get("/districtview/add")[1].decode()
    city = re.search(r'<option[^>]*value="(\d+)"', page.split('name="parent"', 1)[1]).group(1)
    browser.post("/districtview/add", {"parent": city, "name": "东城区", "code": "110101", "sort": "0", "active": "y"})
    page = browser.get("/institutionview/add")[1].decode()
    browser.post("/institutionview/add", {"parent": option_value(page, "东城区"), "name": "北京协和医院",
                                          "code": "110101001", "level": "三级", "inst_type": "医院", "sort": "0",
                                          "active": "y"})
    page = browser.get("/departmentview/add")[1].decode()
    browser.post("/departmentview/add", {"parent": option_value(page, "北京协和医院"), "name": "心血管内科",
                                         "code": "11010100101", "sort": "0", "active": "y"})
    print("  district, institution and department added through the pages")
    failed = run_import(browser, people_workbook("北京协和医院", "心血管内科", bad=True))
    assert failed["status"] == "failed" and failed["has_file"], failed
    report = browser.get(f"/jobs/{failed['id']}/download")[1]
    done = run_import(browser, people_workbook("北京协和医院", "心血管内科"))
    assert done["status"] == "finished", done
    listing = browser.get("/persons/list/")[1].decode()
    for _card, name in PERSONS:
        assert name in listing, f"{name} not in the person list"
    with open(state_file, "w") as fh:
        json.dump({"report_job": failed["id"], "report_sha256": hashlib.sha256(report).hexdigest()}, fh)
    print(f"  {len(PERSONS)} persons imported by the worker; error report of the failed import kept")


def verify(browser: Browser, state_file: str) -> None:
    with open(state_file) as fh:
        state = json.load(fh)
    healthz(browser, need_worker=False)
    listing = browser.get("/persons/list/")[1].decode()
    for _card, name in PERSONS:
        assert name in listing, f"{name} not in the restored person list"
    report = browser.get(f"/jobs/{state['report_job']}/download")[1]
    assert hashlib.sha256(report).hexdigest() == state["report_sha256"], "restored file differs"
    print("  restored: persons listed, the error report downloads with the same sha256")


def main() -> None:
    mode, base, username, password, state_file = sys.argv[1:6]
    browser = Browser(base)
    browser.login(username, password)
    {"setup": setup, "verify": verify}[mode](browser, state_file)


if __name__ == "__main__":
    main()
