"""the keyed audit chain: where each event's keyed links begin, and the key's fingerprint

The links already stored keep their unkeyed SHA-256 and are verified as before: `keyed_from` is set past
each event's current head, so every link written from now on carries an HMAC under the audit key (kept
outside the database, judging/audit.py). Nothing stored is rewritten.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keyed_from', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default=''))
    op.execute("UPDATE audit_head SET keyed_from = seq + 1")


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('keyed_from')
