"""credit: indexes of the 学分类别 filter of the credit lists (bench/bench_credits.py)

学分类别 is chosen from a list (the rule sets' and the dictionary's categories) and matched
exactly, so an institution's, a district's or the city's credits of one category are read in date
order from one index — was FAB's "starts with" (ILIKE, no index): 1.5 s inside a hospital of
267,089 credits.

Revision ID: c7a2e9b1f010
Revises: ff00aa110000
Create Date: 2026-11-29 07:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c7a2e9b1f010'
down_revision = 'ff00aa110000'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_credit_inst_category_granted": ["institution_id", "category", "granted_on"],
    "ix_credit_district_category_granted": ["district_id", "category", "granted_on"],
    "ix_credit_category_granted": ["category", "granted_on"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "credit", columns, unique=False)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="credit")
