"""certificate score (#14): the total (with theory and practical) printed on a certificate of an item that weighs
theory; empty for the others and for certificates issued before

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 05:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('score')
