"""SMS sending for the site managers' phone login (SUP-5): an interface and a development sender.

``sender(app)`` builds the class named by SUP_SMS_SENDER ("module:Class"); production plugs a gateway's
client there. The development sender writes the message to the log and to sup_sms_outbox, which only the
city admin's page (短信发送记录) shows.
"""
from __future__ import annotations

import datetime
import importlib
import logging

from app.extensions import db
from app.models.supervision import SmsOutbox

log = logging.getLogger("cme.sms")


class SmsSender:
    """Send one text message; raise on failure."""

    def send(self, phone: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class DevSmsSender(SmsSender):
    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, text)
        db.session.add(SmsOutbox(phone=phone, text=text, created_at=datetime.datetime.now()))


def sender(config) -> SmsSender:
    module, name = config.get("SUP_SMS_SENDER", "app.services.sms:DevSmsSender").split(":")
    return getattr(importlib.import_module(module), name)()
