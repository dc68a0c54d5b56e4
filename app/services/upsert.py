"""Rows two people may create at the same instant (an audit result, a wizard draft line, a check-in…)
are written with ``INSERT … ON CONFLICT`` on their unique key instead of check-then-insert: on
PostgreSQL a second insert of the same key waits for the first one's commit and then does nothing
(or updates), so nobody gets a unique-key violation (a 500). SQLite supports the same clause.

    created = upsert.insert_ignore(session, AuditResult, values, ["cycle_id", "person_id"])
    row = upsert.locked(session, select(AuditResult).where(…))   # then change it under a row lock
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session


def _insert_for(session: Session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    return None


def insert_ignore(session: Session, model: Any, values: Mapping[str, Any], keys: Sequence[str],
                  where: Any = None) -> bool:
    """INSERT the row unless a row with the same ``keys`` exists (or is being inserted by another
    transaction); True when this call inserted it. ``where``: the predicate of a partial unique
    index. The ORM does not see the row until it is selected."""
    dialect_insert = _insert_for(session)
    if dialect_insert is None:  # another database: check, then insert (not concurrency-safe)
        from sqlalchemy import and_, select

        table = model.__table__
        found = session.execute(select(table.c[keys[0]]).where(and_(*(table.c[k] == values[k] for k in keys)))).first()
        if found is not None:
            return False
        session.execute(insert(model).values(**values))
        return True
    stmt = dialect_insert(model).values(**values).on_conflict_do_nothing(index_elements=list(keys), index_where=where)
    result = session.execute(stmt)
    return (result.rowcount or 0) > 0


def insert_or_update(session: Session, model: Any, rows: Sequence[Mapping[str, Any]], keys: Sequence[str],
                     update: Sequence[str]) -> None:
    """INSERT the rows; a row whose ``keys`` exist already gets the ``update`` columns instead
    (ON CONFLICT DO UPDATE)."""
    if not rows:
        return
    dialect_insert = _insert_for(session)
    if dialect_insert is None:  # another database: delete, then insert (not concurrency-safe)
        from sqlalchemy import and_, delete, or_

        table = model.__table__
        session.execute(delete(model).where(or_(*(and_(*(table.c[k] == r[k] for k in keys)) for r in rows))))
        session.execute(insert(model), list(rows))
        return
    stmt = dialect_insert(model)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})
    session.execute(stmt, list(rows))


def insert_ignore_many(session: Session, model: Any, keys: Sequence[str] | None) -> Any:
    """An ``INSERT … ON CONFLICT (keys) DO NOTHING`` statement to execute with a list of rows. ``keys=None``:
    ``ON CONFLICT DO NOTHING`` of any unique key — for a table with several (a user's name and e-mail), where
    PostgreSQL raises a duplicate of a key other than the named one (which key a racing insert hits first
    depends on the order it checks the indexes)."""
    dialect_insert = _insert_for(session)
    if dialect_insert is None:
        return insert(model)
    if keys is None:
        return dialect_insert(model).on_conflict_do_nothing()
    return dialect_insert(model).on_conflict_do_nothing(index_elements=list(keys))


def insert_from_select_ignore(session: Session, model: Any, columns: Sequence[str], select_: Any,
                              keys: Sequence[str]) -> Any:
    """``INSERT INTO model (columns) SELECT … ON CONFLICT (keys) DO NOTHING`` (plain INSERT … SELECT on
    another database). SQLite reads ON CONFLICT after a SELECT only when the SELECT has a WHERE."""
    dialect_insert = _insert_for(session)
    if dialect_insert is None:
        return insert(model).from_select(list(columns), select_)
    return dialect_insert(model).from_select(list(columns), select_).on_conflict_do_nothing(index_elements=list(keys))


def locked(session: Session, query: Any) -> Any:
    """The one row of ``query`` selected FOR UPDATE (PostgreSQL: others changing it wait for this
    transaction) and refreshed from the database; None when there is none."""
    return session.scalars(query.with_for_update().execution_options(populate_existing=True)).first()


__all__ = ["insert_from_select_ignore", "insert_ignore", "insert_ignore_many", "insert_or_update", "locked"]
