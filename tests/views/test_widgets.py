"""The shared list toolbox (views/widgets.py, issue 14.4): one number formatter, one pager."""
from decimal import Decimal

import pytest

from app.views.widgets import choices, number, pages


@pytest.mark.parametrize("value, shown", [
    (Decimal("2.00"), "2"), (Decimal("0.50"), "0.5"), (Decimal("100"), "100"), (Decimal("1E+2"), "100"),
    (Decimal("0.00"), "0"), (3, "3"), (2.5, "2.5"), (None, ""), ("", ""),
])
def test_number_trims_trailing_zeros_and_never_uses_exponents(value, shown):
    assert number(value) == shown


def test_pages_is_at_least_one():
    assert [pages(n, 20) for n in (0, 1, 20, 21, 40, 41)] == [1, 1, 1, 2, 2, 3]


def test_page_reads_junk_as_the_first_page(app):
    from app.views.widgets import page

    for query, expected in (("", 1), ("?page=3", 3), ("?page=0", 1), ("?page=-2", 1), ("?page=x", 1)):
        with app.test_request_context("/" + query):
            assert page() == expected, query


def test_choices_start_with_an_empty_any():
    assert choices({"a": "甲"}) == [("", ""), ("a", "甲")]


def test_the_number_filter_is_installed(app):
    assert app.jinja_env.filters["number"](Decimal("10.00")) == "10"
