"""draws: pseudonym keys and identities; seed commitments that carry over or lapse

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import server.models.types


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('draw_seeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_period_key', sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column('lapsed_at', server.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('pseudonym_key', sa.String(length=64), nullable=True))
    # Every commitment so far was used, if at all, for the period it was published for.
    op.execute("UPDATE draw_seeds SET planned_period_key = period_key")

    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonym_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('identities', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.drop_column('identities')
        batch_op.drop_column('pseudonym_key')

    with op.batch_alter_table('draw_seeds', schema=None) as batch_op:
        batch_op.drop_column('pseudonym_key')
        batch_op.drop_column('lapsed_at')
        batch_op.drop_column('planned_period_key')
