"""Organization import job: thin wrapper over services.org_import."""
from __future__ import annotations

from app.jobs import JobContext
from app.jobs.common import import_in_scope
from app.services import org_import

MODULE, ACTION = "组织机构", "导入"


def import_orgs(ctx: JobContext, path: str) -> dict:
    """Validate every row of the uploaded workbook, then write all rows or none."""
    return import_in_scope(
        ctx, path, org_import, module=MODULE, action=ACTION,
        report_name="组织机构导入错误报告.xlsx", unit="个单位",
        # Someone saved the same code between validation and writing.
        duplicate="编码与刚录入的单位重复，未导入任何数据，请重新上传")
