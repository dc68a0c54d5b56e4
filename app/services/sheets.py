"""Reading the first sheet of an uploaded Excel template by its header titles (imports of every area).

``read_rows(path, columns)`` yields (Excel row number, {column title: cell}) for the non-empty rows, after
checking that every column title is in the header row; any unreadable file raises ImportFileError with a
Chinese message. people_import and filing_import hold older copies of the same loop.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
