"""继教项目申报 (declaration, review, approval number, 执行反馈), the project-level sign-in window
(项目微信签到时间设置) and practice activities with their own QR sign-in (添加继教实践活动), issue 16 items 9–10

Revision ID: d3c1a7e59f20
Revises: ab12cd34ef56
Create Date: 2026-12-06 23:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd3c1a7e59f20'
down_revision = 'ab12cd34ef56'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cme_project') as batch:
        batch.add_column(sa.Column('signin_from', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('signin_to', sa.DateTime(), nullable=True))

    op.create_table(
        'cme_declaration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), sa.ForeignKey('org.id'), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=True),
        sa.Column('credits', sa.Numeric(6, 2), nullable=False),
        sa.Column('hours', sa.Numeric(6, 2), nullable=False),
        sa.Column('planned_count', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('leader', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=32), nullable=True),
        sa.Column('assessment', sa.String(length=64), nullable=True),
        sa.Column('activity_form', sa.String(length=64), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('approval_no', sa.String(length=64), nullable=True),
        sa.Column('catalog_id', sa.Integer(), sa.ForeignKey('cme_catalog.id'), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('approved_at', sa.DateTime(), nullable=True),
        sa.Column('actual_starts_on', sa.Date(), nullable=True),
        sa.Column('actual_ends_on', sa.Date(), nullable=True),
        sa.Column('actual_count', sa.Integer(), nullable=True),
        sa.Column('feedback', sa.Text(), nullable=True),
        sa.Column('feedback_at', sa.DateTime(), nullable=True),
        sa.Column('created_by', sa.String(length=128), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('approval_no'),
    )
    op.create_index('ix_cme_declaration_institution_id', 'cme_declaration', ['institution_id'])
    op.create_index('ix_cme_declaration_district_id', 'cme_declaration', ['district_id'])
    op.create_index('ix_cme_declaration_year', 'cme_declaration', ['year'])
    op.create_index('ix_cme_declaration_name', 'cme_declaration', ['name'])
    op.create_index('ix_cme_declaration_status', 'cme_declaration', ['status'])

    op.create_table(
        'cme_declaration_number',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('level', sa.String(length=8), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('year', 'level', name='uq_cme_declaration_number'),
    )

    op.create_table(
        'cme_practice_activity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), sa.ForeignKey('org.id'), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('form', sa.String(length=64), nullable=True),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('lecturer', sa.String(length=64), nullable=True),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('hours', sa.Numeric(6, 2), nullable=False),
        sa.Column('planned_count', sa.Integer(), nullable=True),
        sa.Column('signin_from', sa.DateTime(), nullable=True),
        sa.Column('signin_to', sa.DateTime(), nullable=True),
        sa.Column('qr_token', sa.String(length=48), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('qr_token'),
    )
    op.create_index('ix_cme_practice_activity_institution_id', 'cme_practice_activity', ['institution_id'])
    op.create_index('ix_cme_practice_activity_district_id', 'cme_practice_activity', ['district_id'])
    op.create_index('ix_cme_practice_activity_name', 'cme_practice_activity', ['name'])

    op.create_table(
        'cme_practice_checkin',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), sa.ForeignKey('cme_practice_activity.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('person_id', sa.Integer(), sa.ForeignKey('person.id'), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('activity_id', 'person_id', name='uq_cme_practice_checkin'),
    )
    op.create_index('ix_cme_practice_checkin_person_id', 'cme_practice_checkin', ['person_id'])
    op.create_index('ix_cme_practice_checkin_institution_id', 'cme_practice_checkin', ['institution_id'])
    op.create_index('ix_cme_practice_checkin_district_id', 'cme_practice_checkin', ['district_id'])


def downgrade():
    op.drop_table('cme_practice_checkin')
    op.drop_table('cme_practice_activity')
    op.drop_table('cme_declaration_number')
    op.drop_table('cme_declaration')
    with op.batch_alter_table('cme_project') as batch:
        batch.drop_column('signin_to')
        batch.drop_column('signin_from')
