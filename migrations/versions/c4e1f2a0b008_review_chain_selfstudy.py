"""review chain and self-study: review_log, manual_credit, self_study_delegation, self_study

Revision ID: c4e1f2a0b008
Revises: a1f0c0de0001
Create Date: 2026-11-29 06:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c4e1f2a0b008'
down_revision = 'a1f0c0de0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'review_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_type', sa.String(length=32), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('from_status', sa.String(length=16), nullable=True),
        sa.Column('to_status', sa.String(length=16), nullable=False),
        sa.Column('result', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('user_name', sa.String(length=128), nullable=True),
        sa.Column('actor', sa.String(length=16), nullable=True),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('institution_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_review_log_owner', 'review_log', ['owner_type', 'owner_id'])
    op.create_table(
        'manual_credit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('credit_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('entered_by', sa.String(length=16), nullable=False),
        sa.Column('needs_city', sa.Boolean(), nullable=False),
        sa.Column('created_by_fk', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('credit_id'),
    )
    op.create_index('ix_manual_credit_city', 'manual_credit', ['needs_city', 'credit_id'])
    op.create_table(
        'self_study_delegation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('institution_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_fk', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['org.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_fk'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id'),
    )
    op.create_index('ix_self_study_delegation_district_id', 'self_study_delegation', ['district_id'])
    op.create_index('ix_self_study_delegation_institution_id', 'self_study_delegation', ['institution_id'])
    op.create_table(
        'self_study',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('institution_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('submitted_by', sa.String(length=16), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('credit_id', sa.Integer(), nullable=True),
        sa.Column('credits', sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column('granted_at', sa.DateTime(), nullable=True),
        sa.Column('created_by_fk', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('person_id', 'year'),
    )
    op.create_index('ix_self_study_inst_status', 'self_study', ['institution_id', 'status'])
    op.create_index('ix_self_study_district_status', 'self_study', ['district_id', 'status'])


def downgrade():
    op.drop_index('ix_self_study_district_status', table_name='self_study')
    op.drop_index('ix_self_study_inst_status', table_name='self_study')
    op.drop_table('self_study')
    op.drop_index('ix_self_study_delegation_institution_id', table_name='self_study_delegation')
    op.drop_index('ix_self_study_delegation_district_id', table_name='self_study_delegation')
    op.drop_table('self_study_delegation')
    op.drop_index('ix_manual_credit_city', table_name='manual_credit')
    op.drop_table('manual_credit')
    op.drop_index('ix_review_log_owner', table_name='review_log')
    op.drop_table('review_log')
