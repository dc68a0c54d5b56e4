"""``upsert.insert_ignore_many``: DO NOTHING on the named key only, or (``keys=None``) on any unique key.

Two admins opening the same technician's account at once (tests/concurrency/test_person_accounts.py) both
insert the same user name and e-mail; PostgreSQL checks the table's unique indexes in its own order, and a
racing duplicate caught by the e-mail's index was an error under ``ON CONFLICT (username)`` (a CI run saw
it once). The account insert therefore ignores a duplicate of any unique key; shown here without a race."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CmeUser
from app.services import upsert


def _row(username: str, email: str) -> dict:
    return {"username": username, "first_name": "", "last_name": "测试", "email": email, "active": True,
            "password": "x", "login_count": 0, "fail_login_count": 0, "must_change_password": True}


def test_any_unique_key_is_ignored_with_no_keys(app, world):
    table = CmeUser.__table__
    with app.app_context():
        db.session.execute(table.insert(), [_row("U0000001", "u1@person.cme.local")])
        db.session.commit()
        # another user name, the same e-mail: named key only → the e-mail's index refuses
        with pytest.raises(IntegrityError):
            db.session.execute(upsert.insert_ignore_many(db.session, table, ["username"]),
                               [_row("U0000002", "u1@person.cme.local")])
        db.session.rollback()
        db.session.execute(upsert.insert_ignore_many(db.session, table, None),
                           [_row("U0000002", "u1@person.cme.local"), _row("U0000003", "u3@person.cme.local")])
        db.session.commit()
        names = set(db.session.scalars(select(CmeUser.username).where(CmeUser.username.like("U000000%"))))
        assert names == {"U0000001", "U0000003"}
        assert db.session.scalar(select(func.count()).select_from(CmeUser).where(
            CmeUser.email == "u1@person.cme.local")) == 1
