"""Idempotent forms (issue 13): a form carries a one-time token; the first submit with it claims the token in
its own transaction, a second submit with the same token gets the first one's result instead of redoing it.

    sub = submissions.claim(session, token, user_id, "CreditView.add")   # before the work, flushed
    ... the work ...; session.commit()                                   # the claim commits with it
    submissions.finish(session, token, url, message)                     # remember the result page

Two submits at once: the second one's claim waits on the unique token until the first commits (then it
is refused and reads the first's result) or rolls back (then it claims the token and does the work).
"""
from __future__ import annotations

import datetime
import re
import time
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models.submissions import FormSubmission

FIELD = "_submit_token"
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
KEEP_DAYS = 30  # old tokens are deleted by prune(); a form left open longer simply submits again
_PENDING = "submission_pending"
_DONE = "submission_done"


def valid(token: str | None) -> bool:
    return bool(token) and bool(TOKEN_RE.match(token))


def claim(session: Session, token: str, user_id: int | None, endpoint: str) -> FormSubmission | None:
    """Insert the token row (flushed, not committed); None when another submit already claimed and committed it.

    The row commits with the form's work and disappears with its rollback."""
    sub = FormSubmission(token=token, user_id=user_id, endpoint=endpoint[:128],
                         created_at=datetime.datetime.now())
    session.add(sub)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    session.info[_PENDING] = token
    return sub


def committed(session: Session, token: str) -> bool:
    """Did the transaction holding this request's claim of ``token`` commit?"""
    return session.info.get(_DONE) == token


def finish(session: Session, token: str, result_url: str | None, message: str | None,
           now: datetime.datetime | None = None) -> None:
    """Remember where the first submit sent the user and what it told them (after its work committed); the
    same user's tokens older than KEEP_DAYS go at the same time, so the table stays small."""
    sub = session.scalar(select(FormSubmission).where(FormSubmission.token == token))
    if sub is not None:
        sub.result_url, sub.message = (result_url or "")[:512] or None, (message or "")[:512] or None
        if sub.user_id is not None:
            cutoff = (now or datetime.datetime.now()) - datetime.timedelta(days=KEEP_DAYS)
            session.execute(delete(FormSubmission).where(FormSubmission.user_id == sub.user_id,
                                                         FormSubmission.created_at < cutoff))
    session.commit()
    session.info.pop(_DONE, None)


def first(session: Session, token: str, wait: float = 5.0) -> FormSubmission | None:
    """The committed submit of ``token``; waits up to ``wait`` seconds for it to record its result page."""
    deadline = time.monotonic() + wait
    while True:
        sub = session.scalar(select(FormSubmission).where(FormSubmission.token == token))
        if sub is None or sub.result_url or sub.message or time.monotonic() >= deadline:
            return sub
        session.rollback()  # a fresh snapshot for the next look
        time.sleep(0.05)


def prune(session: Session, now: datetime.datetime) -> int:
    """Delete every user's tokens older than KEEP_DAYS; returns how many."""
    result = session.execute(delete(FormSubmission).where(
        FormSubmission.created_at < now - datetime.timedelta(days=KEEP_DAYS)))
    return result.rowcount or 0


def _after_commit(session: Session) -> None:
    token = session.info.pop(_PENDING, None)
    if token:
        session.info[_DONE] = token


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)  # rolled back: the token is free again


def install(session_class: Any = Session) -> None:
    """Register the listeners once per process on the Session class."""
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_transaction_end", _after_transaction_end)
