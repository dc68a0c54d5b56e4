"""User accounts: the one place a login is created (issue 14.3) — the CLI's administrators, the demo,
audit experts, site managers and technicians' accounts opened in bulk from the personnel list
(seed 002 附件一2).

Flask-free apart from :func:`password_method`, which reads the application's hash method when an
application is there (tests use a fast one)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.services.errors import DomainError

DEFAULT_HASH_METHOD = "scrypt"


class UserError(DomainError):
    status = 409


def password_method() -> str:
    try:
        from flask import current_app

        return current_app.config.get("FAB_PASSWORD_HASH_METHOD", DEFAULT_HASH_METHOD)
    except RuntimeError:  # no application context
        return DEFAULT_HASH_METHOD


def hash_password(password: str, method: str | None = None) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method=method or password_method())


def find_roles(session: Session, names: str | Iterable[str]) -> list[Any]:
    """The FAB roles named ``names`` (one name or several); an unknown name is refused."""
    from flask_appbuilder.security.sqla.models import Role

    wanted = [names] if isinstance(names, str) else list(names)
    found = {r.name: r for r in session.scalars(select(Role).where(Role.name.in_(wanted)))}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise UserError("角色“%(role)s”不存在", role="、".join(missing))
    return [found[n] for n in wanted]


def create_user(session: Session, username: str, roles: str | Sequence[str], *, last_name: str,
                first_name: str = "", org: Any = None, person: Any = None, password: str,
                must_change: bool = False, email: str | None = None, active: bool = True,
                hash_method: str | None = None) -> Any:
    """A new login ``username`` with ``roles`` (a role name or names), anchored to ``org`` and/or
    ``person``. ``must_change``: the password is an initial one, changed at the first login.
    A taken user name is refused (UserError); the caller commits."""
    from app.models import CmeUser

    username = (username or "").strip()
    if not username:
        raise UserError("请填写用户名")
    if session.scalar(select(CmeUser.id).where(CmeUser.username == username)) is not None:
        raise UserError("用户名“%(username)s”已被使用", username=username)
    user = CmeUser(username=username, first_name=first_name or "", last_name=last_name or "",
                   email=email or f"{username}@cme.local", active=active,
                   roles=find_roles(session, roles), org=org, person=person,
                   password=hash_password(password, hash_method), must_change_password=must_change)
    session.add(user)
    session.flush()
    return user


def set_password(user: Any, password: str, *, must_change: bool = False, hash_method: str | None = None) -> None:
    """Store a new password (hashed); ``must_change`` when it is an initial one handed out by someone else."""
    user.password = hash_password(password, hash_method)
    user.must_change_password = must_change
