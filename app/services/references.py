"""Which other data still refers to rows about to be deleted (issue 2: deletes refused in Chinese).

Foreign keys would refuse such a delete on PostgreSQL with an English driver message, and SQLite
(foreign keys off) would leave the references dangling. Asking first, per referring foreign key and
set-based over all the rows, gives the same answer on both and names what refers to them.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, inspect, select
from sqlalchemy.orm import Session

CHUNK = 500  # ids per IN (...) list


_existing: dict[str, set[str]] = {}


def _existing_tables(session: Session) -> set[str]:
    """Tables present in the database (a module's table may await its migration), read once."""
    bind = session.get_bind()
    key = bind.url.render_as_string(hide_password=True)
    if key not in _existing:
        _existing[key] = set(inspect(bind).get_table_names())
    return _existing[key]


def _label(table: Table) -> str:
    """The Chinese name of what a table holds: its model's ``__module_label__``."""
    from flask_appbuilder import Model

    for mapper in Model.registry.mappers:
        if table in mapper.tables and getattr(mapper.class_, "__module_label__", None):
            return mapper.class_.__module_label__
    return ""


def _handled_by_orm(mapper: Any) -> tuple[set[Table], set[Any]]:
    """What the ORM itself takes care of when the row is deleted: tables whose referring rows it
    deletes (delete-cascaded children, many-to-many link tables), and nullable foreign-key columns
    it sets to NULL (a one-to-many relationship without delete cascade)."""
    tables: set[Table] = set()
    columns: set[Any] = set()
    for rel in mapper.relationships:
        if rel.viewonly:
            continue
        if rel.secondary is not None:
            tables.add(rel.secondary)
        elif rel.direction.name == "ONETOMANY":
            if "delete" in rel.cascade:
                tables.update(rel.mapper.tables)
            elif not rel.passive_deletes and all(c.nullable for c in rel.remote_side):
                columns.update(rel.remote_side)
    return tables, columns


def blockers(session: Session, items: Iterable[Any]) -> dict[str, list[Any]]:
    """What still refers to any of ``items``: {label of the referring data ("" when unknown): the
    referred items (at most a few per label)}; empty when they may all be deleted. Rows referring to
    another row of the same batch (a department of an institution deleted with it) do not count."""
    from flask_appbuilder import Model

    items = list(items)
    by_table: dict[Table, dict[Any, Any]] = defaultdict(dict)
    mappers: dict[Table, Any] = {}
    for item in items:
        state = inspect(item)
        by_table[state.mapper.local_table][state.identity[0]] = item
        mappers[state.mapper.local_table] = state.mapper
    found: dict[str, list[Any]] = {}
    existing = _existing_tables(session)
    for table, by_id in by_table.items():
        skip_tables, skip_columns = _handled_by_orm(mappers[table])
        for other in Model.metadata.sorted_tables:
            if other in skip_tables or other.name not in existing:
                continue
            for fk in other.foreign_keys:
                if (fk.column.table is not table or fk.parent in skip_columns
                        or (fk.ondelete or "").upper() in ("CASCADE", "SET NULL")):
                    continue
                leaving = set(by_table[other]) if other in by_table else None
                ids = _referred(session, other, fk.parent, list(by_id), leaving)
                if ids:
                    rows = found.setdefault(_label(other), [])
                    rows.extend(by_id[i] for i in ids if by_id[i] not in rows)
    return found


def _referred(session: Session, table: Table, column: Any, ids: list[Any], leaving: set | None,
              limit: int = 5) -> list[Any]:
    """Up to ``limit`` of ``ids`` that rows of ``table`` refer to through ``column``."""
    pk = list(table.primary_key.columns)
    out: list[Any] = []
    for start in range(0, len(ids), CHUNK):
        query = select(column).where(column.in_(ids[start:start + CHUNK])).distinct()
        if leaving and len(pk) == 1:
            query = query.where(pk[0].not_in(list(leaving)))
        out.extend(session.execute(query.limit(limit - len(out))).scalars())
        if len(out) >= limit:
            break
    return out
