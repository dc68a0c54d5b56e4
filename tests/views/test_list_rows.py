"""The rows of every FAB list are written by views/list_rows.py (issue 18.4), as the per-cell Jinja loop
wrote them: escaped text, markup kept, blanks for None, 是/否, times to the minute, each row its own id."""
from __future__ import annotations

import datetime
from decimal import Decimal

from markupsafe import Markup

from app.views.list_rows import list_rows


def test_cells_are_shown_like_any_template_value(app):
    rows = [{"name": "<b>张三</b>", "done": True, "at": datetime.datetime(2026, 3, 1, 9, 5, 7, 123),
             "credits": Decimal("2.50"), "note": None, "link": "x", "stamp": "2026-03-01 09:05:07.123"}]
    formatters = {"link": lambda v: Markup('<a href="/p/1">{}</a>').format(v), "stamp": lambda v: v}
    with app.test_request_context("/"):
        html = list_rows(rows, [7], list(rows[0]), formatters)
    assert html == ("<tr><td>&lt;b&gt;张三&lt;/b&gt;</td><td>是</td><td>2026-03-01 09:05</td><td>2.50</td>"
                    '<td></td><td><a href="/p/1">x</a></td><td>2026-03-01 09:05</td></tr>')
    assert isinstance(html, Markup)


def test_each_row_gets_its_checkbox_and_its_own_buttons(app):
    buttons = Markup('<a href="/credits/show/__cme_pk__">查看</a>')
    with app.test_request_context("/"):
        html = list_rows([{"a": 1}, {"a": 2}], [11, 12], ["a"], {}, buttons, checkbox=True)
    assert html.count('name="rowid"') == 2
    assert '<td class="cme-col-actions"><a href="/credits/show/11">查看</a></td><td>1</td>' in html
    assert '<a href="/credits/show/12">查看</a>' in html and "__cme_pk__" not in html
    with app.test_request_context("/"):
        bare = list_rows([{"a": False}], [3], ["a"], {})
    assert bare == "<tr><td>否</td></tr>"
