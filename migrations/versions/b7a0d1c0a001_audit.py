"""audit: cycles, experts, sampling standards, draws, sampled institutions, drawn/final lists, allocation

Revision ID: b7a0d1c0a001
Revises: a1f0c0de0001
Create Date: 2026-11-29 05:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b7a0d1c0a001'
down_revision = 'a1f0c0de0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('audit_start', sa.DateTime(), nullable=False),
    sa.Column('audit_end', sa.DateTime(), nullable=False),
    sa.Column('appeal_deadline', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('quotas', sa.JSON(), nullable=False),
    sa.Column('remark', sa.Text(), nullable=True),
    sa.Column('allocation_locked', sa.Boolean(), nullable=False),
    sa.Column('locked_at', sa.DateTime(), nullable=True),
    sa.Column('locked_by_fk', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['locked_by_fk'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_cycle_year'), 'audit_cycle', ['year'], unique=False)
    op.create_index('ux_audit_cycle_open_year', 'audit_cycle', ['year'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.create_table('audit_expert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('contact', sa.String(length=64), nullable=True),
    sa.Column('unit', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'year', name='uq_audit_expert_user_year')
    )
    op.create_index(op.f('ix_audit_expert_user_id'), 'audit_expert', ['user_id'], unique=False)
    op.create_index(op.f('ix_audit_expert_year'), 'audit_expert', ['year'], unique=False)
    op.create_table('audit_standard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('unit_levels', sa.JSON(), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('specialties', sa.JSON(), nullable=False),
    sa.Column('audit_scope', sa.String(length=16), nullable=False),
    sa.Column('institution_ids', sa.JSON(), nullable=False),
    sa.Column('allow_repeat', sa.Boolean(), nullable=False),
    sa.Column('per_department', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['org.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_standard_cycle_id'), 'audit_standard', ['cycle_id'], unique=False)
    op.create_index(op.f('ix_audit_standard_district_id'), 'audit_standard', ['district_id'], unique=False)
    op.create_index(op.f('ix_audit_standard_year'), 'audit_standard', ['year'], unique=False)
    op.create_table('audit_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('standard_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('drawn_count', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('rerun_of_id', sa.Integer(), nullable=True),
    sa.Column('operator_fk', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['operator_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['rerun_of_id'], ['audit_draw.id'], ),
    sa.ForeignKeyConstraint(['standard_id'], ['audit_standard.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_draw_cycle_id'), 'audit_draw', ['cycle_id'], unique=False)
    op.create_index('ix_audit_draw_cycle_kind', 'audit_draw', ['cycle_id', 'kind'], unique=False)
    op.create_index(op.f('ix_audit_draw_standard_id'), 'audit_draw', ['standard_id'], unique=False)
    op.create_table('audit_final_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('source_standard_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('added_by_fk', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['source_standard_id'], ['audit_standard.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'person_id', name='uq_audit_final_cycle_person')
    )
    op.create_index('ix_audit_final_cycle_inst', 'audit_final_person', ['cycle_id', 'institution_id', 'department_id'], unique=False)
    op.create_index(op.f('ix_audit_final_person_person_id'), 'audit_final_person', ['person_id'], unique=False)
    op.create_table('audit_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('final_person_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('expert_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('allocated_by_fk', sa.Integer(), nullable=True),
    sa.Column('allocated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['allocated_by_fk'], ['ab_user.id'], ),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['expert_id'], ['audit_expert.id'], ),
    sa.ForeignKeyConstraint(['final_person_id'], ['audit_final_person.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'person_id', name='uq_audit_alloc_cycle_person'),
    sa.UniqueConstraint('final_person_id')
    )
    op.create_index('ix_audit_alloc_cycle_inst', 'audit_allocation', ['cycle_id', 'institution_id'], unique=False)
    op.create_index('ix_audit_alloc_expert_person', 'audit_allocation', ['expert_id', 'person_id'], unique=False)
    op.create_index(op.f('ix_audit_allocation_person_id'), 'audit_allocation', ['person_id'], unique=False)
    op.create_table('audit_drawn_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['department_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['draw_id'], ['audit_draw.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['standard_id'], ['audit_standard.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('standard_id', 'person_id', name='uq_audit_drawn_std_person')
    )
    op.create_index('ix_audit_drawn_cycle_person', 'audit_drawn_person', ['cycle_id', 'person_id'], unique=False)
    op.create_index(op.f('ix_audit_drawn_person_draw_id'), 'audit_drawn_person', ['draw_id'], unique=False)
    op.create_index(op.f('ix_audit_drawn_person_person_id'), 'audit_drawn_person', ['person_id'], unique=False)
    op.create_index('ix_audit_drawn_std_group', 'audit_drawn_person', ['standard_id', 'level', 'institution_id', 'department_id'], unique=False)
    op.create_table('audit_sampled_institution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['audit_cycle.id'], ),
    sa.ForeignKeyConstraint(['district_id'], ['org.id'], ),
    sa.ForeignKeyConstraint(['draw_id'], ['audit_draw.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['org.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'institution_id', name='uq_audit_sampled_inst')
    )
    op.create_index(op.f('ix_audit_sampled_institution_district_id'), 'audit_sampled_institution', ['district_id'], unique=False)
    op.create_index(op.f('ix_audit_sampled_institution_draw_id'), 'audit_sampled_institution', ['draw_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_audit_sampled_institution_draw_id'), table_name='audit_sampled_institution')
    op.drop_index(op.f('ix_audit_sampled_institution_district_id'), table_name='audit_sampled_institution')
    op.drop_table('audit_sampled_institution')
    op.drop_index('ix_audit_drawn_std_group', table_name='audit_drawn_person')
    op.drop_index(op.f('ix_audit_drawn_person_person_id'), table_name='audit_drawn_person')
    op.drop_index(op.f('ix_audit_drawn_person_draw_id'), table_name='audit_drawn_person')
    op.drop_index('ix_audit_drawn_cycle_person', table_name='audit_drawn_person')
    op.drop_table('audit_drawn_person')
    op.drop_index(op.f('ix_audit_allocation_person_id'), table_name='audit_allocation')
    op.drop_index('ix_audit_alloc_expert_person', table_name='audit_allocation')
    op.drop_index('ix_audit_alloc_cycle_inst', table_name='audit_allocation')
    op.drop_table('audit_allocation')
    op.drop_index(op.f('ix_audit_final_person_person_id'), table_name='audit_final_person')
    op.drop_index('ix_audit_final_cycle_inst', table_name='audit_final_person')
    op.drop_table('audit_final_person')
    op.drop_index(op.f('ix_audit_draw_standard_id'), table_name='audit_draw')
    op.drop_index('ix_audit_draw_cycle_kind', table_name='audit_draw')
    op.drop_index(op.f('ix_audit_draw_cycle_id'), table_name='audit_draw')
    op.drop_table('audit_draw')
    op.drop_index(op.f('ix_audit_standard_year'), table_name='audit_standard')
    op.drop_index(op.f('ix_audit_standard_district_id'), table_name='audit_standard')
    op.drop_index(op.f('ix_audit_standard_cycle_id'), table_name='audit_standard')
    op.drop_table('audit_standard')
    op.drop_index(op.f('ix_audit_expert_year'), table_name='audit_expert')
    op.drop_index(op.f('ix_audit_expert_user_id'), table_name='audit_expert')
    op.drop_table('audit_expert')
    op.drop_index('ux_audit_cycle_open_year', table_name='audit_cycle', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.drop_index(op.f('ix_audit_cycle_year'), table_name='audit_cycle')
    op.drop_table('audit_cycle')
