"""User accounts: the one place a login is created (issue 14.3) — the CLI's administrators, the demo,
audit experts, site managers and technicians' accounts opened in bulk from the personnel list
(seed 002 附件一2).

Flask-free apart from :func:`password_method`, which reads the application's hash method when an
application is there (tests use a fast one)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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
    try:
        session.flush()
    except IntegrityError:  # created by someone else between the check above and this insert
        session.rollback()
        raise UserError("用户名“%(username)s”已被使用（可能刚由他人创建），请刷新后查看", username=username) from None
    return user


def set_password(user: Any, password: str, *, must_change: bool = False, hash_method: str | None = None) -> None:
    """Store a new password (hashed); ``must_change`` when it is an initial one handed out by someone else."""
    user.password = hash_password(password, hash_method)
    user.must_change_password = must_change


# ====================================================================== technicians' accounts
# Seed 002 附件一2: "输入用户名/IC 卡号及登录密码，初始登录密码为 000000" — a technician logs in with the
# IC card number; the initial password is a city parameter (seeded 000000), changed at the first login.
INITIAL_PASSWORD_KEY = "initial_password"
DEFAULT_INITIAL_PASSWORD = "000000"
BATCH = 1000


def initial_password(session: Session) -> str:
    """The initial password the city sets for technicians' accounts (参数设置 ``initial_password``)."""
    from app.models import Parameter

    value = session.scalar(select(Parameter.value).where(Parameter.key == INITIAL_PASSWORD_KEY))
    return (value or "").strip() or DEFAULT_INITIAL_PASSWORD


class AccountResult:
    """What a bulk opening did: accounts created, persons that had one, card numbers taken by another login."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.existing: list[str] = []
        self.taken: list[str] = []
        self.no_card: int = 0


def _person_email(card: str) -> str:
    return f"{card}@person.cme.local"  # FAB requires a unique e-mail; technicians log in by card number


def open_technician_accounts(session: Session, persons: Iterable[Any], *, role_name: str | None = None,
                             hash_method: str | None = None) -> AccountResult:
    """Open a 学员 account for each person that has none: login name = IC卡号, password = the
    initial password, to be changed at the first login. Idempotent and safe against a concurrent
    run (INSERT … ON CONFLICT on the unique user name): a second run creates nothing.

    The initial password is hashed once per call: every new account shares the one the city
    announced, and each must change it at the first login. The caller commits."""
    from app.models import CmeUser
    from app.services import upsert
    from app.services.roles import TECHNICIAN

    result = AccountResult()
    role = find_roles(session, role_name or TECHNICIAN)[0]
    password = hash_password(initial_password(session), hash_method)
    table = CmeUser.__table__
    batch: list[Any] = []

    def flush_batch() -> None:
        cards = [p.card_no.strip() for p in batch]
        by_name = {u.username: u.person_id for u in session.execute(
            select(table.c.username, table.c.person_id).where(table.c.username.in_(cards)))}
        has_account = set(session.scalars(select(table.c.person_id).where(
            table.c.person_id.in_([p.id for p in batch]))))
        emails = set(session.scalars(select(table.c.email).where(
            table.c.email.in_([_person_email(p.card_no.strip()) for p in batch]))))
        rows = []
        for person in batch:
            card = person.card_no.strip()
            if person.id in has_account or by_name.get(card) == person.id:
                result.existing.append(card)
            elif card in by_name or _person_email(card) in emails:
                result.taken.append(card)
            else:
                rows.append({"username": card, "first_name": "", "last_name": person.name[:64],
                             "email": _person_email(card), "active": True, "password": password,
                             "person_id": person.id, "org_id": None, "must_change_password": True,
                             "login_count": 0, "fail_login_count": 0})
        if rows:
            # any unique key: a concurrent run inserting the same account may hit the e-mail's index first
            session.execute(upsert.insert_ignore_many(session, table, None), rows)
            made = dict(session.execute(select(table.c.username, table.c.id).where(
                table.c.username.in_([r["username"] for r in rows]),
                table.c.person_id.in_([r["person_id"] for r in rows]))).all())
            from flask_appbuilder.security.sqla.models import assoc_user_role

            if made:
                session.execute(upsert.insert_ignore_many(session, assoc_user_role, ["user_id", "role_id"]),
                                [{"user_id": uid, "role_id": role.id} for uid in made.values()])
            for r in rows:
                # A concurrent run may have inserted the same name first (for this person or another).
                (result.created if r["username"] in made else result.taken).append(r["username"])
        batch.clear()

    for person in persons:
        if not (person.card_no or "").strip():
            result.no_card += 1
            continue
        batch.append(person)
        if len(batch) >= BATCH:
            flush_batch()
    if batch:
        flush_batch()
    session.flush()
    return result


def technician_account(session: Session, person_id: int) -> Any:
    from app.models import CmeUser

    return session.scalar(select(CmeUser).where(CmeUser.person_id == person_id).order_by(CmeUser.id))


def reset_to_initial(session: Session, persons: Iterable[Any], *,
                     hash_method: str | None = None) -> tuple[list[str], list[str]]:
    """重置密码: each person's account gets the initial password back, to be changed at the next login;
    its open sessions and tokens end (new session nonce). Returns (reset login names, names of the
    persons without an account); refused when none of them has one."""
    import secrets

    from app.models import CmeUser

    persons = list(persons)
    accounts = {u.person_id: u for u in session.scalars(
        select(CmeUser).where(CmeUser.person_id.in_([p.id for p in persons]))).all()}
    missing = [p.name for p in persons if p.id not in accounts]
    if not accounts:
        raise UserError("所选人员尚未开通账号，请先开通账号")
    password = hash_password(initial_password(session), hash_method)
    for user in accounts.values():
        user.password = password
        user.must_change_password = True
        user.fail_login_count = 0
        user.session_nonce = secrets.token_hex(16)
    session.flush()
    return sorted(u.username for u in accounts.values()), missing
