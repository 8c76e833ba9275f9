"""theory scores (#14): an item's theory sheet imported, then confirmed by a second person

One score per person (UNIQUE member_id); at most one import of an item waiting for confirmation (UNIQUE
pending_item_id: the item's id while pending, NULL after).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 13:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import contestday.db.types

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('theory_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('pending_item_id', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('marks', sa.JSON(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('imported_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('imported_at', contestday.db.types.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('decided_at', contestday.db.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_theory_import_item_id_item'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theory_import')),
    sa.UniqueConstraint('pending_item_id', name=op.f('uq_theory_import_pending_item_id'))
    )
    op.create_table('theory_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('value', contestday.db.types.Cents(), nullable=False),
    sa.Column('absent_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('at', contestday.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_theory_score_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_theory_score_entry_id_entry'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['entry_member.id'], name=op.f('fk_theory_score_member_id_entry_member'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['import_id'], ['theory_import.id'], name=op.f('fk_theory_score_import_id_theory_import'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theory_score')),
    sa.UniqueConstraint('member_id', name=op.f('uq_theory_score_member_id'))
    )


def downgrade() -> None:
    op.drop_table('theory_score')
    op.drop_table('theory_import')
