"""Django's URLs for the benchmark: the admin site only."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
