"""CME projects (issue 5, ICME-4/5): catalogue, projects, topics, attendance uploads, swipe problems,
check-ins, holidays

Revision ID: e5c0f11e0005
Revises: a1f0c0de0001
Create Date: 2026-11-29 05:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e5c0f11e0005'
down_revision = 'a1f0c0de0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cme_catalog',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('approval_no', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=True),
        sa.Column('credits', sa.Numeric(6, 2), nullable=False),
        sa.Column('hours', sa.Numeric(6, 2), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('organizer', sa.String(length=200), nullable=True),
        sa.Column('planned_count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('approval_no'),
    )
    op.create_index('ix_cme_catalog_name', 'cme_catalog', ['name'])
    op.create_index('ix_cme_catalog_category', 'cme_catalog', ['category'])
    op.create_index('ix_cme_catalog_year', 'cme_catalog', ['year'])

    op.create_table(
        'cme_project',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('catalog_id', sa.Integer(), sa.ForeignKey('cme_catalog.id'), nullable=False),
        sa.Column('institution_id', sa.Integer(), sa.ForeignKey('org.id'), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('approval_no', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=True),
        sa.Column('credits', sa.Numeric(6, 2), nullable=False),
        sa.Column('hours', sa.Numeric(6, 2), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('organizer', sa.String(length=200), nullable=True),
        sa.Column('planned_count', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=True),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('major', sa.String(length=64), nullable=True),
        sa.Column('assessment', sa.String(length=64), nullable=True),
        sa.Column('activity_form', sa.String(length=64), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('applied_on', sa.Date(), nullable=True),
        sa.Column('apply_late', sa.Boolean(), nullable=False),
        sa.Column('count_out_of_range', sa.Boolean(), nullable=False),
        sa.Column('upload_late', sa.Boolean(), nullable=False),
        sa.Column('duplicate_count', sa.Integer(), nullable=False),
        sa.Column('flagged', sa.Boolean(), nullable=False),
        sa.Column('credited_count', sa.Integer(), nullable=False),
        sa.Column('first_upload_at', sa.DateTime(), nullable=True),
        sa.Column('last_upload_at', sa.DateTime(), nullable=True),
        sa.Column('granted_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('institution_id', 'catalog_id', name='uq_cme_project_inst_catalog'),
    )
    for col in ('catalog_id', 'institution_id', 'district_id', 'approval_no', 'name', 'year', 'flagged'):
        op.create_index(f'ix_cme_project_{col}', 'cme_project', [col])
    op.create_index('ix_cme_project_inst_year', 'cme_project', ['institution_id', 'year'])

    op.create_table(
        'cme_topic',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('cme_project.id'), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('lecturer', sa.String(length=64), nullable=False),
        sa.Column('lecturer_unit', sa.String(length=128), nullable=True),
        sa.Column('lecturer_title', sa.String(length=64), nullable=True),
        sa.Column('lecturer_person_id', sa.Integer(), sa.ForeignKey('person.id'), nullable=True),
        sa.Column('credits', sa.Numeric(6, 2), nullable=False),
        sa.Column('hours', sa.Numeric(6, 2), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('signin_from', sa.DateTime(), nullable=True),
        sa.Column('signin_to', sa.DateTime(), nullable=True),
        sa.Column('qr_token', sa.String(length=48), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('lecturer_credited', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'code', name='uq_cme_topic_code'),
        sa.UniqueConstraint('qr_token'),
    )
    for col in ('project_id', 'institution_id', 'district_id'):
        op.create_index(f'ix_cme_topic_{col}', 'cme_topic', [col])

    op.create_table(
        'cme_attendance_upload',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('cme_project.id'), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=256), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.Column('uploaded_by', sa.String(length=128), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('matched', sa.Integer(), nullable=False),
        sa.Column('duplicates', sa.Integer(), nullable=False),
        sa.Column('unknown', sa.Integer(), nullable=False),
        sa.Column('outside', sa.Integer(), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    for col in ('project_id', 'institution_id', 'district_id'):
        op.create_index(f'ix_cme_attendance_upload_{col}', 'cme_attendance_upload', [col])

    op.create_table(
        'cme_swipe_problem',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('upload_id', sa.Integer(), sa.ForeignKey('cme_attendance_upload.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('card_no', sa.String(length=32), nullable=True),
        sa.Column('swiped_at', sa.DateTime(), nullable=True),
        sa.Column('reader_id', sa.String(length=64), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('person_name', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_cme_swipe_problem_upload_id', 'cme_swipe_problem', ['upload_id'])
    op.create_index('ix_cme_swipe_problem_project_id', 'cme_swipe_problem', ['project_id'])

    op.create_table(
        'cme_checkin',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), sa.ForeignKey('cme_project.id'), nullable=False),
        sa.Column('topic_id', sa.Integer(), sa.ForeignKey('cme_topic.id'), nullable=False),
        sa.Column('person_id', sa.Integer(), sa.ForeignKey('person.id'), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('checked_at', sa.DateTime(), nullable=False),
        sa.Column('reader_id', sa.String(length=64), nullable=True),
        sa.Column('upload_id', sa.Integer(), sa.ForeignKey('cme_attendance_upload.id', ondelete='SET NULL'),
                  nullable=True),
        sa.Column('duplicate', sa.Boolean(), nullable=False),
        sa.Column('credited', sa.Boolean(), nullable=False),
        sa.Column('credits', sa.Numeric(6, 2), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_cme_checkin_person_id', 'cme_checkin', ['person_id'])
    op.create_index('ix_cme_checkin_institution_id', 'cme_checkin', ['institution_id'])
    op.create_index('ix_cme_checkin_district_id', 'cme_checkin', ['district_id'])
    op.create_index('ix_cme_checkin_project', 'cme_checkin', ['project_id', 'duplicate', 'credited'])
    op.create_index('uq_cme_checkin_first', 'cme_checkin', ['topic_id', 'person_id'], unique=True,
                    sqlite_where=sa.text('duplicate = 0'), postgresql_where=sa.text('duplicate = false'))

    op.create_table(
        'cme_holiday',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('workday', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('day'),
    )


def downgrade():
    op.drop_table('cme_holiday')
    op.drop_index('uq_cme_checkin_first', table_name='cme_checkin')
    op.drop_table('cme_checkin')
    op.drop_table('cme_swipe_problem')
    op.drop_table('cme_attendance_upload')
    op.drop_table('cme_topic')
    op.drop_table('cme_project')
    op.drop_table('cme_catalog')
