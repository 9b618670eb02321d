"""calendar table, publication record, confiscations, plan caps keyed like visits, report indexes

- calendar_days / calendar_years: the national override table (was per agency, in settings).
- penalty_decisions.confiscated_fen (罚没金额) and published_late (the server's judgement).
- annual_plans.grade_caps -> yearly_caps, keys "good" -> "risk:good" (as VisitPolicy keys).
- indexes for the annual report's counts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00.000000

"""
import json
from datetime import date
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa

import server.models.types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _settings(value):
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)


def upgrade():
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_working_day', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('updated_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_calendar_days_updated_by_users')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('updated_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )

    with op.batch_alter_table('penalty_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confiscated_fen', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('published_late', sa.Boolean(), nullable=True))
    with op.batch_alter_table('annual_plans', schema=None) as batch_op:
        batch_op.alter_column('grade_caps', new_column_name='yearly_caps')
    with op.batch_alter_table('penalty_cases', schema=None) as batch_op:
        batch_op.create_index('ix_penalty_cases_agency_transferred', ['agency_id', 'transferred_on'], unique=False)
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index('ix_inspections_agency_started_kind', ['agency_id', 'started_at', 'kind', 'enterprise_id'], unique=False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_agency_type_issued', ['agency_id', 'type', 'issued_at'], unique=False)

    conn = op.get_bind()
    now = server.models.types.utcnow()

    # Overrides typed into an agency's settings move to the shared table (first one wins:
    # holidays are national), and leave the settings.
    agencies = sa.table('agencies', sa.column('id', sa.Uuid()), sa.column('settings', sa.JSON()))
    days = sa.table('calendar_days', sa.column('day', sa.Date()), sa.column('is_working_day', sa.Boolean()),
                    sa.column('note', sa.String()), sa.column('updated_at', server.models.types.UTCDateTime()))
    years = sa.table('calendar_years', sa.column('year', sa.Integer()), sa.column('note', sa.String()),
                     sa.column('updated_at', server.models.types.UTCDateTime()))
    seen_days, seen_years = set(), set()
    for agency_id, raw in conn.execute(sa.select(agencies.c.id, agencies.c.settings)).all():
        settings = _settings(raw)
        if 'calendar_overrides' not in settings and 'calendar_complete_years' not in settings:
            continue
        for text, working in (settings.pop('calendar_overrides', None) or {}).items():
            try:
                day = date.fromisoformat(text)
            except (TypeError, ValueError):
                continue
            if day not in seen_days:
                seen_days.add(day)
                conn.execute(days.insert().values(day=day, is_working_day=bool(working),
                                                  note='moved from agency settings', updated_at=now))
        for year in settings.pop('calendar_complete_years', None) or []:
            if isinstance(year, int) and year not in seen_years:
                seen_years.add(year)
                conn.execute(years.insert().values(year=year, note='moved from agency settings',
                                                   updated_at=now))
        conn.execute(agencies.update().where(agencies.c.id == agency_id).values(settings=settings))

    # Plan caps were keyed by risk grade alone.
    plans = sa.table('annual_plans', sa.column('id', sa.Uuid()), sa.column('yearly_caps', sa.JSON()))
    for plan_id, raw in conn.execute(sa.select(plans.c.id, plans.c.yearly_caps)).all():
        caps = _settings(raw)
        converted = {(k if ':' in k else f'risk:{k}'): v for k, v in caps.items()}
        if converted != caps:
            conn.execute(plans.update().where(plans.c.id == plan_id).values(yearly_caps=converted))

    # Publications recorded before the server kept its own judgement: late if flagged, or if
    # the server's record (or, lacking it, the date given) is after the deadline.
    decisions = sa.table(
        'penalty_decisions', sa.column('id', sa.Uuid()), sa.column('agency_id', sa.Uuid()),
        sa.column('publication_deadline', sa.Date()), sa.column('published_on', sa.Date()),
        sa.column('published_at', server.models.types.UTCDateTime()),
        sa.column('late_flagged_on', sa.Date()), sa.column('published_late', sa.Boolean()))
    zones = dict(conn.execute(sa.text('SELECT id, timezone FROM agencies')).all())
    rows = conn.execute(
        sa.select(decisions.c.id, decisions.c.agency_id, decisions.c.publication_deadline,
                  decisions.c.published_on, decisions.c.published_at, decisions.c.late_flagged_on)
        .where(decisions.c.published_on.is_not(None))
    ).all()
    for decision_id, agency_id, deadline, published_on, published_at, flagged in rows:
        recorded = published_on
        if published_at is not None:
            zone = ZoneInfo(zones.get(agency_id) or 'Asia/Shanghai')
            recorded = max(published_on, published_at.astimezone(zone).date())
        late = flagged is not None or recorded > deadline
        conn.execute(decisions.update().where(decisions.c.id == decision_id).values(published_late=late))


def downgrade():
    # Back to caps by risk grade alone: credit caps have no place there.
    conn = op.get_bind()
    plans = sa.table('annual_plans', sa.column('id', sa.Uuid()), sa.column('yearly_caps', sa.JSON()))
    for plan_id, raw in conn.execute(sa.select(plans.c.id, plans.c.yearly_caps)).all():
        caps = _settings(raw)
        graded = {k[len('risk:'):]: v for k, v in caps.items() if k.startswith('risk:')}
        conn.execute(plans.update().where(plans.c.id == plan_id).values(yearly_caps=graded))

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_agency_type_issued')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_inspections_agency_started_kind')
    with op.batch_alter_table('penalty_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_penalty_cases_agency_transferred')
    with op.batch_alter_table('annual_plans', schema=None) as batch_op:
        batch_op.alter_column('yearly_caps', new_column_name='grade_caps')
    with op.batch_alter_table('penalty_decisions', schema=None) as batch_op:
        batch_op.drop_column('published_late')
        batch_op.drop_column('confiscated_fen')
    op.drop_table('calendar_years')
    op.drop_table('calendar_days')
