"""The one way a number reads on a page, in a message or a PDF: 2.00 → "2", 0.50 → "0.5", 100 → "100"
(views/widgets.number and the Jinja filter ``|number`` are this function)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def plain(value: Any) -> str:
    """A number without trailing zeros or exponent; None or "" → "" (a text that is no number stays)."""
    if value is None or value == "":
        return ""
    try:
        value = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(value.normalize(), "f") if value != 0 else "0"
