"""the enterprise's and the supervisor's side: enterprise accounts, supervisors, evaluations and
complaints of visits; draw plans that give drawn enterprises advance notice

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 18:00:00

Enterprise accounts are one per USCC across the deployment and supervisors stand above the
agencies: neither table is agency-scoped. Evaluations and complaints belong to the agency of
the visit they are about.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('draw_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advance_notice', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table('supervisors',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('office', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', server.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervisors')),
    sa.UniqueConstraint('username', name=op.f('uq_supervisors_username'))
    )
    op.create_table('enterprise_accounts',
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('activation_code_hash', sa.String(length=64), nullable=True),
    sa.Column('activation_expires_at', server.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('activation_issued_by', sa.Uuid(), nullable=True),
    sa.Column('activated_at', server.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', server.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', server.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['activation_issued_by'], ['users.id'], name=op.f('fk_enterprise_accounts_activation_issued_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_accounts')),
    sa.UniqueConstraint('uscc', name=op.f('uq_enterprise_accounts_uscc'))
    )
    op.create_table('visit_complaints',
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo_attachments', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('answer_due', sa.Date(), nullable=False),
    sa.Column('created_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', server.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['enterprise_accounts.id'], name=op.f('fk_visit_complaints_account_id_enterprise_accounts')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_visit_complaints_agency_id_agencies')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_visit_complaints_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_complaints'))
    )
    with op.batch_alter_table('visit_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_complaints_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_complaints_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_complaints_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index('ix_visit_complaints_status_due', ['status', 'answer_due'], unique=False)

    op.create_table('visit_evaluations',
    sa.Column('inspection_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['enterprise_accounts.id'], name=op.f('fk_visit_evaluations_account_id_enterprise_accounts')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_visit_evaluations_agency_id_agencies')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_visit_evaluations_inspection_id_inspections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_evaluations')),
    sa.UniqueConstraint('inspection_id', 'account_id', name=op.f('uq_visit_evaluations_inspection_id_account_id'))
    )
    with op.batch_alter_table('visit_evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_evaluations_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_evaluations_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('complaint_messages',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('author', sa.String(length=12), nullable=False),
    sa.Column('supervisor_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', server.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['visit_complaints.id'], name=op.f('fk_complaint_messages_complaint_id_visit_complaints')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['supervisors.id'], name=op.f('fk_complaint_messages_supervisor_id_supervisors')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_complaint_messages_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_messages'))
    )
    with op.batch_alter_table('complaint_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_messages_complaint_id'), ['complaint_id'], unique=False)



def downgrade():
    with op.batch_alter_table('complaint_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_messages_complaint_id'))

    op.drop_table('complaint_messages')
    with op.batch_alter_table('visit_evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_evaluations_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_visit_evaluations_agency_id'))

    op.drop_table('visit_evaluations')
    with op.batch_alter_table('visit_complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_visit_complaints_status_due')
        batch_op.drop_index(batch_op.f('ix_visit_complaints_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_visit_complaints_agency_id'))
        batch_op.drop_index(batch_op.f('ix_visit_complaints_account_id'))

    op.drop_table('visit_complaints')
    op.drop_table('enterprise_accounts')
    op.drop_table('supervisors')
    with op.batch_alter_table('draw_plans', schema=None) as batch_op:
        batch_op.drop_column('advance_notice')
