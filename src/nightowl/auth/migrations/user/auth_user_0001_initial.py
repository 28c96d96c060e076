"""The auth battery's default user model: users, their groups and their permissions.

Added to the project's history only with the default user model (``Auth(app)``); a
project's own user model (``Auth(app, user_model=...)``) is in the project's migrations.
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_user_0001_initial"
down_revision = None
branch_labels = ("auth_user",)
depends_on = "auth_0001_initial"


def upgrade() -> None:
    op.create_table(
        "auth_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password", sa.String(length=255), nullable=False),
        sa.Column("first_name", sa.String(length=150), nullable=False),
        sa.Column("last_name", sa.String(length=150), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("last_login", sa.DateTime(), nullable=True),
        sa.Column("date_joined", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_user")),
        sa.UniqueConstraint("email", name=op.f("uq_auth_user_email")),
        sa.UniqueConstraint("username", name=op.f("uq_auth_user_username")),
    )
    for name, target, column in (
        ("auth_user_groups", "auth_group", "group_id"),
        ("auth_user_permissions", "auth_permission", "permission_id"),
    ):
        op.create_table(
            name,
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["user_id"],
                ["auth_user.id"],
                name=op.f(f"fk_{name}_user_id_auth_user"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                [column],
                [f"{target}.id"],
                name=op.f(f"fk_{name}_{column}_{target}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("user_id", column, name=op.f(f"pk_{name}")),
        )


def downgrade() -> None:
    op.drop_table("auth_user_permissions")
    op.drop_table("auth_user_groups")
    op.drop_table("auth_user")
