"""The rows of a FAB list, built in Python (issue 18.4): the list widget's per-cell Jinja loop (a formatter
lookup, the finalize hook and an escape for each of ~300 cells) was the largest part of a list page's time.

``list_rows`` (a template global, used by templates/appbuilder/general/widgets/list.html) writes the same
markup the loop wrote: the row's checkbox when the list has actions, the row's buttons (rendered once for
the page with the stand-in id ``__cme_pk__``), then each column through its formatter, shown like any other
template value (i18n.display_value: blank for None, 是/否, YYYY-MM-DD HH:MM) and escaped unless it is markup.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from app.i18n import display_value

STAND_IN = "__cme_pk__"


def _short_time(out: Any) -> Any:
    """A formatter's "YYYY-MM-DD HH:MM:SS[.ffffff]" reads YYYY-MM-DD HH:MM like every other time."""
    if isinstance(out, str) and len(out) > 16 and out[4] == "-" and out[10] == " " and out[13] == ":" \
            and out[16] == ":":
        return out[:16]
    return out


def list_rows(value_columns: Iterable[Mapping[str, Any]], pks: Sequence[Any], include_columns: Sequence[str],
              formatters: Mapping[str, Callable[[Any], Any]], buttons: str | None = None,
              checkbox: bool = False) -> Markup:
    columns = [(name, formatters.get(name)) for name in include_columns]
    buttons = None if buttons is None else str(buttons)  # plain text: Markup + str would escape the str
    parts: list[str] = []
    add = parts.append
    for item, pk in zip(value_columns, pks):
        key = str(escape(pk))
        add("<tr>")
        if checkbox:
            add(f'<td><input id="{key}" class="action_check" name="rowid" value="{key}" type="checkbox"></td>')
        if buttons is not None:
            add(f'<td class="cme-col-actions">{buttons.replace(STAND_IN, key)}</td>')
        for name, formatter in columns:
            value = item[name]
            if formatter is not None:
                value = _short_time(formatter(value))
            add(f"<td>{escape(display_value(value))}</td>")
        add("</tr>")
    return Markup("".join(parts))


def install(app) -> None:
    app.jinja_env.globals["list_rows"] = list_rows
