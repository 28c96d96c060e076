"""The benchmark's tables, as Django models (the same schema the others use)."""

from __future__ import annotations

from django.db import models


class BenchAuthor(models.Model):
    name = models.CharField(max_length=100)
    email = models.CharField(max_length=200)

    class Meta:
        app_label = "admin_django"
        db_table = "bench_author"
        managed = False

    def __str__(self) -> str:
        return self.name


class BenchPost(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField()
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    author = models.ForeignKey(BenchAuthor, on_delete=models.DO_NOTHING, db_column="author_id")

    class Meta:
        app_label = "admin_django"
        db_table = "bench_post"
        managed = False

    def __str__(self) -> str:
        return self.title
