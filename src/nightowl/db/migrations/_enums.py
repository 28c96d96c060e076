"""``op.drop_enum(name)``: drop a PostgreSQL enum type along with the table that used it.

Alembic's ``op.drop_table()`` leaves a table's enum types behind on PostgreSQL, so a
migration that created the table could not run again after being rolled back. nightowl
adds ``op.drop_enum()`` after such a drop when it writes a migration; it does nothing on
databases without named enum types.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import MigrateOperation, Operations, ops
from sqlalchemy import Enum

__all__ = ["DropEnumOp", "add_enum_drops"]


@Operations.register_operation("drop_enum")
class DropEnumOp(MigrateOperation):
    """Drop the enum type ``name`` if the database has named enum types (PostgreSQL)."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def drop_enum(cls, operations: Operations, name: str) -> Any:
        """``op.drop_enum("book_genre")``: drop a PostgreSQL enum type if it exists."""
        return operations.invoke(cls(name))


@Operations.implementation_for(DropEnumOp)
def _drop_enum(operations: Operations, operation: DropEnumOp) -> None:
    if operations.get_context().dialect.name == "postgresql":
        quoted = operations.get_context().dialect.identifier_preparer.quote(operation.name)
        operations.execute(f"DROP TYPE IF EXISTS {quoted}")


@renderers.dispatch_for(DropEnumOp)
def _render_drop_enum(context: AutogenContext, operation: DropEnumOp) -> str:
    return f"op.drop_enum({operation.name!r})"


def _enum_names(table_op: ops.DropTableOp) -> set[str]:
    reverse = getattr(table_op, "_reverse", None)
    columns = getattr(reverse, "columns", None) or []
    return {
        column.type.name
        for column in columns
        if isinstance(getattr(column, "type", None), Enum) and column.type.name
    }


def add_enum_drops(operations: ops.OpContainer, keep: set[str]) -> None:
    """After each dropped table, drop the enum types only it used (not those in ``keep``)."""
    for index in range(len(operations.ops) - 1, -1, -1):
        op = operations.ops[index]
        if isinstance(op, ops.DropTableOp):
            for name in sorted(_enum_names(op) - keep):
                operations.ops.insert(index + 1, DropEnumOp(name))
