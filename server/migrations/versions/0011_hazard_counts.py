"""hazard counts: monthly counts kept in step, hazards' copy of the industry, indexes in order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00

The statistics of a year or of all time read whole months from ``hazard_counts``,
``hazard_finder_counts`` and ``hazard_unit_counts`` (server/services/hazard_counts.py keeps
them in step); ``hazards.industry`` copies the enterprise's industry so that counts by
industry need not join the enterprises. Both are filled here from the existing rows: the
backfill below is a frozen copy of ``hazard_counts.recount`` as it stood at this revision.
"""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

import server.models.types


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

INDUSTRY = sa.Enum(
    'metallurgy', 'nonferrous', 'building_materials', 'machinery', 'light_industry',
    'textiles', 'tobacco', 'commerce_trade', 'hazardous_chemicals', 'mining', 'fireworks',
    'other', name='industry', native_enum=False,
)
OPEN = ('found', 'ordered', 'pending_sign_off', 'reported')


def upgrade():
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('industry', INDUSTRY, nullable=True))
    op.execute(
        "UPDATE hazards SET industry = "
        "(SELECT enterprises.industry FROM enterprises WHERE enterprises.id = hazards.enterprise_id)"
    )
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.alter_column('industry', existing_type=INDUSTRY, nullable=False)
        batch_op.drop_index('ix_hazards_agency_status')
        batch_op.drop_index('ix_hazards_agency_status_deadline')
        batch_op.drop_index('ix_hazards_agency_found')
        batch_op.drop_index('ix_hazards_agency_closed')
        batch_op.create_index('ix_hazards_agency_status_closed', ['agency_id', 'status', 'closed_at', 'found_at'], unique=False)
        batch_op.create_index('ix_hazards_agency_status_deadline', ['agency_id', 'status', 'deadline', 'industry', 'level', 'found_at', 'id'], unique=False)
        batch_op.create_index('ix_hazards_agency_found', ['agency_id', 'found_at', 'id', 'status', 'level', 'industry', 'supervised', 'inspection_id'], unique=False)
        batch_op.create_index('ix_hazards_agency_closed', ['agency_id', 'closed_at', 'found_at'], unique=False)

    op.create_table('hazard_counts',
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('industry', INDUSTRY, nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('supervised', sa.Boolean(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_hazard_counts_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', 'month', 'industry', 'level', 'status', 'supervised', name=op.f('pk_hazard_counts'))
    )
    op.create_table('hazard_finder_counts',
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('industry', INDUSTRY, nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('n_open', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_hazard_finder_counts_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hazard_finder_counts_user_id_users')),
    sa.PrimaryKeyConstraint('agency_id', 'month', 'industry', 'level', 'user_id', name=op.f('pk_hazard_finder_counts'))
    )
    op.create_table('hazard_unit_counts',
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('industry', INDUSTRY, nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('unit', sa.String(length=100), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('n_open', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_hazard_unit_counts_agency_id_agencies')),
    sa.PrimaryKeyConstraint('agency_id', 'month', 'industry', 'level', 'unit', name=op.f('pk_hazard_unit_counts'))
    )
    _backfill(op.get_bind())


def downgrade():
    op.drop_table('hazard_unit_counts')
    op.drop_table('hazard_finder_counts')
    op.drop_table('hazard_counts')
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.drop_index('ix_hazards_agency_closed')
        batch_op.drop_index('ix_hazards_agency_found')
        batch_op.drop_index('ix_hazards_agency_status_deadline')
        batch_op.drop_index('ix_hazards_agency_status_closed')
        batch_op.create_index('ix_hazards_agency_status', ['agency_id', 'status'], unique=False)
        batch_op.create_index('ix_hazards_agency_closed', ['agency_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_hazards_agency_found', ['agency_id', 'found_at', 'status', 'level', 'enterprise_id', 'inspection_id', 'id'], unique=False)
        batch_op.create_index('ix_hazards_agency_status_deadline', ['agency_id', 'status', 'deadline', 'enterprise_id', 'found_at', 'id'], unique=False)
        batch_op.drop_column('industry')


# --- the backfill, frozen ---------------------------------------------------------------------

UTC_TIME = server.models.types.UTCDateTime(timezone=True)
agencies = sa.table('agencies', sa.column('id', sa.Uuid), sa.column('timezone', sa.String))
hazards = sa.table(
    'hazards',
    sa.column('agency_id', sa.Uuid),
    sa.column('inspection_id', sa.Uuid),
    sa.column('found_at', UTC_TIME),
    sa.column('industry', sa.String),
    sa.column('level', sa.String),
    sa.column('status', sa.String),
    sa.column('supervised', sa.Boolean),
)
members = sa.table(
    'record_members',
    sa.column('entity', sa.String),
    sa.column('record_id', sa.Uuid),
    sa.column('user_id', sa.Uuid),
)
users = sa.table('users', sa.column('id', sa.Uuid), sa.column('unit', sa.String))
TYPES = {'agency_id': sa.Uuid, 'month': sa.Date, 'user_id': sa.Uuid, 'supervised': sa.Boolean}


def _summary(name, *columns):
    return sa.table(name, *(sa.column(c, TYPES.get(c, sa.Integer if c.startswith('n') else sa.String)) for c in columns))


counts = _summary(
    'hazard_counts', 'agency_id', 'month', 'industry', 'level', 'status', 'supervised', 'n'
)
finders = _summary(
    'hazard_finder_counts', 'agency_id', 'month', 'industry', 'level', 'user_id', 'n', 'n_open'
)
units = _summary(
    'hazard_unit_counts', 'agency_id', 'month', 'industry', 'level', 'unit', 'n', 'n_open'
)


def _next_month(month):
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _backfill(bind):
    for agency_id, timezone in bind.execute(sa.select(agencies.c.id, agencies.c.timezone)).all():
        zone = ZoneInfo(timezone)
        first, last = bind.execute(
            sa.select(sa.func.min(hazards.c.found_at), sa.func.max(hazards.c.found_at)).where(
                hazards.c.agency_id == agency_id
            )
        ).one()
        if first is None:
            continue
        month = first.astimezone(zone).date().replace(day=1)
        while month <= last.astimezone(zone).date():
            start = datetime.combine(month, time.min, tzinfo=zone)
            end = datetime.combine(_next_month(month), time.min, tzinfo=zone)
            _backfill_month(bind, agency_id, month, start, end)
            month = _next_month(month)


def _backfill_month(bind, agency_id, month, start, end):
    where = (hazards.c.agency_id == agency_id, hazards.c.found_at >= start, hazards.c.found_at < end)
    keys = (hazards.c.industry, hazards.c.level, hazards.c.status, hazards.c.supervised)
    rows = [
        {'agency_id': agency_id, 'month': month, 'industry': i, 'level': lvl, 'status': s,
         'supervised': bool(sup), 'n': n}
        for i, lvl, s, sup, n in bind.execute(
            sa.select(*keys, sa.func.count()).where(*where).group_by(*keys)
        )
    ]
    if rows:
        bind.execute(counts.insert(), rows)
    is_open = sa.case((hazards.c.status.in_(OPEN), 1), else_=0)
    per_inspection = (
        sa.select(
            hazards.c.inspection_id, hazards.c.industry, hazards.c.level,
            sa.func.count().label('n'), sa.func.sum(is_open).label('n_open'),
        )
        .where(*where)
        .group_by(hazards.c.inspection_id, hazards.c.industry, hazards.c.level)
        .subquery()
    )
    team = (
        sa.select(per_inspection, users.c.id.label('user_id'), users.c.unit)
        .join(members, sa.and_(members.c.entity == 'inspection',
                               members.c.record_id == per_inspection.c.inspection_id))
        .join(users, users.c.id == members.c.user_id)
        .subquery()
    )
    per_user = sa.select(
        team.c.industry, team.c.level, team.c.user_id, sa.func.sum(team.c.n),
        sa.func.sum(team.c.n_open),
    ).group_by(team.c.industry, team.c.level, team.c.user_id)
    rows = [
        {'agency_id': agency_id, 'month': month, 'industry': i, 'level': lvl, 'user_id': u,
         'n': n, 'n_open': o}
        for i, lvl, u, n, o in bind.execute(per_user)
    ]
    if rows:
        bind.execute(finders.insert(), rows)
    once = (
        sa.select(
            team.c.inspection_id, team.c.industry, team.c.level, team.c.unit, team.c.n,
            team.c.n_open,
        )
        .distinct()
        .subquery()
    )
    per_unit = sa.select(
        once.c.industry, once.c.level, once.c.unit, sa.func.sum(once.c.n),
        sa.func.sum(once.c.n_open),
    ).group_by(once.c.industry, once.c.level, once.c.unit)
    rows = [
        {'agency_id': agency_id, 'month': month, 'industry': i, 'level': lvl, 'unit': u,
         'n': n, 'n_open': o}
        for i, lvl, u, n, o in bind.execute(per_unit)
    ]
    if rows:
        bind.execute(units.insert(), rows)
