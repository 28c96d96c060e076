"""The auth battery: permissions and groups.

Applied by ``nightowl migrate`` with the project's migrations (``Auth(app)`` adds this
folder to the project's history).
"""

import sqlalchemy as sa
from alembic import op

revision = "auth_0001_initial"
down_revision = None
branch_labels = ("auth",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_permission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("app_label", sa.String(length=100), nullable=False),
        sa.Column("codename", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_permission")),
        sa.UniqueConstraint(
            "app_label", "codename", name=op.f("uq_auth_permission_app_label_codename")
        ),
    )
    op.create_table(
        "auth_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_group")),
        sa.UniqueConstraint("name", name=op.f("uq_auth_group_name")),
    )
    op.create_table(
        "auth_group_permissions",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("permission_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["auth_group.id"],
            name=op.f("fk_auth_group_permissions_group_id_auth_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["permission_id"],
            ["auth_permission.id"],
            name=op.f("fk_auth_group_permissions_permission_id_auth_permission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "permission_id", name=op.f("pk_auth_group_permissions")
        ),
    )


def downgrade() -> None:
    op.drop_table("auth_group_permissions")
    op.drop_table("auth_group")
    op.drop_table("auth_permission")
