"""Personnel import job: thin wrapper over services.people_import."""
from __future__ import annotations

from app.jobs import JobContext
from app.jobs.common import import_in_scope
from app.services import people_import

MODULE, ACTION = "人员管理", "导入"


def import_persons(ctx: JobContext, path: str) -> dict:
    """Validate every row of the uploaded workbook, then write all rows or none."""
    return import_in_scope(
        ctx, path, people_import, module=MODULE, action=ACTION,
        report_name="人员导入错误报告.xlsx", unit="人",
        # Someone saved the same card or ID number between validation and writing.
        duplicate="IC卡号或身份证号与刚录入的人员重复，未导入任何数据，请重新上传")
