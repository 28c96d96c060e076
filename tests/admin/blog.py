"""A small blog for the admin's tests: posts by users, comments, tags."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, relationship

from nightowl.admin import ModelAdmin, QuerySet, SyncQuerySet, TabularInline, action, display
from nightowl.auth import User
from nightowl.db import Model, mapped_column
from nightowl.requests import Request


class Status(enum.Enum):
    draft = "draft"
    review = "review"
    live = "live"


post_tags = Table(
    "adm_post_tags",
    Model.metadata,
    Column("post_id", ForeignKey("adm_post.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("adm_tag.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(Model):
    __tablename__ = "adm_tag"
    __app_label__: ClassVar[str] = "blog"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)

    def __str__(self) -> str:
        return self.name


class Post(Model):
    __tablename__ = "adm_post"
    __app_label__: ClassVar[str] = "blog"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[Status] = mapped_column(default=Status.draft)
    published: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=datetime(2026, 1, 15, 12, 0))
    author: Mapped[User] = relationship()
    comments: Mapped[list[Comment]] = relationship(back_populates="post")
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags)

    def __str__(self) -> str:
        return self.title


class Comment(Model):
    __tablename__ = "adm_comment"
    __app_label__: ClassVar[str] = "blog"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("adm_post.id"))
    text: Mapped[str] = mapped_column(String(500))
    post: Mapped[Post] = relationship(back_populates="comments")

    def __str__(self) -> str:
        return self.text


class CommentInline(TabularInline):
    model = Comment
    fields = ["text"]
    extra = 1


class PostAdmin(ModelAdmin):
    list_display = ["title", "author", "author__email", "status", "published", "word_count"]
    list_filter = ["published", "status", "author", "created_at"]
    search_fields = ["title", "body", "author__email"]
    ordering = ["-created_at"]
    readonly_fields = ["created_at"]
    list_per_page = 3
    actions = ["publish", "archive"]
    inlines = [CommentInline]

    @display(description="Words")
    def word_count(self, post: Post) -> int:
        return len(post.body.split())

    @action(description="Publish the selected posts")
    async def publish(self, request: Request, queryset: QuerySet) -> Any:
        await queryset.update(published=True, status=Status.live)

    @action(description="Archive (a sync action)")
    def archive(self, request: Request, queryset: SyncQuerySet) -> None:
        for post in queryset:
            for comment in post.comments:
                queryset.session.delete(comment)  # a sync Session
        queryset.update(published=False, status=Status.draft)
