"""merge the session's branches (user accounts, practice-plan version, distance education, unit audit and
replies, project declarations and sign-in windows)

Revision ID: e1f2a3b4c5d6
Revises: 5e7a91c3d2b4, 7c41d9e2a8b3, 7d1e5a2b9c43, c4e8f2a61d97, d3c1a7e59f20
Create Date: 2026-12-07 00:05:00

"""
revision = 'e1f2a3b4c5d6'
down_revision = ('5e7a91c3d2b4', '7c41d9e2a8b3', '7d1e5a2b9c43', 'c4e8f2a61d97', 'd3c1a7e59f20')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
