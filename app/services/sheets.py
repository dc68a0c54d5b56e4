"""Reading the first sheet of an uploaded Excel template by its header titles (imports of every area).

``read_rows(path, columns)`` yields (Excel row number, {column title: cell}) for the non-empty rows, after
checking that every column title is in the header row; any unreadable file raises ImportFileError with a
Chinese message. ``template(...)`` writes the matching download: that header row over text columns, and a
sheet of notes.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

UNREADABLE = "无法读取Excel文件，请使用下载的模板"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong headers, not a workbook)."""


def text(value: Any) -> str:
    """A cell as trimmed text; whole floats (Excel's numbers) without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def template(sheet: str, columns: Sequence[str], notes: Sequence[str], *, width: int,
             choices: Mapping[str, Sequence[str]] | None = None) -> io.BytesIO:
    """An import template: sheet ``sheet`` with the column titles in bold over text-formatted columns of
    ``width`` (a drop-down list of ``choices[title]`` under the titles named there), then the notes sheet."""
    from app.services.exports import workbook

    out = io.BytesIO()
    wb = workbook(out)
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7"})
    text_format = wb.add_format({"num_format": "@"})
    for col, name in enumerate(columns):
        ws.write_string(0, col, name, bold)
        ws.set_column(col, col, width, text_format)
    for name, values in (choices or {}).items():
        col = columns.index(name)
        ws.data_validation(1, col, 5000, col, {"validate": "list", "source": list(values)})
    notes_sheet = wb.add_worksheet("填写说明")
    for i, line in enumerate(notes):
        notes_sheet.write(i, 0, line)
    notes_sheet.set_column(0, 0, 90)
    wb.close()
    out.seek(0)
    return out


def read_rows(path: str, columns: Sequence[str], cell: Callable[[Any], Any] = text,
              unreadable: str = UNREADABLE) -> Iterable[tuple[int, dict]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFileError(unreadable) from exc
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [str(c).strip().lstrip("*") if c is not None else "" for c in next(rows, ())]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ImportFileError("表头不正确，缺少列：" + "、".join(missing))
        index = {name: header.index(name) for name in columns}
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            yield number, {name: cell(values[i] if i < len(values) else None) for name, i in index.items()}
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(unreadable) from exc
    finally:
        wb.close()
