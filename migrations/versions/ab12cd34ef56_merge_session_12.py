"""merge the branches of session 12 (list order indexes, relative file paths, form submissions,
session nonce and captcha tickets, audit cycle results announcement and upload cutoff)

Each helper of the session migrated on its own branch off c7a2e9b1f010; this joins them so the next
migration has one parent.

Revision ID: ab12cd34ef56
Revises: a18c0de5ca1e, a9d4c2e71b16, b3f1a2c4d5e6, d1e5f0a2b013, e6a17c0de017
Create Date: 2026-12-06 22:00:00

"""
revision = 'ab12cd34ef56'
down_revision = ('a18c0de5ca1e', 'a9d4c2e71b16', 'b3f1a2c4d5e6', 'd1e5f0a2b013', 'e6a17c0de017')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
