"""Every service refusal is in both catalogues (issue 14.1), read from the source (ast).

A DomainError subclass is raised with a Chinese message *id* and named parameters:
``raise EntryError("第 %(row)s 行的卡号“%(card)s”不存在", row=3, card=card)``. This test finds every
call of a DomainError subclass in app/ (scripts/error_keywords.py lists them, the same list
``scripts/compile_translations.sh extract`` passes to pybabel) and every ``N_("…")``, and checks

* the message is a literal, never an f-string, ``%`` / ``+`` / ``.format`` expression (the catalogue
  could not hold it, and the parameters would be formatted before translation);
* each literal is a msgid of app/translations/messages.pot and has an English msgstr in
  app/translations/en/LC_MESSAGES/messages.po;
* a message with parameters names them all in the call (``%(name)s`` ↔ ``name=``), so formatting on
  display cannot fail with a KeyError.

After adding or changing a message run ``scripts/compile_translations.sh extract`` and translate the
new entries of the English catalogue.
"""
from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
POT = APP / "translations" / "messages.pot"
EN = APP / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PARAM = re.compile(r"%\((\w+)\)")


def _error_classes() -> dict[str, int]:
    spec = importlib.util.spec_from_file_location("error_keywords", ROOT / "scripts" / "error_keywords.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.domain_errors(APP)


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _formatted(node: ast.expr) -> bool:
    """An f-string, a ``%`` / ``+`` on text, or ``"…".format(…)``: text built before it is raised."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return any(isinstance(side, ast.Constant | ast.JoinedStr) and isinstance(getattr(side, "value", ""), str)
                   for side in (node.left, node.right)) or _formatted(node.left) or _formatted(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return isinstance(node.func.value, ast.Constant | ast.JoinedStr)
    return False


def _calls():
    """(where, message node or None, call) of every DomainError subclass call and N_ call in app/."""
    classes = _error_classes()
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            position = 1 if name == "N_" else classes.get(name or "")
            if not position:
                continue
            message = node.args[position - 1] if len(node.args) >= position else next(
                (k.value for k in node.keywords if k.arg == "message"), None)
            yield f"{path.relative_to(ROOT)}:{node.lineno}", message, node


def _literals() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for where, message, _call in _calls():
        if isinstance(message, ast.Constant) and isinstance(message.value, str) and message.value:
            out.setdefault(message.value, []).append(where)
    return out


def test_the_scan_finds_the_raised_messages():
    classes = _error_classes()
    assert {"DomainError", "NotFoundError", "GrantError", "RuleError", "UploadError"} <= set(classes)
    assert classes["PersonFieldError"] == 2  # PersonFieldError(column, message)
    found = _literals()
    assert "请填写%(label)s" in found  # services/credit_rules.py
    assert "服务器存储空间不足，请联系管理员" in found  # an N_ id (services/filestore.py)


def test_no_message_is_formatted_before_it_is_raised():
    formatted = [f"{where}: {ast.unparse(message)[:100]}" for where, message, _call in _calls()
                 if message is not None and _formatted(message)]
    assert not formatted, "\n".join(formatted)


def test_every_parameter_of_a_message_is_passed():
    missing = []
    for where, message, call in _calls():
        if not (isinstance(message, ast.Constant) and isinstance(message.value, str)) or _name(call.func) == "N_":
            continue
        names = set(PARAM.findall(message.value))
        passed = {k.arg for k in call.keywords}
        if None in passed:  # **params: cannot tell
            continue
        if names - passed:
            missing.append(f"{where}: {sorted(names - passed)} not passed")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("catalogue", ["pot", "en"])
def test_every_raised_message_is_in_the_catalogue(catalogue):
    with (POT if catalogue == "pot" else EN).open("rb") as f:
        entries = {m.id: m.string for m in read_po(f) if m.id}
    problems = []
    for message, where in sorted(_literals().items()):
        if message not in entries:
            problems.append(f"{where[0]}: not in {catalogue}: {message}")
        elif catalogue == "en" and not entries[message]:
            problems.append(f"{where[0]}: no English translation: {message}")
    assert not problems, (f"{len(problems)} messages missing (run scripts/compile_translations.sh extract and "
                          "translate the new entries of en/LC_MESSAGES/messages.po):\n" + "\n".join(problems))
