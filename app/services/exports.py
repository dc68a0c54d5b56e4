"""Excel output streamed in constant memory (XlsxWriter ``constant_memory``).

Every workbook the application writes (list exports, export jobs, error reports, import templates)
is opened by ``workbook()``: user text is written as text, never as a formula or a link, so a value
typed as ``=HYPERLINK("http://…"&B2)`` or ``=1+1`` arrives in Excel as those characters (issue 17).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

import xlsxwriter
from flask import Response

from app.services.filestore import guard

# XlsxWriter's write() turns "=…" into a formula, "http://…" into a hyperlink and "12" into a number
# by default; none of that for data that users typed.
SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def workbook(target: Any, **options: Any) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook on ``target`` (a path or a BytesIO) that writes strings as strings."""
    if not isinstance(target, (str, os.PathLike)):
        options.setdefault("in_memory", True)
    return xlsxwriter.Workbook(target, {**options, **SAFE_OPTIONS})


def write_xlsx(path: str, header: Sequence[str], rows: Iterable[Sequence],
               progress: Callable[[int], None] | None = None, every: int = 1000) -> int:
    """Write rows to ``path`` row by row; returns the row count. ``progress(rows written)`` is
    called every ``every`` rows (an export job's progress bar). A full disk: StorageError, no file left."""

    with guard(path):
        return _write_xlsx(path, header, rows, progress, every)


def _write_xlsx(path: str, header: Sequence[str], rows: Iterable[Sequence],
                progress: Callable[[int], None] | None, every: int) -> int:
    book = workbook(path, constant_memory=True, default_date_format="yyyy-mm-dd")
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    for col, title in enumerate(header):
        sheet.write(0, col, title, bold)
        sheet.set_column(col, col, max(10, len(str(title)) * 2 + 2))
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            sheet.write(count, col, value)
        if progress is not None and count % every == 0:
            progress(count)
    book.close()
    return count


def stream_xlsx(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> Response:
    """Build the workbook in a temporary file (constant memory) and stream it back in chunks."""

    with guard(None):
        fd, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
    write_xlsx(path, header, rows)

    def chunks():
        try:
            with open(path, "rb") as fh:
                while True:
                    block = fh.read(64 * 1024)
                    if not block:
                        break
                    yield block
        finally:
            os.unlink(path)

    return Response(chunks(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


def more_than(session, query, limit: int) -> bool:
    """Whether ``query`` (an ORM Query) has more than ``limit`` rows — a LIMITed count, so a
    city-wide list answers without counting millions of rows."""
    from sqlalchemy import func

    limited = query.limit(limit + 1).subquery()
    return (session.query(func.count()).select_from(limited).scalar() or 0) > limit
