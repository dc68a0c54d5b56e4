"""person: scope indexes ordered by id, prefix (pattern) indexes for name, initials and card number

Scoped lists run "WHERE institution_id = x ORDER BY id LIMIT 20": (scope column, id) makes that
one ordered index scan. On PostgreSQL, LIKE '张%' uses a plain index only under the C collation;
varchar_pattern_ops serves it under any collation (on SQLite these are plain indexes).

Revision ID: e08adb8517b7
Revises: d0b59b5db9ab
Create Date: 2026-11-28 17:29:19.006848

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e08adb8517b7'
down_revision = 'd0b59b5db9ab'
branch_labels = None
depends_on = None

_PATTERN = {"ix_person_name": "name", "ix_person_name_initials": "name_initials"}


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_department_id')
        batch_op.drop_index('ix_person_district_id')
        batch_op.drop_index('ix_person_institution_id')
        batch_op.create_index('ix_person_card_no_prefix', ['card_no'], unique=False,
                              postgresql_ops={'card_no': 'varchar_pattern_ops'})
        batch_op.create_index('ix_person_department_scope', ['department_id', 'id'], unique=False)
        batch_op.create_index('ix_person_district_scope', ['district_id', 'id'], unique=False)
        batch_op.create_index('ix_person_institution_scope', ['institution_id', 'id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Same names, new operator class (autogenerate does not see operator classes).
        for name, column in _PATTERN.items():
            op.drop_index(name, table_name='person')
            op.create_index(name, 'person', [column], postgresql_ops={column: 'varchar_pattern_ops'})


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, column in _PATTERN.items():
            op.drop_index(name, table_name='person')
            op.create_index(name, 'person', [column])
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_institution_scope')
        batch_op.drop_index('ix_person_district_scope')
        batch_op.drop_index('ix_person_department_scope')
        batch_op.drop_index('ix_person_card_no_prefix')
        batch_op.create_index('ix_person_institution_id', ['institution_id'], unique=False)
        batch_op.create_index('ix_person_district_id', ['district_id'], unique=False)
        batch_op.create_index('ix_person_department_id', ['department_id'], unique=False)
