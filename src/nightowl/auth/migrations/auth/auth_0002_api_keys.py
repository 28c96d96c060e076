"""The auth battery: API keys (stored as digests, with a visible prefix)."""

import sqlalchemy as sa
from alembic import op

revision = "auth_0002_api_keys"
down_revision = "auth_0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_auth_api_key_prefix")),
    )
    op.create_index(op.f("ix_auth_api_key_user_id"), "auth_api_key", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_api_key_user_id"), table_name="auth_api_key")
    op.drop_table("auth_api_key")
