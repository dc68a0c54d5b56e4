"""Browser fixtures: the app served on a free localhost port, headless Chromium via Playwright.

The browser tests use their own app instance on a SQLite file (SQLite backend only) with CSRF
switched on, so the real forms with their tokens are exercised, and with jobs running in a
background thread (JOBS_SYNC=False), so the progress bar really has something to poll.
Chromium is the system one (/usr/bin/chromium); no browser is ever downloaded.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading

import pytest

from tests import helpers
from tests.conftest import no_fsync

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 10_000
SHOT_DIR = os.environ.get("CME_BROWSER_SHOTS") or os.path.join(tempfile.gettempdir(), "cme-browser-shots")


@pytest.fixture(scope="session")
def browser_app(chromium_path, tmp_path_factory):
    """A dedicated app: SQLite file, CSRF on, background jobs, the two-district world."""
    from app import create_app
    from app.cli import init_database
    from app.extensions import db

    folder = tmp_path_factory.mktemp("browser-app")
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'browser.db'}",
                             JOB_FILES_DIR=str(folder / "jobs"), JOBS_SYNC=False,
                             WTF_CSRF_ENABLED=True)
    no_fsync(application)
    with application.app_context():
        init_database()
        helpers.build_world()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_url(browser_app):
    """Serve ``browser_app`` from a background thread for the whole session."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, browser_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-app", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser, live_url, request):
    """A fresh browser context (own cookies) per test; a screenshot is kept when the test fails."""
    context = browser.new_context(base_url=live_url, accept_downloads=True, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        os.makedirs(SHOT_DIR, exist_ok=True)
        path = os.path.join(SHOT_DIR, request.node.name.replace("/", "_") + ".png")
        try:
            pg.screenshot(path=path, full_page=True)
            print(f"screenshot: {path}")
        except Exception as exc:  # noqa: BLE001 - a screenshot must never hide the real failure
            print(f"no screenshot: {exc}")
    context.close()


@pytest.fixture
def login_as(page):
    """``login_as("inst_a")`` logs in through the real login form (with its CSRF token)."""
    def _login(username: str, password: str = helpers.PASSWORD):
        page.goto("/login/")
        page.fill("#username", username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("form[name=login] [type=submit]")
        assert "/login" not in page.url, f"login of {username} failed: {page.locator('.alert').all_inner_texts()}"
        return page

    return _login



@pytest.fixture(scope="module", autouse=True)
def _fresh_browser_world(request):
    """Each browser test module starts on the fresh two-district world its author tested it on.

    Modules run whole on one worker (tests/conftest.py, pytest_xdist_make_scheduler); what an earlier module left
    behind (credits, drafts, copied rule sets…) is removed here. SQLite reuses the emptied ids, so the
    world's ids are the same in every module."""
    application = request.getfixturevalue("browser_app")
    with application.app_context():
        from sqlalchemy import delete, select

        from app.extensions import db
        from app.models import CompliancePolicy, CreditStandard, RuleSet
        from app.services.rule_sets import SHIPPED

        helpers.reset_data()
        extra = list(db.session.scalars(select(RuleSet.id).where(RuleSet.code.not_in([r[0] for r in SHIPPED]))))
        if extra:
            db.session.execute(delete(CreditStandard).where(CreditStandard.rule_set_id.in_(extra)))
            db.session.execute(delete(CompliancePolicy).where(CompliancePolicy.rule_set_id.in_(extra)))
            db.session.execute(delete(RuleSet).where(RuleSet.id.in_(extra)))
        db.session.commit()
        helpers.build_world()
        db.session.remove()
    yield
