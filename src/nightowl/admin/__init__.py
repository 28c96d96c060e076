"""nightowl's admin battery: Django's admin, async, with an audit log.

::

    from nightowl.admin import Admin, ModelAdmin

    admin = Admin(app)                                  # /admin/, staff login required
    admin.register(User, search_fields=["email"], list_filter=["is_active"])

    @admin.register(Post)
    class PostAdmin(ModelAdmin):
        list_display = ["title", "author", "published", "created_at"]
        list_filter = ["published", "author", "created_at"]
        search_fields = ["title", "author__email"]
        actions = ["publish"]

        @action(description="Publish the selected posts")
        async def publish(self, request, queryset):
            await queryset.update(published=True)

Needs the auth battery (``Auth(app)``) for staff users and per-model permissions.
See ``docs/admin.md``.
"""

from __future__ import annotations

from nightowl.admin._actions import QuerySet, SyncQuerySet
from nightowl.admin._inlines import InlineModelAdmin, StackedInline, TabularInline
from nightowl.admin._options import ModelAdmin, action, display
from nightowl.admin._site import Admin
from nightowl.admin.models import LogEntry

__all__ = [
    "Admin",
    "InlineModelAdmin",
    "LogEntry",
    "ModelAdmin",
    "QuerySet",
    "StackedInline",
    "SyncQuerySet",
    "TabularInline",
    "action",
    "display",
]
