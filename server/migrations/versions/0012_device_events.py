"""device_events: every revocation and reinstatement of a device, by whom and when

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:30:00

A revoked device can now be reinstated, so the device row's ``revoked_at`` / ``revoked_by``
hold only its state now; the events keep every change. Devices revoked before this revision
get their revocation as an event.
"""
import uuid

from alembic import op
import sqlalchemy as sa

import server.models.types


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    events = op.create_table('device_events',
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_device_events_agency_id_agencies')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_device_events_device_id_devices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_device_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_events'))
    )
    with op.batch_alter_table('device_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_events_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_events_device_id'), ['device_id'], unique=False)

    devices = sa.table(
        'devices',
        sa.column('id', sa.Uuid()),
        sa.column('agency_id', sa.Uuid()),
        sa.column('revoked_at', server.models.types.UTCDateTime(timezone=True)),
        sa.column('revoked_by', sa.Uuid()),
    )
    revoked = op.get_bind().execute(
        sa.select(devices).where(devices.c.revoked_at.is_not(None), devices.c.revoked_by.is_not(None))
    ).all()
    if revoked:
        op.bulk_insert(events, [
            {
                'id': uuid.uuid4(),
                'agency_id': row.agency_id,
                'device_id': row.id,
                'action': 'revoke',
                'at': row.revoked_at,
                'user_id': row.revoked_by,
            }
            for row in revoked
        ])


def downgrade():
    with op.batch_alter_table('device_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_events_device_id'))
        batch_op.drop_index(batch_op.f('ix_device_events_agency_id'))

    op.drop_table('device_events')
