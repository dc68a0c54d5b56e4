"""attachment.path and job.result_path: relative to their root folder (ATTACHMENT_DIR, JOB_FILES_DIR)

A backup restored on another machine or under another folder kept absolute paths of the old one, so
every evidence download answered 500. Rows whose path lies under the configured root become relative
(``ab12….pdf``); a path outside it is left as it is (the app refuses it: 404, logged).

Revision ID: b3f1a2c4d5e6
Revises: c7a2e9b1f010
Create Date: 2026-12-06 20:30:00

"""
import os

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = 'b3f1a2c4d5e6'
down_revision = 'c7a2e9b1f010'
branch_labels = None
depends_on = None


def _roots():
    config = current_app.config
    jobs = config["JOB_FILES_DIR"]
    return {("attachment", "path"): config.get("ATTACHMENT_DIR") or os.path.join(jobs, "attachments"),
            ("job", "result_path"): jobs}


def _convert(to_relative: bool) -> None:
    from app.services.files import relative

    conn = op.get_bind()
    for (table, column), root in _roots().items():
        t = sa.table(table, sa.column("id"), sa.column(column))
        rows = conn.execute(sa.select(t.c.id, t.c[column]).where(t.c[column].isnot(None))).all()
        for row_id, path in rows:
            if to_relative:
                if not os.path.isabs(path):
                    continue
                try:
                    new = relative(root, path)
                except ValueError:
                    continue  # outside the root: left alone, refused (404) when opened
            else:
                if os.path.isabs(path):
                    continue
                new = os.path.join(os.path.abspath(root), path)
            conn.execute(t.update().where(t.c.id == row_id).values({column: new}))


def upgrade():
    _convert(to_relative=True)


def downgrade():
    _convert(to_relative=False)
