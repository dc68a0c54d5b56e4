"""SMS sending for the site managers' phone login (SUP-5): one interface, a development sender and an
HTTP gateway adapter.

``sender(config)`` builds the class named by SUP_SMS_SENDER ("module:Class"):

* ``app.services.sms:DevSmsSender`` (development, the default) writes the message to the log and to
  sup_sms_outbox, which only the city admin's page (短信发送记录) shows. Production refuses to start with it
  unless CME_ALLOW_DEV_SMS=1 (config.ProductionConfig.check).
* ``app.services.sms:HttpSmsSender`` posts each message as JSON to a provider's HTTP API (SMS_API_URL) with
  an HMAC-SHA256 signature made with SMS_API_SECRET; see its docstring for the exact request. Most Chinese
  gateways (or a small relay in front of Aliyun / Tencent Cloud SMS) take this shape: a key, a signature,
  a template id with its parameters and the sign name.

A send that fails raises SmsError (a SupervisionError: the phone page shows its Chinese message).
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import importlib
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping

from app.extensions import db
from app.models.supervision import SmsOutbox
from app.services.supervision import SupervisionError

log = logging.getLogger("cme.sms")

DEV_SENDER = "app.services.sms:DevSmsSender"


class SmsError(SupervisionError):
    """The message could not be sent; the text is Chinese and safe to show."""


class SmsSender:
    """Send one text message; raise SmsError on failure.

    ``text`` is the whole message (what the development sender shows); ``params`` the template's
    parameters (``{"code": "123456"}``) for gateways that send by template."""

    def __init__(self, config: Mapping | None = None) -> None:
        self.config = config or {}

    def send(self, phone: str, text: str, params: Mapping[str, str] | None = None) -> None:  # pragma: no cover
        raise NotImplementedError


class DevSmsSender(SmsSender):
    def send(self, phone: str, text: str, params: Mapping[str, str] | None = None) -> None:
        log.warning("SMS to %s: %s", phone, text)
        db.session.add(SmsOutbox(phone=phone, text=text, created_at=datetime.datetime.now()))


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """HMAC-SHA256 (hex) of ``timestamp \\n nonce \\n body`` with the API secret."""
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class HttpSmsSender(SmsSender):
    """A provider's HTTP API, configured by environment:

    SMS_API_URL, SMS_API_KEY, SMS_API_SECRET, SMS_TEMPLATE_ID, SMS_SIGN_NAME, SMS_TIMEOUT (seconds).

    Request: ``POST SMS_API_URL`` with ``Content-Type: application/json`` and the body
    ``{"phone": …, "template_id": …, "sign_name": …, "params": {"code": …}, "text": …}``, headers
    ``X-Api-Key`` (SMS_API_KEY), ``X-Timestamp`` (Unix seconds), ``X-Nonce`` (random) and
    ``X-Signature`` = hex HMAC-SHA256(SMS_API_SECRET, timestamp + "\\n" + nonce + "\\n" + body).
    Success: HTTP 2xx and a JSON body whose ``code`` is 0, "0" or "OK"; anything else is a failure
    (its ``message`` is logged, never shown to the phone user)."""

    REQUIRED = ("SMS_API_URL", "SMS_API_KEY", "SMS_API_SECRET", "SMS_TEMPLATE_ID")

    def __init__(self, config: Mapping | None = None) -> None:
        super().__init__(config)
        missing = [key for key in self.REQUIRED if not self.config.get(key)]
        if missing:
            raise SmsError("短信网关未配置完整（缺少 %(keys)s），请联系管理员", keys="、".join(missing))

    def request(self, phone: str, text: str, params: Mapping[str, str] | None) -> urllib.request.Request:
        cfg = self.config
        body = json.dumps({"phone": phone, "template_id": cfg["SMS_TEMPLATE_ID"],
                           "sign_name": cfg.get("SMS_SIGN_NAME", ""), "params": dict(params or {}),
                           "text": text}, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
        return urllib.request.Request(cfg["SMS_API_URL"], data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "X-Api-Key": cfg["SMS_API_KEY"],
            "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": signature(cfg["SMS_API_SECRET"], timestamp, nonce, body)})

    def send(self, phone: str, text: str, params: Mapping[str, str] | None = None) -> None:
        req = self.request(phone, text, params)
        timeout = float(self.config.get("SMS_TIMEOUT") or 10)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            log.error("SMS gateway answered HTTP %s for %s", exc.code, phone)
            raise SmsError("短信发送失败（短信网关拒绝了请求），请稍后重试") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            log.error("SMS gateway unreachable: %s", exc)
            raise SmsError("短信发送失败（无法连接短信网关），请稍后重试") from exc
        try:
            answer = json.loads(raw or b"{}")
        except ValueError as exc:
            raise SmsError("短信发送失败（短信网关的回复无法识别），请稍后重试") from exc
        if not isinstance(answer, dict) or str(answer.get("code")) not in ("0", "OK", "ok"):
            log.error("SMS gateway refused the message to %s: %s", phone, str(answer)[:300])
            raise SmsError("短信发送失败，请稍后重试")
        log.info("SMS sent to %s (gateway id %s)", phone, answer.get("id") or answer.get("biz_id"))


def sender(config: Mapping) -> SmsSender:
    """The sender named by SUP_SMS_SENDER, built with the app's config."""
    module, name = (config.get("SUP_SMS_SENDER") or DEV_SENDER).split(":")
    return getattr(importlib.import_module(module), name)(config)
