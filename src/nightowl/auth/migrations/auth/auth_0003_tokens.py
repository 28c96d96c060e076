"""The auth battery: opaque bearer tokens (stored as digests) and revoked JWT ids."""

import sqlalchemy as sa
from alembic import op

revision = "auth_0003_tokens"
down_revision = "auth_0002_api_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("password_check", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_auth_token_digest")),
    )
    op.create_index(op.f("ix_auth_token_user_id"), "auth_token", ["user_id"])
    op.create_index(op.f("ix_auth_token_family"), "auth_token", ["family"])
    op.create_index(op.f("ix_auth_token_expires_at"), "auth_token", ["expires_at"])
    op.create_table(
        "auth_revoked_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_revoked_token")),
        sa.UniqueConstraint("jti", name=op.f("uq_auth_revoked_token_jti")),
    )
    op.create_index(op.f("ix_auth_revoked_token_expires_at"), "auth_revoked_token", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_revoked_token_expires_at"), table_name="auth_revoked_token")
    op.drop_table("auth_revoked_token")
    op.drop_index(op.f("ix_auth_token_expires_at"), table_name="auth_token")
    op.drop_index(op.f("ix_auth_token_family"), table_name="auth_token")
    op.drop_index(op.f("ix_auth_token_user_id"), table_name="auth_token")
    op.drop_table("auth_token")
