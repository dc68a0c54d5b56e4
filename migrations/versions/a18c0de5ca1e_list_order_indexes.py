"""compliance_result, job: indexes of the compliance list's order and the home page's job to-dos (issue 18)

The compliance list is ordered year DESC, id DESC: without an index PostgreSQL sorted every result
(300,000 a year at city scale) for each page. (year, id) serves the city; (district_id | institution_id
| department_id, year, id) serve each scope and replace the single-column scope indexes. The home page
counts a user's queued / running / recently failed jobs: (user_id, status, created_at), and the
manual credits waiting for review: a partial index of those only (ix_credit_review_pending).

Revision ID: a18c0de5ca1e
Revises: c7a2e9b1f010
Create Date: 2026-12-06 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a18c0de5ca1e'
down_revision = 'c7a2e9b1f010'
branch_labels = None
depends_on = None

COMPLIANCE = {
    "ix_compliance_year_id": ["year", "id"],
    "ix_compliance_district_year_id": ["district_id", "year", "id"],
    "ix_compliance_inst_year_id": ["institution_id", "year", "id"],
    "ix_compliance_dept_year_id": ["department_id", "year", "id"],
}
# The home page's review to-dos count manual entries under review: a partial index holds only those.
REVIEW_PENDING = "status IN ('submitted', 'unit_approved') AND source IN ('manual', 'unit')"
REPLACED = {
    "ix_compliance_result_district_id": ["district_id"],
    "ix_compliance_result_institution_id": ["institution_id"],
    "ix_compliance_result_department_id": ["department_id"],
}


def upgrade():
    for name, columns in COMPLIANCE.items():
        op.create_index(name, "compliance_result", columns, unique=False)
    for name in REPLACED:
        op.drop_index(name, table_name="compliance_result")
    op.create_index("ix_job_user_status", "job", ["user_id", "status", "created_at"], unique=False)
    op.create_index("ix_credit_review_pending", "credit", ["status", "institution_id", "district_id", "id"],
                    unique=False, postgresql_where=sa.text(REVIEW_PENDING), sqlite_where=sa.text(REVIEW_PENDING))


def downgrade():
    op.drop_index("ix_credit_review_pending", table_name="credit")
    op.drop_index("ix_job_user_status", table_name="job")
    for name, columns in REPLACED.items():
        op.create_index(name, "compliance_result", columns, unique=False)
    for name in COMPLIANCE:
        op.drop_index(name, table_name="compliance_result")
