"""roles per event and per item: user_role.item_id, one scope per role, the blind side per person and event,
the record of role changes, one-time sign-in links

Roles given before this revision stay server-wide (event_id NULL), so nothing breaks on upgrade; the roles a
judge's account got from panel seats (judging/registry.py used to write them server-wide) are rewritten as the
seats say: per event and item. That is what closes the leak on an upgraded database too.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import contestday.db.types

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PANEL_ROLES = ("chief_judge", "judge", "encryption_judge")


def upgrade() -> None:
    with op.batch_alter_table('user_role', schema=None) as batch_op:
        batch_op.add_column(sa.Column('item_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_role_item_id_item'), 'item', ['item_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.drop_constraint('uq_user_role_user_id_role_event_id', type_='unique')
    op.execute("DELETE FROM user_role WHERE role IN ('chief_judge', 'judge', 'encryption_judge') AND event_id IS NULL"
               " AND user_id IN (SELECT user_id FROM judge WHERE user_id IS NOT NULL)")
    op.execute("INSERT INTO user_role (user_id, role, event_id, item_id)"
               " SELECT DISTINCT j.user_id, p.role, j.event_id, p.item_id FROM panel_member p"
               " JOIN judge j ON j.id = p.judge_id WHERE j.user_id IS NOT NULL"
               " AND NOT EXISTS (SELECT 1 FROM user_role r WHERE r.user_id = j.user_id AND r.role = p.role"
               " AND r.event_id = j.event_id AND r.item_id = p.item_id)")
    op.create_index('uq_user_role_scope', 'user_role',
                    ['user_id', 'role', sa.text('coalesce(event_id, 0)'), sa.text('coalesce(item_id, 0)')],
                    unique=True)
    op.create_table('role_side',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_role_side_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_role_side_user_id_app_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_side')),
    sa.UniqueConstraint('user_id', 'event_id', name=op.f('uq_role_side_user_id_event_id'))
    )
    # a person already on both sides keeps what they hold (the first side found is recorded); the panel
    # page then shows the conflict when the seat is touched. New grants cannot create one.
    op.execute("INSERT INTO role_side (user_id, event_id, side)"
               " SELECT user_id, event_id, MIN(CASE WHEN role = 'encryption_judge' THEN 'sealing' ELSE 'scoring' END)"
               " FROM user_role WHERE event_id IS NOT NULL AND role IN ('chief_judge', 'judge', 'encryption_judge')"
               " GROUP BY user_id, event_id")
    op.create_table('role_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', contestday.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_role_change_user_id_app_user'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_change'))
    )
    with op.batch_alter_table('role_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_change_user_id'), ['user_id'], unique=False)
    op.create_table('sign_in_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', contestday.db.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', contestday.db.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', contestday.db.types.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', contestday.db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_sign_in_link_user_id_app_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_link_token_hash'))
    )
    with op.batch_alter_table('sign_in_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_link_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('sign_in_link')
    op.drop_table('role_change')
    op.drop_table('role_side')
    op.drop_index('uq_user_role_scope', table_name='user_role')
    op.execute("DELETE FROM user_role WHERE item_id IS NOT NULL")
    with op.batch_alter_table('user_role', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_user_role_user_id_role_event_id', ['user_id', 'role', 'event_id'])
        batch_op.drop_constraint(batch_op.f('fk_user_role_item_id_item'), type_='foreignkey')
        batch_op.drop_column('item_id')
