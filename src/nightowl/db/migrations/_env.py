"""What the project's ``migrations/env.py`` runs: Alembic's environment, set up by nightowl."""

from __future__ import annotations

from alembic import context
from alembic.util import CommandError

from nightowl.db.migrations import _enums  # noqa: F401  (registers op.create_enum, op.drop_enum)
from nightowl.db.migrations._migrations import RunState

__all__ = ["run_env"]


def run_env() -> None:
    """Run the migrations Alembic asks for, with the state nightowl's command passed in.

    Every migration renders and runs in batch mode (so that SQLite can alter columns)
    and compares column types when autogenerating.
    """
    state = context.config.attributes.get("nightowl")
    if not isinstance(state, RunState):
        raise CommandError(
            "These migrations are run by nightowl: use `nightowl migrate`, "
            "`nightowl makemigrations` and friends instead of the `alembic` command."
        )
    if context.is_offline_mode():
        context.configure(
            url=state.url,
            literal_binds=True,
            dialect_opts={"paramstyle": "named"},
            target_metadata=state.metadata,
            render_as_batch=True,
            compare_type=True,
            on_version_apply=state.on_version_apply,
        )
    else:
        context.configure(
            connection=state.connection,
            target_metadata=state.metadata,
            render_as_batch=True,
            compare_type=True,
            include_name=state.include_name,
            include_object=state.include_object,
            process_revision_directives=state.process_revision_directives,
            on_version_apply=state.on_version_apply,
        )
    with context.begin_transaction():
        context.run_migrations()
