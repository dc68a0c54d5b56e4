"""credit: each scope's list order as one index (issue 18.3)

The credit list is ordered granted_on DESC, id DESC. The city reads ``(granted_on, id)`` backwards; a
district, an institution or a department had only its scope column (or scope + granted_on), so each deep
page sorted its granted_on groups by id (an incremental sort, ~30 ms at page 500 for a big hospital).
``(district_id | institution_id | department_id, granted_on, id)`` serve each scope's pages as a plain
backward index scan and replace the single-column scope indexes and ``(institution_id, granted_on)``,
which they cover (the scope's equality lookups use their first column).

The home page's 待市级审核的授分 count (grants held back by a rule set's counting policy) read every
单位审核通过 credit (1.9 s at 10 million credits): a partial index of the unit-approved grants by
(rule_set_id, source, institution_id, district_id) makes it an index-only count.

Revision ID: b7c8d9e0f118
Revises: e1f2a3b4c5d6
Create Date: 2026-12-07 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7c8d9e0f118'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None

ORDERED = {
    "ix_credit_district_granted_id": ["district_id", "granted_on", "id"],
    "ix_credit_inst_granted_id": ["institution_id", "granted_on", "id"],
    "ix_credit_dept_granted_id": ["department_id", "granted_on", "id"],
}
GRANTS_HELD = "status = 'unit_approved' AND source IN ('card', 'qr', 'project_import', 'distance')"
REPLACED = {
    "ix_credit_district_id": ["district_id"],
    "ix_credit_institution_id": ["institution_id"],
    "ix_credit_department_id": ["department_id"],
    "ix_credit_inst_granted": ["institution_id", "granted_on"],
}


def upgrade():
    for name, columns in ORDERED.items():
        op.create_index(name, "credit", columns, unique=False)
    for name in REPLACED:
        op.drop_index(name, table_name="credit")
    op.create_index("ix_credit_grants_held", "credit", ["rule_set_id", "source", "institution_id", "district_id"],
                    unique=False, postgresql_where=sa.text(GRANTS_HELD), sqlite_where=sa.text(GRANTS_HELD))


def downgrade():
    op.drop_index("ix_credit_grants_held", table_name="credit")
    for name, columns in REPLACED.items():
        op.create_index(name, "credit", columns, unique=False)
    for name in ORDERED:
        op.drop_index(name, table_name="credit")
