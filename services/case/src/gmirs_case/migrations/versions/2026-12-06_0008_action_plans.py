"""Action plan versions: goals, activities and sessions, agreed once and never rewritten.

A trigger refuses any update that changes an agreed version's content, or a sharing or approval
time once set; deleting (a case erased) still cascades.

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from gmirs_runtime.migrations import current_schema

revision: str = "0008"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTENT = (
    "id",
    "case_id",
    "version",
    "goals",
    "activities",
    "number_of_sessions",
    "agreed_by",
    "agreed_at",
    "recorded_at",
)
_SET_ONCE = ("shared_at", "shared_recorded_at", "approved_at", "approved_recorded_at")


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _immutable(schema: str) -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _CONTENT)
    reset = " OR ".join(
        f"(OLD.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c})" for c in _SET_ONCE
    )
    return [
        f"""
CREATE FUNCTION "{schema}".action_plan_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF {changed} OR {reset} THEN
    RAISE EXCEPTION 'an agreed action plan version is never changed (agree a new version)';
  END IF;
  RETURN NEW;
END $$
""",
        f"""
CREATE TRIGGER action_plan_immutable BEFORE UPDATE ON "{schema}".action_plans
FOR EACH ROW EXECUTE FUNCTION "{schema}".action_plan_is_immutable();
""",
    ]


def upgrade() -> None:
    schema = current_schema()
    op.create_table(
        "action_plans",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "case_id",
            sa.Uuid,
            sa.ForeignKey(f"{schema}.cases.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("goals", JSONB, nullable=False),
        sa.Column("activities", JSONB, nullable=False),
        sa.Column("number_of_sessions", sa.Integer, nullable=False),
        sa.Column("agreed_by", sa.Text, nullable=False),
        _ts("agreed_at"),
        _ts("recorded_at"),
        *(_ts(name, nullable=True) for name in _SET_ONCE),
        sa.UniqueConstraint("case_id", "version"),
        sa.CheckConstraint("version >= 1", name="version_from_1"),
        sa.CheckConstraint("number_of_sessions BETWEEN 1 AND 100", name="sessions_1_to_100"),
        sa.CheckConstraint(
            "approved_at IS NULL OR shared_at IS NOT NULL", name="approved_after_shared"
        ),
        schema=schema,
    )
    for statement in _immutable(schema):
        op.execute(statement)


def downgrade() -> None:
    schema = current_schema()
    op.drop_table("action_plans", schema=schema)
    op.execute(f'DROP FUNCTION IF EXISTS "{schema}".action_plan_is_immutable()')
