"""deduction ruling (#18): the chief judge's value for a deduction the judges disagree on (裁定扣分)

One per item × entry × criterion (UNIQUE: a second ruling replaces the first by a guarded UPDATE).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 17:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import contestday.db.types

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deduction_ruling',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('value', contestday.db.types.Cents(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('at', contestday.db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_deduction_ruling_item_id_item'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_deduction_ruling_entry_id_entry'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_deduction_ruling_criterion_id_criterion'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deduction_ruling')),
    sa.UniqueConstraint('item_id', 'entry_id', 'criterion_id',
                        name=op.f('uq_deduction_ruling_item_id_entry_id_criterion_id'))
    )


def downgrade() -> None:
    op.drop_table('deduction_ruling')
