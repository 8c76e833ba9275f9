"""the notices' rules (#18): certificate kinds, identities per group, photos, declarations, award counting

- `item.certificate`: 职业技能等级证书 (`skill_level`, with its `exam_level`) or 专项职业能力证书
  (`special_ability`: no level, so `exam_level` may be NULL and nobody is promoted). Every stored item has a
  level, so it stays a 职业技能等级证书, as an event file that names `exam_level` without `certificate` does.
- `event.identities` / `group_identities`: who may register, and which group takes whom (seed 001's 院校教师
  and 灵活就业人员 join 学生 and 职工); `photo_required`, `residence_declaration`, `student_major_required`
  (seed 002); and each person's `major` and `residence_declared` (entry_member).
- `award_policy.count`: on team items, whether N of the 30 % rules counts people or teams.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DEFAULT_GROUPS = '{"学生组": ["student"], "职工组": ["employee", "teacher", "flexible"]}'
_ALL = '["student", "employee", "teacher", "flexible"]'


def upgrade() -> None:
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='skill_level'))
        batch_op.alter_column('exam_level', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identities', sa.JSON(), nullable=False, server_default=_ALL))
        batch_op.add_column(sa.Column('group_identities', sa.JSON(), nullable=False, server_default=_DEFAULT_GROUPS))
        batch_op.add_column(sa.Column('photo_required', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('residence_declaration', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=True))
        batch_op.add_column(sa.Column('student_major_required', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('award_policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='people'))
    with op.batch_alter_table('entry_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('major', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('residence_declared', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute("UPDATE item SET exam_level = 4 WHERE exam_level IS NULL")
    with op.batch_alter_table('entry_member', schema=None) as batch_op:
        batch_op.drop_column('residence_declared')
        batch_op.drop_column('major')
    with op.batch_alter_table('award_policy', schema=None) as batch_op:
        batch_op.drop_column('count')
    with op.batch_alter_table('event', schema=None) as batch_op:
        for name in ('student_major_required', 'residence_declaration', 'photo_required', 'group_identities',
                     'identities'):
            batch_op.drop_column(name)
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.alter_column('exam_level', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('certificate')
