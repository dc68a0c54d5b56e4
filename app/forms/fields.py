"""AJAX picker field: a Select2 search box for links to big tables (persons, subjects, orgs).

The browser asks a scoped JSON endpoint page by page (``?q=&page=``); the server resolves the
submitted id again through the same scoped query, so a guessed id outside the scope fails.
"""
from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.validators import ValidationError


class AjaxPickerWidget:
    """``placeholder`` replaces the default hint; ``depends`` names another field of the form whose
    value is sent as ``parent`` (e.g. the institution of a department picker) and clears this one
    when it changes."""

    def __init__(self, url: str | Callable[[], str], placeholder=None, depends: str | None = None):
        self.url = url
        self.placeholder = placeholder
        self.depends = depends

    def __call__(self, field, **kwargs):
        url = self.url() if callable(self.url) else self.url
        option = ""
        if field.data is not None:
            option = f'<option value="{escape(field.data.id)}" selected>{escape(str(field.data))}</option>'
        extra = "".join(f' data-{name}="{escape(str(value))}"'
                        for name, value in (("placeholder", self.placeholder), ("depends", self.depends))
                        if value)
        return Markup(
            f'<select id="{escape(field.id)}" name="{escape(field.name)}" class="form-control cme-picker" '
            f'data-url="{escape(url)}"{extra} style="width:100%">'
            f'<option value=""></option>{option}</select>'
        )


class AjaxPickerField(Field):
    """Holds an ORM object; renders as an AJAX Select2; validates the id via ``resolve(id)``."""

    def __init__(self, label=None, validators=None, *, resolve: Callable, url, placeholder=None,
                 depends: str | None = None, **kwargs):
        kwargs.setdefault("widget", AjaxPickerWidget(url, placeholder=placeholder, depends=depends))
        super().__init__(label, validators, **kwargs)
        self.resolve = resolve
        self._raw = None

    def process_formdata(self, valuelist):
        self._raw = valuelist[0] if valuelist else None
        self.data = None
        if self._raw:
            self.data = self.resolve(self._raw)

    def pre_validate(self, form):
        if self._raw and self.data is None:
            raise ValidationError("所选记录不存在或无权访问")

    def populate_obj(self, obj, name):
        setattr(obj, name, self.data)
