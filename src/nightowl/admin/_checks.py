"""The checks that turn a misspelt ``ModelAdmin`` option into an error when the model
is registered, naming the option and what it may be."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text

from nightowl.admin._fields import Path, column_type, list_column, resolve
from nightowl.admin._filters import make_filter
from nightowl.exceptions import ImproperlyConfigured

__all__ = ["check_options"]


def _column_option(admin: Any, where: str, option: str, name: str) -> Path:
    try:
        return resolve(admin.model, name)
    except KeyError:
        raise ImproperlyConfigured(
            f"{where}: {option} names {name!r}, which is no field of {admin.model.__name__}."
        ) from None


def check_options(admin: Any, where: str) -> None:
    """Raise :class:`ImproperlyConfigured` for an option naming nothing."""
    for entry in admin.list_display:
        try:
            list_column(admin, entry)
        except KeyError:
            raise ImproperlyConfigured(
                f"{where}: list_display names {entry!r}, which is no field, relationship, "
                f"method of the admin or attribute of {admin.model.__name__}."
            ) from None
    for name in admin.search_fields:
        path = _column_option(admin, where, "search_fields", name)
        if not path.is_column or not isinstance(column_type(path), (String, Text)):
            raise ImproperlyConfigured(f"{where}: search_fields {name!r} is not a text column.")
    for name in admin.ordering:
        _column_option(admin, where, "ordering", name.lstrip("-"))
    for name in (*admin.list_prefetch, *admin.readonly_fields, *admin.exclude):
        if not hasattr(admin.model, name) and not hasattr(admin, name):
            raise ImproperlyConfigured(f"{where}: no field {name!r} on {admin.model.__name__}.")
    for name in admin.list_filter:
        make_filter(admin, name, where)
    for name in admin.autocomplete_fields:
        path = _column_option(admin, where, "autocomplete_fields", name)
        final = path.final
        if path.relationships or path.is_column or final.uselist:
            raise ImproperlyConfigured(
                f"{where}: autocomplete_fields {name!r} is not a many-to-one relationship."
            )
    for name in admin.actions:
        if isinstance(name, str) and not callable(getattr(admin, name, None)):
            raise ImproperlyConfigured(f"{where}: actions names {name!r}, no method of the admin.")
