"""``ModelAdmin``: how one model appears in the admin, in Django's vocabulary.

Options are class attributes (or keyword arguments of ``admin.register(Model, ...)``);
an unknown option is an :class:`~nightowl.exceptions.ImproperlyConfigured` error, never
ignored. Hooks are methods taking the request; each may be written ``async`` or not.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from sqlalchemy import Select, select
from sqlalchemy import inspect as sa_inspect

from nightowl.admin._checks import check_options
from nightowl.admin._inlines import InlineModelAdmin
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.requests import Request

__all__ = ["OPTIONS", "ModelAdmin", "action", "display", "maybe_await"]

F = TypeVar("F", bound=Callable[..., Any])

#: Every option ``register()`` accepts, with its default.
OPTIONS: dict[str, Any] = {
    "list_display": ("__str__",),
    "list_display_links": None,
    "list_filter": (),
    "search_fields": (),
    "ordering": (),
    "sortable_by": None,
    "list_per_page": 100,
    "list_prefetch": (),
    "fields": None,
    "exclude": (),
    "fieldsets": None,
    "readonly_fields": (),
    "actions": (),
    "verbose_name": None,
    "verbose_name_plural": None,
    "fk_choices_limit": 500,
    "autocomplete_fields": (),
    "inlines": (),
    "template_overrides": None,
}


@overload
def action(function: F) -> F: ...
@overload
def action(
    function: None = None, *, description: str | None = None, permissions: Sequence[str] = ...
) -> Callable[[F], F]: ...
def action(
    function: Callable[..., Any] | None = None,
    *,
    description: str | None = None,
    permissions: Sequence[str] = ("change",),
) -> Any:
    """Mark a method as an admin action (Django's ``@admin.action``)::

        @action(description="Publish the selected posts")
        async def publish(self, request, queryset):
            await queryset.update(published=True)

    Args:
        description: the text of the action menu (the name made readable otherwise).
        permissions: the model permissions needed to run it (``"change"``, ``"delete"``...).
    """

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        func.short_description = description or func.__name__.replace("_", " ").capitalize()  # type: ignore[attr-defined]
        func.allowed_permissions = tuple(permissions)  # type: ignore[attr-defined]
        return func

    return mark(function) if function is not None else mark


@overload
def display(function: F) -> F: ...
@overload
def display(
    function: None = None, *, description: str | None = None, ordering: str | None = None
) -> Callable[[F], F]: ...
def display(
    function: Callable[..., Any] | None = None,
    *,
    description: str | None = None,
    ordering: str | None = None,
) -> Any:
    """Give a ``list_display`` callable its column title, and a column to sort it by::

    @display(description="Author's email", ordering="author_id")
    def author_email(self, post): return post.author.email
    """

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        if description is not None:
            func.short_description = description  # type: ignore[attr-defined]
        if ordering is not None:
            func.admin_order_field = ordering  # type: ignore[attr-defined]
        return func

    return mark(function) if function is not None else mark


async def maybe_await(value: Any) -> Any:
    """``await value`` when it is awaitable (a hook written ``async``), else ``value``."""
    if inspect.isawaitable(value):
        return await value
    return value


def _words(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append(" ")
        out.append(char.lower())
    return "".join(out)


class ModelAdmin:
    """The admin options and hooks of one model.

    ::

        @admin.register(Post)
        class PostAdmin(ModelAdmin):
            list_display = ["title", "author", "published", "created_at"]
            list_filter = ["published", "author", "created_at"]
            search_fields = ["title", "author__email"]
            ordering = ["-created_at"]
            readonly_fields = ["created_at"]
            actions = ["publish"]

            async def publish(self, request, queryset): ...

    Options (as in Django): ``list_display`` (columns: fields, ``relation__field``,
    relationships, methods of the admin or the model, callables), ``list_display_links``,
    ``list_filter`` (booleans, enums and choices, foreign keys, dates),
    ``search_fields`` (``icontains``, ``relation__field`` across a relationship),
    ``ordering``, ``sortable_by``, ``list_per_page``, ``list_prefetch`` (relationships to
    load with ``selectinload`` for callables), ``fields``, ``exclude``, ``fieldsets``,
    ``readonly_fields``, ``actions``, ``verbose_name(_plural)``, ``fk_choices_limit``, ``autocomplete_fields`` (many-to-one relationships
    chosen by a search box fed by a JSON endpoint instead of a select of every row) and
    ``inlines`` (:class:`TabularInline` / :class:`StackedInline` subclasses)
    (the most rows a foreign-key select offers) and ``template_overrides`` (template
    name -> the project's template to use instead, for this model).
    """

    list_display: ClassVar[Sequence[Any]] = OPTIONS["list_display"]
    list_display_links: ClassVar[Sequence[str] | None] = None
    list_filter: ClassVar[Sequence[str]] = ()
    search_fields: ClassVar[Sequence[str]] = ()
    ordering: ClassVar[Sequence[str]] = ()
    sortable_by: ClassVar[Sequence[str] | None] = None
    list_per_page: ClassVar[int] = 100
    list_prefetch: ClassVar[Sequence[str]] = ()
    fields: ClassVar[Sequence[str] | None] = None
    exclude: ClassVar[Sequence[str]] = ()
    fieldsets: ClassVar[Sequence[tuple[str | None, dict[str, Any]]] | None] = None
    readonly_fields: ClassVar[Sequence[str]] = ()
    actions: ClassVar[Sequence[Any]] = ()
    verbose_name: ClassVar[str | None] = None
    verbose_name_plural: ClassVar[str | None] = None
    fk_choices_limit: ClassVar[int] = 500
    autocomplete_fields: ClassVar[Sequence[str]] = ()
    inlines: ClassVar[Sequence[type[InlineModelAdmin]]] = ()
    template_overrides: ClassVar[dict[str, str] | None] = None

    def __init__(self, model: type[Any], admin: Any) -> None:
        self.model = model
        self.admin = admin
        self.mapper = sa_inspect(model)
        from nightowl.auth.permissions import app_label

        self.app_label = app_label(model)
        self.model_name = model.__name__.lower()
        self.name = self.verbose_name or _words(model.__name__)
        self.name_plural = self.verbose_name_plural or f"{self.name}s"
        self._check()

    # -- checks ---------------------------------------------------------------------------------
    def _check(self) -> None:
        where = f"{type(self).__name__} of {self.model.__name__}"
        if len(self.mapper.primary_key) != 1:
            raise ImproperlyConfigured(f"{where}: the admin needs a single-column primary key.")
        if not isinstance(self.list_per_page, int) or self.list_per_page < 1:
            raise ImproperlyConfigured(f"{where}: list_per_page is a positive integer.")
        check_options(self, where)
        for inline in self.inlines:
            if not (isinstance(inline, type) and issubclass(inline, InlineModelAdmin)):
                raise ImproperlyConfigured(
                    f"{where}: inlines holds TabularInline or StackedInline subclasses, "
                    f"not {inline!r}."
                )
        #: The inlines, bound to this admin's model.
        self.inline_instances = [inline(self.model) for inline in self.inlines]

    @property
    def pk_key(self) -> str:
        """The attribute name of the primary key."""
        found: str | None = self.__dict__.get("_pk_key")
        if found is None:
            found = self.__dict__["_pk_key"] = str(
                self.mapper.get_property_by_column(self.mapper.primary_key[0]).key
            )
        return found

    def pk_of(self, obj: Any) -> Any:
        """The primary key of ``obj``."""
        return getattr(obj, self.pk_key)

    @property
    def permission_prefix(self) -> str:
        """``blog.`` and the codename suffix: ``permission("change")`` -> ``blog.change_post``."""
        return f"{self.app_label}."

    def permission(self, action_name: str) -> str:
        """The full name of one of the model's permissions: ``blog.change_post``."""
        return f"{self.app_label}.{action_name}_{self.model_name}"

    # -- hooks ---------------------------------------------------------------------------------
    def get_queryset(self, request: Request) -> Select[Any]:
        """The rows this admin shows (the list, the change page, actions): override to
        restrict them, ``return super().get_queryset(request).where(Post.author_id == ...)``."""
        return select(self.model)

    async def _has(self, request: Request, action_name: str) -> bool:
        user = request.scope.get("user")
        if user is None or not user.is_active or not user.is_staff:
            return False
        if user.is_superuser:
            return True
        auth = request.app.state.auth
        return bool(await auth.has_permission(user, self.permission(action_name)))

    async def has_view_permission(self, request: Request, obj: Any = None) -> bool:
        """May the user see the model (or ``obj``)? The view or change permission."""
        return await self._has(request, "view") or await self._has(request, "change")

    async def has_add_permission(self, request: Request) -> bool:
        """May the user add rows?"""
        return await self._has(request, "add")

    async def has_change_permission(self, request: Request, obj: Any = None) -> bool:
        """May the user change the model (or ``obj``)?"""
        return await self._has(request, "change")

    async def has_delete_permission(self, request: Request, obj: Any = None) -> bool:
        """May the user delete rows (or ``obj``)?"""
        return await self._has(request, "delete")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.app_label}.{self.model_name}>"


def admin_class(
    base: type[ModelAdmin], options: dict[str, Any], model: type[Any]
) -> type[ModelAdmin]:
    """A subclass of ``base`` with ``options`` as class attributes (``register(Model, **options)``)."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ImproperlyConfigured(
            f"admin.register({model.__name__}): unknown option(s) {', '.join(unknown)}; "
            f"options: {', '.join(sorted(OPTIONS))}."
        )
    return type(f"{model.__name__}Admin", (base,), dict(options))
