"""The DomainError subclasses of app/ and where their message id sits, read from the source (ast).

    python scripts/error_keywords.py      prints `-k Name[:n]` for pybabel extract, one per subclass,
                                          plus `-k N_` (services/errors.N_ marks ids not raised directly)

A subclass whose ``__init__`` takes other arguments first (``PersonFieldError(column, message)``) gets
``Name:n`` with the position of its ``message`` parameter. tests/services/test_error_catalogue.py uses
the same scan to find every raised message id.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "app"
BASE = "DomainError"


def _base_names(node: ast.ClassDef) -> list[str]:
    out = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            out.append(base.id)
        elif isinstance(base, ast.Attribute):
            out.append(base.attr)
    return out


def _message_position(node: ast.ClassDef) -> int | None:
    """1-based position of ``message`` in the class's own ``__init__`` (None: no __init__ of its own;
    0: an __init__ without a ``message`` parameter, so its calls carry no message id)."""
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            names = [a.arg for a in item.args.posonlyargs + item.args.args][1:]  # without self
            return names.index("message") + 1 if "message" in names else 0
    return None


def domain_errors(root: Path = ROOT) -> dict[str, int]:
    """Every DomainError subclass name (DomainError included) → position of its message argument
    (0 when its calls carry none)."""
    classes: dict[str, tuple[list[str], int | None]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases, position = _base_names(node), _message_position(node)
                known = classes.get(node.name)
                # The same name in two modules: keep the one that subclasses an error.
                if known is None or not known[0]:
                    classes[node.name] = (bases, position)
    found: dict[str, int] = {BASE: 1}
    changed = True
    while changed:
        changed = False
        for name, (bases, position) in classes.items():
            if name in found:
                continue
            parents = [b for b in bases if b in found]
            if parents:
                found[name] = position if position is not None else found[parents[0]]
                changed = True
    return found


def keywords(root: Path = ROOT) -> list[str]:
    out = []
    for name, position in sorted(domain_errors(root).items()):
        if position == 1:
            out += ["-k", name]
        elif position:
            out += ["-k", f"{name}:{position}"]
    return out + ["-k", "N_"]


if __name__ == "__main__":
    sys.stdout.write(" ".join(keywords()) + "\n")
