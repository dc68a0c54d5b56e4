"""The one data-scope helper (SYS-1).

A Scope says which rows a user may see and change. Every scoped model declares its anchor
columns in ``__scope_columns__`` (any of district / institution / department / person);
``Scope.filter`` turns the user's scope into one indexed equality on the matching column, and
``Scope.allows`` checks one object (for forms, API payloads, bulk actions and downloads).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, true

from app.services.roles import ROLE_SCOPE

LEVELS = ("all", "district", "institution", "department", "person", "none")


@dataclass(frozen=True)
class Scope:
    level: str
    org_id: int | None = None  # the district / institution / department id for those levels
    person_id: int | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"unknown scope level {self.level}")

    @property
    def is_all(self) -> bool:
        return self.level == "all"

    def _column(self, model: Any):
        columns = getattr(model, "__scope_columns__", None)
        if columns is None:
            raise TypeError(f"{model.__name__} declares no __scope_columns__")
        name = columns.get(self.level)
        return getattr(model, name) if name else None

    def _anchor(self) -> int | None:
        return self.person_id if self.level == "person" else self.org_id

    def criterion(self, model: Any):
        """SQL criterion limiting ``model`` to this scope."""
        if self.level == "all":
            return true()
        if self.level == "none":
            return false()
        column = self._column(model)
        anchor = self._anchor()
        if column is None or anchor is None:
            return false()
        return column == anchor

    def filter(self, query: Any, model: Any) -> Any:
        """Apply the scope to a Query or Select over ``model``."""
        if self.level == "all":
            return query
        return query.filter(self.criterion(model)) if hasattr(query, "filter") else query.where(
            self.criterion(model)
        )

    def allows(self, obj: Any) -> bool:
        """May this scope see / change ``obj`` (an instance of a scoped model)?"""
        if self.level == "all":
            return True
        if self.level == "none" or obj is None:
            return False
        columns = getattr(type(obj), "__scope_columns__", {})
        name = columns.get(self.level)
        anchor = self._anchor()
        return bool(name) and anchor is not None and getattr(obj, name) == anchor

    def allows_org(self, org: Any) -> bool:
        """May rows be placed under organization node ``org``?"""
        if self.level == "all":
            return org is not None
        if org is None or self.level in ("none", "person"):
            return False
        return getattr(org, f"{self.level}_id") == self.org_id


NO_SCOPE = Scope("none")


def scope_for_user(user: Any) -> Scope:
    """A user's data scope: its widest role's level (LEVELS order), anchored at its organization's
    district / institution / department, or its own person; NO_SCOPE for anyone signed out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_SCOPE
    levels = [ROLE_SCOPE[r.name] for r in user.roles if r.name in ROLE_SCOPE]
    if not levels:
        return NO_SCOPE
    level = min(levels, key=LEVELS.index)
    if level == "all":
        return Scope("all")
    if level == "person":
        return Scope("person", person_id=user.person_id) if user.person_id else NO_SCOPE
    if level == "none":
        return NO_SCOPE
    org = user.org
    anchor = getattr(org, f"{level}_id", None) if org is not None else None
    return Scope(level, org_id=anchor) if anchor else NO_SCOPE
