"""The dependencies handlers use: ``current_user``, ``login_required``, ``require_*``.

::

    @app.get("/me")
    async def me(user: Annotated[User, Depends(login_required)]) -> UserOut: ...

    @app.post("/posts", dependencies=[Depends(require_permission("blog.add_post"))])
    async def create_post(...): ...

    @app.get("/dashboard")
    @login_required                      # Django's way: below the route decorator
    def dashboard(): ...

The user is loaded once per request, however many dependencies ask for it. Without a
user, a browser (a client preferring HTML) is redirected to the login page with
``?next=``; an API client gets a 401 problem with ``WWW-Authenticate``. A user without
the permission gets a 403.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from nightowl.auth._login import USER_SCOPE_KEY, auth_of
from nightowl.auth.models import AbstractUser
from nightowl.exceptions import HTTPException
from nightowl.params import Depends
from nightowl.requests import Request
from nightowl.security import APIKeyCookie

__all__ = [
    "AuthSchemes",
    "NotAuthenticated",
    "PermissionDenied",
    "Requirement",
    "current_user",
    "login_required",
    "require_permission",
    "require_staff",
    "require_superuser",
]

F = TypeVar("F", bound=Callable[..., Any])
_GUARD_PARAMETER = "_nightowl_auth_requirement"


class NotAuthenticated(HTTPException):
    """No user: browsers are sent to the login page, API clients get a 401 problem."""

    def __init__(self, detail: str = "Authentication required.", challenge: str = "Session"):
        super().__init__(401, detail, headers={"WWW-Authenticate": challenge})


class PermissionDenied(HTTPException):
    """A user without the permission the route needs: 403."""

    def __init__(self, detail: str = "You do not have permission to do this.") -> None:
        super().__init__(403, detail)


#: Documents the login session in OpenAPI: every operation that depends on
#: ``current_user`` lists it (the cookie is read by the session middleware, not here).
session_cookie = APIKeyCookie(
    "session",
    scheme_name="session",
    description="The login session of /auth/login (a browser's session cookie).",
    auto_error=False,
)


class AuthSchemes:
    """The credentials ``current_user`` may read, as OpenAPI security schemes.

    ``Auth(app)`` provides the app's own (the login session, bearer tokens through the
    OAuth2 password flow, API keys: one per authenticator), so every operation that
    depends on ``current_user`` lists them and ``/docs`` offers its Authorize button.
    Without ``Auth(app)``, the login session alone.
    """

    def __init__(self, _cookie: Annotated[str | None, Depends(session_cookie)] = None) -> None:
        pass


async def current_user(
    request: Request, _schemes: Annotated[AuthSchemes, Depends()]
) -> AbstractUser | None:
    """The user the request speaks for, or ``None`` for an anonymous visitor.

    The authenticators of :class:`~nightowl.auth.Auth` are asked in turn (the login
    session first, then bearer tokens); the answer is kept for the rest of the request,
    so the user is loaded once, and is ``request.scope["user"]`` afterwards.
    """
    scope = request.scope
    if USER_SCOPE_KEY in scope:
        found: AbstractUser | None = scope[USER_SCOPE_KEY]
        return found
    auth = auth_of(request.app)
    user = None
    for authenticator in auth.authenticators:
        user = await authenticator.authenticate(request, auth)
        if user is not None:
            break
    scope[USER_SCOPE_KEY] = user
    return user


def _challenge(request: Request) -> str:
    return ", ".join(dict.fromkeys(a.challenge for a in auth_of(request.app).authenticators))


class Requirement:
    """A check on the current user, usable three ways (what ``login_required``,
    ``require_staff``, ``require_superuser`` and ``require_permission(...)`` are)::

        Annotated[User, Depends(login_required)]          # gives the user
        dependencies=[Depends(require_staff)]             # on a route, router or app
        @require_permission("blog.add_post")              # below @app.post(...)

    Args:
        name: shown in ``repr()``.
        staff, superuser: the user must be staff, or a superuser.
        permissions: the user must have all of them (``"blog.add_post"``).
        obj: a dependency giving the object the permissions are checked on
            (object-level permissions, answered by the permission backends).
    """

    def __init__(
        self,
        name: str,
        *,
        staff: bool = False,
        superuser: bool = False,
        permissions: Sequence[str] = (),
        obj: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.staff = staff
        self.superuser = superuser
        self.permissions = tuple(permissions)
        self.obj = obj
        # Dependency injection reads the instance's ``__call__`` attribute (an async
        # function with the parameters the check needs), while ``@requirement`` above a
        # handler goes through the class's ``__call__``, which decorates.
        self.__dict__["__call__"] = self._check_function()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Called with a handler: decorate it. Called by dependency injection: check."""
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self.decorate(args[0])
        return self.__dict__["__call__"](*args, **kwargs)

    def _check_function(self) -> Callable[..., Any]:
        requirement = self

        async def check(
            request: Request,
            user: Annotated[AbstractUser | None, Depends(current_user)],
            target: Any = None,
        ) -> AbstractUser:
            return await requirement.check(request, user, target)

        parameters = list(inspect.signature(check).parameters.values())
        annotations: dict[str, Any] = {"request": Request, "user": Any, "return": Any}
        parameters[1] = parameters[1].replace(annotation=Annotated[Any, Depends(current_user)])
        annotations["user"] = parameters[1].annotation
        if self.obj is None:
            parameters = parameters[:2]
        else:
            target = Annotated[Any, Depends(self.obj)]
            parameters[2] = parameters[2].replace(
                annotation=target, default=inspect.Parameter.empty
            )
            annotations["target"] = target
        check.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        check.__annotations__ = annotations
        check.__name__ = check.__qualname__ = self.name
        return check

    async def check(
        self, request: Request, user: AbstractUser | None, target: Any = None
    ) -> AbstractUser:
        """The user, when they meet the requirement; else :class:`NotAuthenticated` or
        :class:`PermissionDenied`."""
        if user is None:
            raise NotAuthenticated(challenge=_challenge(request))
        if self.superuser and not user.is_superuser:
            raise PermissionDenied("This page is for superusers only.")
        if self.staff and not user.is_staff:
            raise PermissionDenied("This page is for staff only.")
        if self.permissions:
            auth = auth_of(request.app)
            for permission in self.permissions:
                if not await auth.has_permission(user, permission, target):
                    raise PermissionDenied()
        return user

    def decorate(self, handler: F) -> F:
        """``handler`` with this requirement as a dependency (``@login_required``)."""
        signature = inspect.signature(handler)
        extra = inspect.Parameter(
            _GUARD_PARAMETER,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Any, Depends(self)],
        )
        parameters = [p for p in signature.parameters.values() if p.name != _GUARD_PARAMETER]
        position = next(
            (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
            len(parameters),
        )
        parameters.insert(position, extra)

        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                kwargs.pop(_GUARD_PARAMETER, None)
                return await handler(*args, **kwargs)

            wrapper: Callable[..., Any] = async_wrapper
        else:

            @functools.wraps(handler)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                kwargs.pop(_GUARD_PARAMETER, None)
                return handler(*args, **kwargs)

            wrapper = sync_wrapper
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **getattr(handler, "__annotations__", {}),
            _GUARD_PARAMETER: extra.annotation,
        }
        return wrapper  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<Requirement {self.name}>"


#: The user, or a redirect to the login page (browsers) / 401 (API clients).
login_required = Requirement("login_required")
#: A logged-in user with ``is_staff``; 403 for other users.
require_staff = Requirement("require_staff", staff=True)
#: A logged-in superuser; 403 for other users.
require_superuser = Requirement("require_superuser", superuser=True)


def require_permission(*permissions: str, obj: Callable[..., Any] | None = None) -> Requirement:
    """A logged-in user with every one of ``permissions`` (``"blog.change_post"``); 403 for
    other users.

    ``obj`` is a dependency giving the object the permission is about (say, the post of
    the path), for object-level checks by the permission backends::

        async def the_post(post_id: int, db: AsyncSession) -> Post: ...

        @app.put("/posts/{post_id}")
        @require_permission("blog.change_post", obj=the_post)
        async def edit(post_id: int): ...
    """
    if not permissions:
        raise TypeError("require_permission() needs at least one permission.")
    for permission in permissions:
        if permission.count(".") != 1 or not all(permission.split(".")):
            raise ValueError(
                f"A permission is written app_label.codename, like 'blog.add_post', not {permission!r}."
            )
    return Requirement(
        f"require_permission({', '.join(permissions)})", permissions=permissions, obj=obj
    )
