"""activities: credit wizard drafts (grant_draft, grant_draft_person, activity_grant) and practice plans
(practice_plan, practice_plan_log), issue 4 points 1, 2, 4

Revision ID: f3a7c1d0e004
Revises: a1f0c0de0001
Create Date: 2026-11-29 05:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f3a7c1d0e004'
down_revision = 'a1f0c0de0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'practice_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('plan_type', sa.String(length=16), nullable=False),
        sa.Column('activity_forms', sa.String(length=512), nullable=False),
        sa.Column('remark', sa.String(length=512), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=512), nullable=True),
        sa.Column('created_by_fk', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['institution_id'], ['org.id']),
        sa.ForeignKeyConstraint(['created_by_fk'], ['ab_user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_practice_plan_district_id', 'practice_plan', ['district_id'])
    op.create_index('ix_practice_plan_status', 'practice_plan', ['status'])
    op.create_index('ix_practice_plan_inst_status', 'practice_plan', ['institution_id', 'status'])
    op.create_table(
        'practice_plan_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=512), nullable=True),
        sa.Column('operator', sa.String(length=128), nullable=True),
        sa.Column('operator_org', sa.String(length=128), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['practice_plan.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_practice_plan_log_plan_id', 'practice_plan_log', ['plan_id'])
    op.create_table(
        'grant_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('activity_type', sa.String(length=64), nullable=False),
        sa.Column('standard_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('amount', sa.Numeric(precision=9, scale=2), nullable=True),
        sa.Column('session_hours', sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column('sessions', sa.Integer(), nullable=True),
        sa.Column('project_credits', sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column('table_row', sa.String(length=64), nullable=True),
        sa.Column('table_col', sa.Integer(), nullable=True),
        sa.Column('entered_credits', sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column('allowed_value', sa.String(length=128), nullable=True),
        sa.Column('hours', sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column('activity_form', sa.String(length=64), nullable=True),
        sa.Column('subject', sa.String(length=64), nullable=True),
        sa.Column('activity_date', sa.Date(), nullable=True),
        sa.Column('content', sa.String(length=256), nullable=True),
        sa.Column('practice_plan_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('credit_count', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id']),
        sa.ForeignKeyConstraint(['standard_id'], ['credit_standard.id']),
        sa.ForeignKeyConstraint(['practice_plan_id'], ['practice_plan.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token'),
    )
    op.create_index('ix_grant_draft_user_status', 'grant_draft', ['user_id', 'status'])
    op.create_table(
        'grant_draft_person',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['draft_id'], ['grant_draft.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('draft_id', 'person_id'),
    )
    op.create_table(
        'activity_grant',
        sa.Column('credit_id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('activity_form', sa.String(length=64), nullable=True),
        sa.Column('practice_plan_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['credit_id'], ['credit.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['draft_id'], ['grant_draft.id']),
        sa.ForeignKeyConstraint(['practice_plan_id'], ['practice_plan.id']),
        sa.PrimaryKeyConstraint('credit_id'),
    )
    op.create_index('ix_activity_grant_draft_id', 'activity_grant', ['draft_id'])
    op.create_index('ix_activity_grant_practice_plan_id', 'activity_grant', ['practice_plan_id'])


def downgrade():
    op.drop_index('ix_activity_grant_practice_plan_id', table_name='activity_grant')
    op.drop_index('ix_activity_grant_draft_id', table_name='activity_grant')
    op.drop_table('activity_grant')
    op.drop_table('grant_draft_person')
    op.drop_index('ix_grant_draft_user_status', table_name='grant_draft')
    op.drop_table('grant_draft')
    op.drop_index('ix_practice_plan_log_plan_id', table_name='practice_plan_log')
    op.drop_table('practice_plan_log')
    op.drop_index('ix_practice_plan_inst_status', table_name='practice_plan')
    op.drop_index('ix_practice_plan_status', table_name='practice_plan')
    op.drop_index('ix_practice_plan_district_id', table_name='practice_plan')
    op.drop_table('practice_plan')
