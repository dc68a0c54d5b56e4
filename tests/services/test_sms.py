"""SMS gateway (issue 12 item 5): the HTTP adapter against a gateway started here on 127.0.0.1 (no internet),
its signature checked the way the gateway would, refusals turned into Chinese messages, and the phone
login's code sent through it instead of the development outbox."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.services import sms

KEY, SECRET = "key-4711", "s3cret-for-tests"


class Gateway:
    """A provider's SMS API: checks key and signature, records messages, answers as told."""

    def __init__(self):
        self.received: list[dict] = []
        self.answer: tuple[int, dict] = (200, {"code": 0, "id": "m-1"})
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ts, nonce = self.headers["X-Timestamp"], self.headers["X-Nonce"]
                expected = hmac.new(SECRET.encode(), f"{ts}\n{nonce}\n".encode() + body, hashlib.sha256).hexdigest()
                if self.headers["X-Api-Key"] != KEY or not hmac.compare_digest(expected, self.headers["X-Signature"]):
                    status, answer = 401, {"code": "SignatureDoesNotMatch"}
                else:
                    gateway.received.append(json.loads(body))
                    status, answer = gateway.answer
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def config(self, **overrides) -> dict:
        return {"SUP_SMS_SENDER": "app.services.sms:HttpSmsSender", "SMS_API_URL": self.url, "SMS_API_KEY": KEY,
                "SMS_API_SECRET": SECRET, "SMS_TEMPLATE_ID": "SMS_0001", "SMS_SIGN_NAME": "继教办",
                "SMS_TIMEOUT": 5, **overrides}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    g = Gateway()
    yield g
    g.close()


def test_http_sender_posts_a_signed_template_message(gateway):
    sender = sms.sender(gateway.config())
    assert isinstance(sender, sms.HttpSmsSender)
    sender.send("13800000001", "【继续医学教育项目督查】验证码123456", params={"code": "123456"})
    assert gateway.received == [{"phone": "13800000001", "template_id": "SMS_0001", "sign_name": "继教办",
                                 "params": {"code": "123456"}, "text": "【继续医学教育项目督查】验证码123456"}]


def test_http_sender_turns_every_failure_into_a_chinese_message(gateway):
    with pytest.raises(sms.SmsError, match="短信网关拒绝了请求"):  # a wrong secret: the gateway says 401
        sms.sender(gateway.config(SMS_API_SECRET="wrong")).send("13800000001", "x", {"code": "1"})
    gateway.answer = (200, {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发天级流控"})
    with pytest.raises(sms.SmsError, match="^短信发送失败，请稍后重试$"):
        sms.sender(gateway.config()).send("13800000001", "x", {"code": "1"})
    gateway.answer = (500, {"code": "InternalError"})
    with pytest.raises(sms.SmsError, match="短信网关拒绝了请求"):
        sms.sender(gateway.config()).send("13800000001", "x", {"code": "1"})
    url = gateway.url
    gateway.close()
    with pytest.raises(sms.SmsError, match="无法连接短信网关"):
        sms.sender(gateway.config(SMS_API_URL=url)).send("13800000001", "x", {"code": "1"})
    gateway.server = type("Closed", (), {"shutdown": lambda self: None, "server_close": lambda self: None})()
    with pytest.raises(sms.SmsError, match="短信网关未配置完整（缺少 SMS_API_URL、SMS_API_SECRET）"):
        sms.sender(gateway.config(SMS_API_URL="", SMS_API_SECRET=""))
    assert isinstance(sms.SmsError("x"), sms.SupervisionError)  # the phone page shows it as a refusal


def test_phone_login_code_goes_through_the_gateway(app, world, gateway, monkeypatch):
    from app.extensions import db
    from app.models.supervision import SmsOutbox
    from tests.supervision.helpers import PHONE, add_filing, add_manager

    with app.app_context():
        code = add_manager(add_filing(world.a, status="approved")).login_code
        db.session.commit()
    for key, value in gateway.config().items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.config, "SUP_CAPTCHA_FIXED", "AB12")
    monkeypatch.setitem(app.config, "SUP_SMS_INTERVAL_SECONDS", 0)
    c = app.test_client()
    c.get("/m/captcha.png")
    r = c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": "AB12"})
    assert r.status_code == 200 and r.get_json()["ok"], r.get_data(as_text=True)
    [message] = gateway.received
    assert message["phone"] == PHONE and re.fullmatch(r"\d{6}", message["params"]["code"])
    assert message["params"]["code"] in message["text"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SmsOutbox)) == 0  # not the dev outbox
    r = c.post("/m/login", data={"code": code, "phone": PHONE, "captcha": "AB12",
                                 "sms_code": message["params"]["code"]})
    assert r.status_code == 302 and r.location.endswith("/m/")

    gateway.answer = (200, {"code": "isv.MOBILE_NUMBER_ILLEGAL"})
    c.get("/m/captcha.png")  # one try per image captcha
    r = c.post("/m/sms", data={"code": code, "phone": PHONE, "captcha": "AB12"})
    assert r.status_code == 422 and r.get_json()["message"] == "短信发送失败，请稍后重试"
