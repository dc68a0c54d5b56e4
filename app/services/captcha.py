"""The phone login's image captcha kept on the server (issue 17.3).

The browser's cookie holds only a random ticket; the answer stays in the captcha_ticket table. A ticket
is good for one try: checking it deletes it, right or wrong, so a script can neither read the answer
nor guess it again and again."""
from __future__ import annotations

import datetime
import hmac
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.models.security import CaptchaTicket

TTL = datetime.timedelta(minutes=10)


def issue(session: Session, answer: str, now: datetime.datetime) -> str:
    """Store ``answer`` under a new ticket (expired tickets are swept); returns the ticket."""
    session.execute(delete(CaptchaTicket).where(CaptchaTicket.created_at < now - TTL))
    ticket = secrets.token_urlsafe(24)
    session.add(CaptchaTicket(ticket=ticket, answer=answer.upper(), created_at=now))
    return ticket


def consume(session: Session, ticket: str | None, given: str | None, now: datetime.datetime) -> bool:
    """Whether ``given`` answers ``ticket``; the ticket is used up either way (the caller commits)."""
    if not ticket:
        return False
    row = session.get(CaptchaTicket, ticket)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    if row.created_at < now - TTL:
        return False
    return hmac.compare_digest(row.answer, (given or "").strip().upper())
