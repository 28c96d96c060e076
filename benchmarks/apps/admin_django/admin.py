"""Django's admin options for the benchmark: what a Django user writes, defaults kept."""

from __future__ import annotations

from django.contrib import admin

from apps.admin_django.models import BenchAuthor, BenchPost


@admin.register(BenchAuthor)
class AuthorAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(BenchPost)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "published", "created_at"]
    list_filter = ["published"]
    search_fields = ["title"]
    ordering = ["-created_at"]
    list_select_related = ["author"]
    list_per_page = 100
    raw_id_fields = ["author"]
