"""Issue 6 "Done when": a site manager on a phone (390×844, touch, geolocation) opens the QR URL, logs in
with login code + phone + SMS code (read from the development sender's page, as the city admin) + image
captcha (fixed by the test-only SUP_CAPTCHA_FIXED), accepts the commitment letter, uploads four photos
with EXIF for the current period and sees them listed; the past period is read-only and a forged POST to it
is refused (403).

Issue 15.7: the photos are taken on camera tiles and uploaded at once on capture (no 上传 button, no page
reload), with progress and a retry after a network failure; a flagged photo (EXIF time outside the period)
is shown in amber with its reason, never in a green box. Screenshots are kept in SHOT_DIR as artifacts.
"""
from __future__ import annotations

import datetime
import os
import re

import pytest
from sqlalchemy import select

from tests import helpers
from tests.browser.conftest import CHROMIUM_ARGS, SHOT_DIR, TIMEOUT_MS  # noqa: F401
from tests.supervision.helpers import PHONE, add_filing, add_manager, jpeg

FIXED = "K7M3"


@pytest.fixture
def supervised(browser_app, clock):
    """An approved filing of 甲医院 from yesterday to tomorrow, half days covering the whole day;
    the server's clock (this process) at a fixed instant, ticking."""
    from app.extensions import db
    from app.models import Org, Parameter

    with browser_app.app_context():
        saved = {p.key: p.value for p in db.session.scalars(select(Parameter).where(
            Parameter.key.in_(("half_day_morning", "half_day_afternoon"))))}
        for p in db.session.scalars(select(Parameter).where(Parameter.key.in_(saved))):
            p.value = "00:00-12:00" if p.key == "half_day_morning" else "12:00-24:00"
        inst = db.session.scalar(select(Org).where(Org.name == "甲医院"))
        now = clock.at(tick=True)
        filing = add_filing(inst.id, project_no=f"BR-{now:%H%M%S%f}", status="approved",
                            starts_at=now - datetime.timedelta(days=1), ends_at=now + datetime.timedelta(days=1))
        manager = add_manager(filing)
        db.session.commit()
        info = {"code": manager.login_code, "filing": filing.id,
                "past": next(p.id for p in filing.periods if p.ends_at < now),
                "current": next(p.id for p in filing.periods if p.starts_at <= now <= p.ends_at)}
        with browser_app.test_request_context(base_url="http://127.0.0.1"):
            from app.views.supervision import _login_url

            info["path"] = re.sub(r"^https?://[^/]+", "", _login_url(manager))
    info["now"] = now.replace(microsecond=0)
    browser_app.config.update(SUP_CAPTCHA_FIXED=FIXED, SUP_SMS_INTERVAL_SECONDS=0)
    yield info
    browser_app.config.pop("SUP_CAPTCHA_FIXED", None)
    browser_app.config.pop("SUP_SMS_INTERVAL_SECONDS", None)
    with browser_app.app_context():
        for p in db.session.scalars(select(Parameter).where(Parameter.key.in_(saved))):
            p.value = saved[p.key]
        db.session.commit()


def _shot(page, name: str) -> None:
    """A full-page screenshot kept as a test artifact (SHOT_DIR)."""
    os.makedirs(SHOT_DIR, exist_ok=True)
    page.screenshot(path=os.path.join(SHOT_DIR, f"{name}.png"), full_page=True)


def _sms_code_from_admin_page(browser, live_url) -> str:
    context = browser.new_context(base_url=live_url, locale="zh-CN")
    page = context.new_page()
    page.goto("/login/")
    page.fill("#username", "city")
    page.fill("#password", helpers.PASSWORD)
    with page.expect_navigation():
        page.click("form[name=login] [type=submit]")
    page.goto("/supervision/sms")
    text = page.locator("#sms-table .sms-text").first.inner_text()
    assert PHONE in page.locator("#sms-table").inner_text()
    context.close()
    return re.search(r"验证码(\d{6})", text).group(1)


