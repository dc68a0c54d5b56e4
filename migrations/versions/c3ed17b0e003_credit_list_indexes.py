"""credit: indexes of the credit lists at city scale (bench/bench_credits.py, 10,000,000 credits)

- (granted_on, id): the list's default order "granted_on DESC, id DESC" as one backward index scan
  with LIMIT 20 for the city (was a sort of every credit, ~40 s).
- (institution_id, status, granted_on) and (district_id, status, granted_on): an institution's or a
  district's credits by review status and date — the review work lists and status-filtered lists
  (was a lossy BitmapAnd of two single-column indexes, ~1.7 s for one hospital).

Revision ID: c3ed17b0e003
Revises: a1f0c0de0001
Create Date: 2026-11-29 05:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3ed17b0e003'
down_revision = 'a1f0c0de0001'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_credit_granted_id": ["granted_on", "id"],
    "ix_credit_inst_status_granted": ["institution_id", "status", "granted_on"],
    "ix_credit_district_status_granted": ["district_id", "status", "granted_on"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "credit", columns, unique=False)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="credit")
