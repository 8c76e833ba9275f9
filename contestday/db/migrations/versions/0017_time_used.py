"""time used (#14): an entry's hand-in (交卷) or its time used as imported or corrected

One time per entry (UNIQUE entry_id).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import contestday.db.types

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('time_used',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('handed_in_at', contestday.db.types.UTCDateTime(), nullable=True),
    sa.Column('seconds', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('at', contestday.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_time_used_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_time_used_entry_id_entry'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_used')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_time_used_entry_id'))
    )
    op.create_index(op.f('ix_time_used_item_id'), 'time_used', ['item_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_time_used_item_id'), table_name='time_used')
    op.drop_table('time_used')
