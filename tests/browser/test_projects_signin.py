"""Issue 5 "Done when": a topic's QR URL opened on a phone-sized Chromium inside the sign-in window checks
the technician in; the same kind of URL outside its window is refused with a Chinese message."""
from __future__ import annotations

import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Person
from app.models.projects import CheckIn
from tests.browser.conftest import TIMEOUT_MS
from tests.projects.helpers import add_topic, make_project

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def test_qr_sign_in_on_a_phone(browser_app, browser, live_url, login_as, clock):
    now = clock.at(tick=True)  # the server's clock (this process); windows of ±30 min to 3 h stay in one day
    midnight = now.replace(hour=0, minute=0, second=0)
    with browser_app.app_context():
        inst = db.session.scalar(select(Person.institution_id).where(Person.card_no == "A0000001"))
        project = make_project(inst, no="2025-QR-001 (京)", starts=now.date(), ends=now.date())
        inside = add_topic(project, "101", midnight,
                           window=(now - datetime.timedelta(minutes=30), now + datetime.timedelta(minutes=30)))
        outside = add_topic(project, "102", midnight + datetime.timedelta(hours=3),
                            window=(now + datetime.timedelta(hours=2), now + datetime.timedelta(hours=3)))
        db.session.commit()
        url, closed_url = f"/signin/{inside.qr_token}", f"/signin/{outside.qr_token}"
        person = db.session.scalar(select(Person).where(Person.card_no == "A0000001"))
        last4, topic_id = person.id_number[-4:], inside.id
        db.session.remove()

    # The unit's admin opens the topic page: the QR code image loads and carries the sign-in URL.
    admin = login_as("inst_a")
    admin.goto(f"/topics/show/{topic_id}")
    admin.wait_for_function("document.querySelector('#topic-qr').complete")
    assert admin.evaluate("document.querySelector('#topic-qr').naturalWidth") > 100
    assert "签到中" in admin.inner_text("#topic-window")
    shown = admin.input_value("#topic-url")
    assert shown == f"{live_url}{url}"

    context = browser.new_context(base_url=live_url, locale="zh-CN", **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(shown)
        assert page.viewport_size["width"] == 390
        assert "继续医学教育课程签到" in page.inner_text("header")
        page.fill("#card_no", "A0000001")
        page.fill("#name", "张三")
        page.fill("#id_last4", last4)
        with page.expect_navigation():
            page.click("#signin-submit")
        assert "签到成功" in page.inner_text("#signin-result")
        # The form fits the phone: no horizontal scrolling.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # A second scan of the same URL is recorded as a duplicate.
        page.goto(url)
        page.fill("#card_no", "A0000001")
        page.fill("#name", "张三")
        page.fill("#id_last4", last4)
        with page.expect_navigation():
            page.click("#signin-submit")
        assert "重复签到" in page.inner_text("#signin-result")
        # Outside its window the URL refuses, in Chinese, and shows no form.
        response = page.goto(closed_url)
        assert response.status == 403
        assert "不在签到时间内，不能签到" in page.inner_text("#signin-error")
        assert page.locator("#signin-form").count() == 0
    finally:
        context.close()
    with browser_app.app_context():
        rows = [(c.source, c.duplicate) for c in db.session.scalars(
            select(CheckIn).where(CheckIn.topic_id == topic_id).order_by(CheckIn.id))]
        db.session.remove()
    assert rows == [("qr", False), ("qr", True)]
