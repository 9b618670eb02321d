"""login_throttles: failed sign-ins per user name and per address, shared by every host

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06 18:30:00
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttles',
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window_started_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_login_throttles'))
    )


def downgrade():
    op.drop_table('login_throttles')
