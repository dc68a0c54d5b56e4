"""Server-side state of the phone login's image captcha (issue 17.3): the cookie holds a random
ticket only, the answer stays here and each ticket is good for one try."""
import datetime

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, String


class CaptchaTicket(Model):
    __tablename__ = "captcha_ticket"
    __no_oplog__ = True

    ticket = Column(String(64), primary_key=True)
    answer = Column(String(16), nullable=False)
    created_at = Column(DateTime, default=datetime.datetime.now, nullable=False, index=True)
