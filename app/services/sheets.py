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

from app.services.errors import N_, DomainError
from app.services.exports import workbook

UNREADABLE = N_("无法读取Excel文件，请使用下载的模板")
# Checked before any row is parsed (issue 17.6): a 144 KB file can hold a million empty rows, and the
# XML inside an .xlsx compresses a hundredfold.
MAX_ROWS = 50_000
MAX_UNCOMPRESSED = 60 * 1024 * 1024
MAX_ENTRIES = 500


class ImportFileError(DomainError):
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


def check_limits(source: Any, *, max_uncompressed: int = MAX_UNCOMPRESSED, unreadable: str = UNREADABLE) -> None:
    """Refuse a workbook too big to parse, from the zip directory alone: the uncompressed size of its
    parts and their number. ``source`` is a path or a binary file object."""
    import zipfile

    try:
        with zipfile.ZipFile(source) as zf:
            parts = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(unreadable) from exc
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if len(parts) > MAX_ENTRIES or sum(p.file_size for p in parts) > max_uncompressed:
        raise ImportFileError("文件内容过大（解压后超过%(mb)sMB），请删除多余的空行、空列和其他工作表，或拆分后分批导入",
                              mb=max_uncompressed // (1024 * 1024))


def open_first_sheet(source: Any, *, max_rows: int = MAX_ROWS, max_uncompressed: int = MAX_UNCOMPRESSED,
                     unreadable: str = UNREADABLE):
    """(workbook, first sheet) opened read-only after ``check_limits``; a sheet whose declared size
    (its dimension) exceeds ``max_rows`` rows besides the header is refused before it is read."""
    import openpyxl

    check_limits(source, max_uncompressed=max_uncompressed, unreadable=unreadable)
    try:
        wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
        sheet = wb.worksheets[0]
        declared = sheet.max_row
    except Exception as exc:
        raise ImportFileError(unreadable) from exc
    if declared is not None and declared > max_rows + 1:
        wb.close()
        raise too_many_rows(max_rows)
    return wb, sheet


def too_many_rows(max_rows: int) -> ImportFileError:
    return ImportFileError("文件行数超过%(rows)s行（不含表头），请删除多余的空行或拆分后分批导入", rows=max_rows)


def limited(rows: Iterable, max_rows: int) -> Iterable:
    """``rows`` (the header first), refusing the file at the first row past ``max_rows`` — a sheet
    without a true dimension is stopped while it is read."""
    for number, values in enumerate(rows, start=1):
        if number > max_rows + 1:
            raise too_many_rows(max_rows)
        yield values


def read_rows(path: str, columns: Sequence[str], cell: Callable[[Any], Any] = text,
              unreadable: str = UNREADABLE, max_rows: int = MAX_ROWS) -> Iterable[tuple[int, dict]]:
    wb, sheet = open_first_sheet(path, max_rows=max_rows, unreadable=unreadable)
    try:
        rows = limited(sheet.iter_rows(values_only=True), max_rows)
        header = [str(c).strip().lstrip("*") if c is not None else "" for c in next(rows, ())]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ImportFileError("表头不正确，缺少列：%(columns)s", columns="、".join(missing))
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
