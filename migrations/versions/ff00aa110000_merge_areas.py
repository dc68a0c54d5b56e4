"""merge the areas' branches (audit, credit list indexes, review chain, supervision, projects, activities)

Each area of the second build step was migrated on its own branch off a1f0c0de0001; this joins them
so the next migration has one parent.

Revision ID: ff00aa110000
Revises: b7a0d1c0a002, c3ed17b0e003, c4e1f2a0b008, d5c0f11e0006, e5c0f11e0005, f3a7c1d0e004
Create Date: 2026-11-29 06:00:00

"""
revision = 'ff00aa110000'
down_revision = ('b7a0d1c0a002', 'c3ed17b0e003', 'c4e1f2a0b008', 'd5c0f11e0006', 'e5c0f11e0005',
                 'f3a7c1d0e004')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