def test_site_manager_on_a_phone(browser, live_url, supervised, tmp_path):
    context = browser.new_context(base_url=live_url, locale="zh-CN", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True, permissions=["geolocation"],
                                  geolocation={"latitude": 39.9087, "longitude": 116.3975})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # The QR code's URL carries the login code.
        page.goto(supervised["path"])
        assert page.input_value("#code") == supervised["code"]
        page.fill("#phone", PHONE)
        page.fill("#captcha", FIXED)
        page.click("#send-sms")
        page.wait_for_selector("#sms-msg.msg-success")
        assert "验证码已发送" in page.inner_text("#sms-msg")
        page.fill("#sms_code", _sms_code_from_admin_page(browser, live_url))
        with page.expect_navigation():
            page.click("#m-login-submit")
        # First login: the commitment letter, ticked and confirmed once.
        assert "承诺书" in page.inner_text("body") and "郑重承诺" in page.inner_text("#letter-text")
        page.check("#agree")
        with page.expect_navigation():
            page.click("#letter-ok")
        assert page.locator("#period-list .period-link").count() >= 4
        assert page.locator('#period-list [data-status="已过期"]').count() >= 1
        with page.expect_navigation():
            page.click('#period-list [data-status="进行中"]')
        assert page.url.endswith(f"/m/period/{supervised['current']}")
        taken = supervised["now"]
        page.evaluate("window.__sameDocument = true")  # gone if any upload reloads the page
        assert page.locator(".tile-submit").first.is_hidden()  # no separate 上传 button
        _shot(page, "phone-1-tiles")
        # A network failure: the tile says so and offers 重试, which sends the same photo again.
        page.route("**/m/period/*/photo", lambda route: route.abort())
        venue = tmp_path / "venue.jpg"
        venue.write_bytes(jpeg(taken))
        tile = page.locator('.slot[data-slot="venue"]')
        tile.locator("input[type=file]").set_input_files(str(venue))
        page.wait_for_selector('.slot[data-slot="venue"][data-state="failed"] .tile-retry:visible')
        assert "网络中断" in tile.locator(".tile-msg").inner_text()
        _shot(page, "phone-2-network-failure")
        page.unroute("**/m/period/*/photo")
        tile.locator(".tile-retry").click()
        page.wait_for_selector('.slot[data-slot="venue"][data-state="done"] .photo-item img')
        assert page.locator('.slot[data-slot="venue"]').get_attribute("data-progress") == "100"
        # While a photo is on its way the tile shows the progress bar (the request held here a moment).
        held: list = []
        page.route("**/m/period/*/photo", lambda route: held.append(route))
        backdrop = tmp_path / "backdrop.jpg"
        backdrop.write_bytes(jpeg(taken))
        page.locator('.slot[data-slot="backdrop"] input[type=file]').set_input_files(str(backdrop))
        page.wait_for_selector('.slot[data-slot="backdrop"][data-state="uploading"] .tile-progress:visible')
        while not held:
            page.wait_for_timeout(50)
        assert "正在上传" in page.locator('.slot[data-slot="backdrop"] .tile-msg').inner_text()
        _shot(page, "phone-2b-uploading")
        held[0].continue_()
        page.unroute("**/m/period/*/photo")
        for slot in ("backdrop", "lecturer1"):
            if slot != "backdrop":
                path = tmp_path / f"{slot}.jpg"
                path.write_bytes(jpeg(taken))
                page.locator(f'.slot[data-slot="{slot}"] input[type=file]').set_input_files(str(path))
            page.wait_for_selector(f'.slot[data-slot="{slot}"][data-state="done"] .photo-item img')
            done = page.locator(f'.slot[data-slot="{slot}"]')
            assert "照片已上传" in done.locator(".tile-msg.msg-success").inner_text()
        # The 现场照片 taken two days ago (its EXIF time): kept but flagged, in amber with the reason.
        scene = tmp_path / "scene.jpg"
        scene.write_bytes(jpeg(taken - datetime.timedelta(days=2)))
        page.locator('.slot[data-slot="scene"] input[type=file]').set_input_files(str(scene))
        page.wait_for_selector('.slot[data-slot="scene"][data-state="flagged"] .photo-item img')
        flagged = page.locator('.slot[data-slot="scene"]')
        assert "拍摄时间不在督查时段内" in flagged.locator(".flag").inner_text()
        assert flagged.locator(".msg-success").count() == 0 and flagged.locator(".tile-msg.msg-warning").is_visible()
        amber = flagged.locator(".flag").evaluate("e => getComputedStyle(e).backgroundColor")
        red, green, blue = (int(v) for v in re.findall(r"\d+", amber)[:3])
        assert red > 200 and green > 180 and blue < 230 and red > blue + 20, amber  # amber, not green
        assert page.evaluate("window.__sameDocument === true")  # four photos, no reload
        assert page.locator("#missing").is_hidden()
        _shot(page, "phone-3-flagged-amber")
        assert page.locator(".photo-item img").count() == 4
        for img in page.locator(".photo-item img").all():
            assert img.evaluate("i => i.complete && i.naturalWidth > 0")
        with page.expect_navigation():
            page.click("#period-submit")
        assert "本时段督查信息已提交" in page.inner_text("main")
        assert page.inner_text("#period-status") == "已提交"
        _shot(page, "phone-4-submitted")
        # The past period: read-only, and a forged POST (valid session and CSRF token) is refused.
        token = page.locator("input[name=csrf_token]").first.input_value()
        page.goto(f"/m/period/{supervised['past']}")
        assert page.locator("#period-readonly").is_visible()
        assert page.locator("input[type=file]").count() == 0
        path = tmp_path / "forged.jpg"
        path.write_bytes(jpeg(taken))
        response = context.request.post(f"/m/period/{supervised['past']}/photo", headers={"X-CSRFToken": token},
                                        multipart={"csrf_token": token, "slot": "venue", "lecturer_no": "0",
                                                   "photo": {"name": "forged.jpg", "mimeType": "image/jpeg",
                                                             "buffer": path.read_bytes()}})
        assert response.status == 403
        assert "已过期的督查时间段不能补报" in response.text()
        # Issue 15.4: the session ends (its cookie gone), the phone keeps its login code: the login page says
        # the login timed out, has the code filled in and offers a new SMS.
        kept = [c for c in context.cookies() if c["name"] == "cme_sup_code"]
        context.clear_cookies()
        context.add_cookies(kept)
        page.goto("/m/")
        assert page.url.endswith("/m/login") and "登录已超时，请重新登录" in page.inner_text("main")
        assert page.input_value("#code") == supervised["code"] and page.locator("#send-sms").is_enabled()
        _shot(page, "phone-5-session-ended")
        assert errors == []
    finally:
        context.close()
