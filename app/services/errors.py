"""The one base of every refusal the domain gives a user (issue 14).

A service refuses with a subclass of :class:`DomainError`, its message a catalogue id with named
parameters, never pre-formatted text::

    raise EntryError("第 %(row)s 行的卡号“%(card)s”不存在", row=3, card=card_no)

``str(exc)`` translates the id into the request's language (the Flask app installs its translator
with :func:`install_translator`; this module stays Flask-free) and then fills in the parameters, so a
view shows it as it is. ``status`` is the HTTP status an API answers with. The message ids are
extracted by ``scripts/compile_translations.sh extract`` (every subclass name is a keyword there) and
``tests/services/test_error_catalogue.py`` fails when a raised message is missing from a catalogue.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_translate: Callable[[str], str] = str


def install_translator(translate: Callable[[str], str]) -> None:
    """Called by the app factory with flask_babel's gettext (outside a request: the id itself)."""
    global _translate
    _translate = translate


def N_(message: str) -> str:
    """Mark a message id for extraction where it is not the first argument of an error."""
    return message


class DomainError(ValueError):
    """A refusal with a user-facing message; the transaction that raised it must be rolled back."""

    status = 422
    default_message = "操作未完成"

    def __init__(self, message: str = "", **params: Any):
        self.message = message or self.default_message
        self.params = params
        super().__init__(self.message)

    def __str__(self) -> str:
        try:
            text = _translate(self.message)
        except RuntimeError:  # no application context
            text = self.message
        return text % self.params if self.params else text


class NotFoundError(DomainError):
    status = 404
    default_message = "记录不存在或已被删除"


class ForbiddenError(DomainError):
    status = 403
    default_message = "没有权限访问该页面或数据"


class ConflictError(DomainError):
    """Someone else changed the row first (a lost race); the message says what they decided."""

    status = 409
    default_message = "该记录已被他人处理，请刷新后查看"
