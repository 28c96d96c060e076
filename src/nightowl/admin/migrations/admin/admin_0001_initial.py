"""The admin battery: the audit log."""

import sqlalchemy as sa
from alembic import op

revision = "admin_0001_initial"
down_revision = None
branch_labels = ("admin",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_log_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_time", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_repr", sa.String(length=150), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("object_repr", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_log_entry")),
    )
    op.create_index(op.f("ix_admin_log_entry_action_time"), "admin_log_entry", ["action_time"])
    op.create_index(op.f("ix_admin_log_entry_user_id"), "admin_log_entry", ["user_id"])
    op.create_index("ix_admin_log_entry_object", "admin_log_entry", ["content_type", "object_id"])


def downgrade() -> None:
    op.drop_index("ix_admin_log_entry_object", table_name="admin_log_entry")
    op.drop_index(op.f("ix_admin_log_entry_user_id"), table_name="admin_log_entry")
    op.drop_index(op.f("ix_admin_log_entry_action_time"), table_name="admin_log_entry")
    op.drop_table("admin_log_entry")
