"""Alembic environment for the notify schema (shared logic in gmirs_runtime.migrations)."""

from gmirs_runtime.migrations import run_env

run_env()
