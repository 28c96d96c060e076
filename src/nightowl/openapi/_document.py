"""Build the OpenAPI 3.1 document of an app from its compiled routes.

Everything comes from what the app compiled to serve requests (nothing is analysed
again): each route's :class:`~nightowl._handlers.dependant.Dependant` (parameters,
bodies, dependencies and the security schemes among them), its response model and
status code, and the route options (tags, summary, responses...). It runs once, when
the document is first asked for.
"""

from __future__ import annotations

import enum
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, get_args

import pydantic

from nightowl._handlers.annotations import is_upload, mentions_response, unwrap_optional
from nightowl._handlers.compiler import CompiledRoute
from nightowl._handlers.dependant import Dependant, Field
from nightowl._handlers.param_models import model_fields
from nightowl._handlers.readers import embedded_body_model
from nightowl._handlers.streams import JSON_LINES, stream_item_type
from nightowl.exceptions import ImproperlyConfigured, status_phrase
from nightowl.openapi._ids import operation_ids
from nightowl.openapi._merge import merge
from nightowl.openapi._schema import SchemaRegistry, SchemaSlot, jsonable
from nightowl.params import Body, Header, Source
from nightowl.responses import JSONResponse, Response
from nightowl.routing import Route, Router
from nightowl.security import SecurityScheme

if TYPE_CHECKING:
    from nightowl.openapi._source import DocumentedApp

__all__ = ["build_document"]

OPENAPI_VERSION = "3.1.0"
_NO_BODY_STATUSES = (204, 304)


def build_document(app: DocumentedApp) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing ``app``'s HTTP routes."""
    registry = SchemaRegistry(app.error_format, separate=app.separate_input_output_schemas)
    documented = [
        compiled
        for compiled in app.compiled_routes()
        if compiled.route.options.get("include_in_schema", True)
    ]
    schemes: dict[str, SecurityScheme] = {}
    tags: list[str] = []
    paths = _paths(app, documented, registry, schemes, tags)
    webhook_routes = [
        app.compile_documented(route)
        for route in app.webhooks.routes
        if isinstance(route, Route) and route.options.get("include_in_schema", True)
    ]
    webhooks = _paths(app, webhook_routes, registry, schemes, tags, by="path")
    return _document(app, paths, webhooks, registry, schemes, tags)


def _paths(
    app: DocumentedApp,
    documented: list[CompiledRoute],
    registry: SchemaRegistry,
    schemes: dict[str, SecurityScheme],
    tags: list[str],
    by: str = "template",
) -> dict[str, dict[str, Any]]:
    """The Path Item Objects of ``documented``, keyed by their path template (or by their
    path as written, for callbacks and webhooks)."""
    routes = [compiled.route for compiled in documented]
    # The app's function names the app's routes; a callback's or webhook's route keeps
    # its own router's.
    ids = operation_ids(routes, app.generate_unique_id_function if by == "template" else None)
    paths: dict[str, dict[str, Any]] = {}
    for compiled in documented:
        route = compiled.route
        route_schemes = list(_security_schemes(compiled.dependant))
        _add_schemes(schemes, route_schemes)
        for tag in _tag_names(route.options.get("tags", [])):
            if tag not in tags:
                tags.append(tag)
        key = route.template.format if by == "template" else route.path
        for method in route.methods:
            builder = _OperationBuilder(compiled, route_schemes, ids[(route, method)], registry)
            operation = builder.build()
            callbacks = route.options.get("callbacks")
            if callbacks:
                operation["callbacks"] = _callbacks(app, callbacks, registry, schemes, tags)
            merge(operation, route.options.get("openapi_extra") or {})
            paths.setdefault(key, {})[method.lower()] = operation
    return paths


def _callbacks(
    app: DocumentedApp,
    callbacks: Any,
    registry: SchemaRegistry,
    schemes: dict[str, SecurityScheme],
    tags: list[str],
) -> dict[str, Any]:
    """The operation's Callback Objects, one per callback route, named after it."""
    routes = callbacks.routes if isinstance(callbacks, Router) else list(callbacks)
    found: dict[str, Any] = {}
    for route in routes:
        if not isinstance(route, Route):
            raise ImproperlyConfigured(f"callbacks= takes HTTP routes, not {route!r}.")
        compiled = app.compile_documented(route)
        found.setdefault(route.name, {}).update(
            _paths(app, [compiled], registry, schemes, [], by="path")
        )
    return found


def _document(
    app: DocumentedApp,
    paths: dict[str, dict[str, Any]],
    webhooks: dict[str, dict[str, Any]],
    registry: SchemaRegistry,
    schemes: Mapping[str, SecurityScheme],
    tags: list[str],
) -> dict[str, Any]:
    """The document around its paths: info, servers, components, tags."""
    info: dict[str, Any] = {"title": app.title}
    if app.summary:
        info["summary"] = app.summary
    if app.description:
        info["description"] = app.description
    if app.terms_of_service:
        info["termsOfService"] = app.terms_of_service
    if app.contact:
        info["contact"] = dict(app.contact)
    if app.license_info:
        info["license"] = dict(app.license_info)
    info["version"] = app.version
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    servers = [dict(server) for server in app.servers]
    root_path = app.root_path if app.root_path_in_servers else ""
    if root_path and not any(server.get("url") == root_path for server in servers):
        servers.insert(0, {"url": root_path})
    if servers:
        document["servers"] = servers
    document["paths"] = paths
    if webhooks:
        document["webhooks"] = webhooks
    schemas = registry.resolve(document)
    components: dict[str, Any] = {"schemas": dict(sorted(schemas.items()))}
    if schemes:
        components["securitySchemes"] = {
            name: scheme.openapi_scheme() for name, scheme in schemes.items()
        }
    document["components"] = components
    declared = [dict(tag) for tag in app.openapi_tags]
    named = {tag["name"] for tag in declared}
    declared += [{"name": tag} for tag in tags if tag not in named]
    if declared:
        document["tags"] = declared
    return document


def _add_schemes(schemes: dict[str, SecurityScheme], found: list[SecurityScheme]) -> None:
    """Add a route's security schemes; one name may not stand for two different schemes."""
    for scheme in found:
        known = schemes.setdefault(scheme.scheme_name, scheme)
        if known.openapi_scheme() != scheme.openapi_scheme():
            raise ImproperlyConfigured(
                f"Two different security schemes are named {scheme.scheme_name!r}; "
                "give one a scheme_name."
            )


# -- security -----------------------------------------------------------------------------------
def _security_schemes(dependant: Dependant) -> Iterator[SecurityScheme]:
    """The security schemes ``dependant`` depends on, at any depth, each once, in order."""
    seen: set[int] = set()

    def walk(node: Dependant) -> Iterator[SecurityScheme]:
        for dependency in node.dependencies:
            call = dependency.dependant.call
            if isinstance(call, SecurityScheme) and id(call) not in seen:
                seen.add(id(call))
                yield call
            yield from walk(dependency.dependant)

    yield from walk(dependant)


def _response_media_types(annotation: Any) -> list[str]:
    """The media types of the response classes a return annotation names
    (``-> HTMLResponse | RedirectResponse`` gives ``["text/html"]``)."""
    found: list[str] = []
    for arg in get_args(annotation) or (annotation,):
        media_type = getattr(arg, "media_type", None) if inspect.isclass(arg) else None
        if isinstance(media_type, str) and media_type not in found:
            found.append(media_type)
    return found


def _dependency_form_model(dependant: Dependant) -> Any:
    """The model of a form that a dependency reads for the handler (a callable with an
    ``openapi_form_model``, such as ``ModelForm.posted(Model)``), if any."""
    for dependency in dependant.dependencies:
        model = getattr(dependency.dependant.call, "openapi_form_model", None)
        if model is not None:
            return model
        model = _dependency_form_model(dependency.dependant)
        if model is not None:
            return model
    return None


def _dependency_responses(dependant: Dependant) -> dict[int | str, Any]:
    """The responses that the dependencies declare they may answer with: a dependency
    callable's ``openapi_responses`` mapping (a rate limit's 429...), at any depth."""
    found: dict[int | str, Any] = {}

    def walk(node: Dependant) -> None:
        for dependency in node.dependencies:
            declared = getattr(dependency.dependant.call, "openapi_responses", None)
            if isinstance(declared, Mapping):
                for code, response in declared.items():
                    found.setdefault(code, response)
            walk(dependency.dependant)

    walk(dependant)
    return found


def _scheme_scopes(dependant: Dependant) -> dict[str, list[str]]:
    """The OAuth2 scopes each scheme is required with: those of the ``Security(...,
    scopes=[...])`` uses on the way to it, outermost first."""
    found: dict[str, list[str]] = {}

    def walk(node: Dependant, above: list[str]) -> None:
        for dependency in node.dependencies:
            scopes = above + [s for s in dependency.scopes if s not in above]
            call = dependency.dependant.call
            if isinstance(call, SecurityScheme):
                known = found.setdefault(call.scheme_name, [])
                known.extend(scope for scope in scopes if scope not in known)
            walk(dependency.dependant, scopes)

    walk(dependant, [])
    return found


def _requirements(schemes: Iterable[Any], scopes: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """The operation's ``security``: the schemes that must be present (``auto_error``) in
    every requirement object, and one object per optional scheme, since a client uses
    any one of them (the auth battery's session, bearer token or API key)."""
    required: dict[str, Any] = {}
    optional: list[str] = []
    for scheme in schemes:
        if getattr(scheme, "auto_error", True):
            required[scheme.scheme_name] = scopes.get(scheme.scheme_name, [])
        elif scheme.scheme_name not in optional:
            optional.append(scheme.scheme_name)
    if not optional:
        return [required]
    return [{**required, name: scopes.get(name, [])} for name in optional]


# -- one operation ------------------------------------------------------------------------------
class _OperationBuilder:
    """The Operation Object of one route and method."""

    def __init__(
        self,
        compiled: CompiledRoute,
        schemes: list[SecurityScheme],
        operation_id: str,
        registry: SchemaRegistry,
    ) -> None:
        self.compiled = compiled
        self.route = compiled.route
        self.dependant = compiled.dependant
        self.schemes = schemes
        self.operation_id = operation_id
        self.registry = registry

    def build(self) -> dict[str, Any]:
        route, options = self.route, self.route.options
        operation: dict[str, Any] = {}
        if options.get("tags"):
            operation["tags"] = _tag_names(options["tags"])
        summary, description = _docstring(self._handler())
        operation["summary"] = options.get("summary") or summary or _title(route.name)
        description = options.get("description", description)
        if description:
            operation["description"] = description
        operation["operationId"] = self.operation_id
        fields = self.dependant.all_fields()
        parameters = [
            parameter
            for field in fields
            if not field.source.in_body and field.marker.include_in_schema
            for parameter in (
                self._model_parameters(field) if field.is_model else [self._parameter(field)]
            )
        ]
        if parameters:
            operation["parameters"] = parameters
        bodies = self.dependant.body_fields()
        if bodies:
            operation["requestBody"] = self._request_body(bodies)
        else:
            form_model = _dependency_form_model(self.dependant)
            if form_model is not None:  # read by the handler itself (a ModelForm)
                schema = self.registry.add(form_model, "validation")
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": schema},
                        "multipart/form-data": {"schema": schema},
                    },
                }
        operation["responses"] = self._responses(fields, bool(bodies))
        if options.get("deprecated"):
            operation["deprecated"] = True
        if self.schemes:
            scopes = _scheme_scopes(self.dependant)
            operation["security"] = _requirements(self.schemes, scopes)
        return operation

    def _handler(self) -> Callable[..., Any]:
        endpoint = self.route.endpoint
        if self.route.view_method is not None:
            method: Callable[..., Any] = getattr(endpoint, self.route.view_method)
            return method if method.__doc__ else endpoint
        return endpoint

    # -- parameters ---------------------------------------------------------------------------
    def _parameter(self, field: Field) -> dict[str, Any]:
        marker = field.marker
        name = field.key
        if isinstance(marker, Header) and marker.alias:
            name = marker.alias  # keep the case the user wrote: X-API-Key
        elif field.source is Source.HEADER:
            name = "-".join(part.capitalize() for part in field.key.split("-"))
        parameter: dict[str, Any] = {
            "name": name,
            "in": field.source.value,
            "required": field.source is Source.PATH or field.required,
            "schema": self._field_schema(field),
        }
        if marker.description:
            parameter["description"] = marker.description
        if marker.deprecated:
            parameter["deprecated"] = True
        if marker.openapi_examples:
            parameter["examples"] = _examples(marker.openapi_examples)
        return parameter

    def _model_parameters(self, field: Field) -> list[dict[str, Any]]:
        """One parameter per field of a parameter model (``Annotated[Filters, Query()]``)."""
        parameters = []
        for wire, info, required in model_fields(field):
            name = wire
            if field.source is Source.HEADER:
                name = "-".join(part.capitalize() for part in wire.split("-"))
            annotation = (
                Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            )
            extra: dict[str, Any] = {}
            if not required and info.default_factory is None:
                ok, default = jsonable(info.default)
                if ok:
                    extra["default"] = default
            parameter: dict[str, Any] = {
                "name": name,
                "in": field.source.value,
                "required": required,
                "schema": self.registry.add(annotation, "validation", extra=extra),
            }
            if info.description:
                parameter["description"] = info.description
            if info.deprecated:
                parameter["deprecated"] = True
            parameters.append(parameter)
        return parameters

    def _field_schema(self, field: Field) -> SchemaSlot:
        marker = field.marker
        settings: dict[str, Any] = dict(marker.constraints)
        for key in ("title", "examples"):
            if getattr(marker, key) is not None:
                settings[key] = getattr(marker, key)
        extra: dict[str, Any] = {}
        if not field.required and marker.default_factory is None:
            ok, default = jsonable(field.default)
            if ok:
                extra["default"] = default
        if field.source is Source.PATH:
            extra.update(self._converter_limits(field.key))
        return self.registry.add(field.annotation, "validation", field=settings, extra=extra)

    def _converter_limits(self, name: str) -> dict[str, Any]:
        # The route table matches these before validation: say what it lets through.
        converter = self.route.template.converters.get(name)
        if converter in ("int", "float"):
            return {"minimum": 0}
        if converter == "slug":
            return {"pattern": "^[-a-zA-Z0-9_]+$"}
        return {}

    # -- request body -------------------------------------------------------------------------
    def _request_body(self, fields: list[Field]) -> dict[str, Any]:
        form = [f for f in fields if f.source.in_form]
        if form:
            media_type = "multipart/form-data"
            if not any(f.source is Source.FILE or is_upload(f.annotation) for f in form):
                marker = form[0].marker
                media_type = marker.media_type if isinstance(marker, Body) else media_type
            schema: Any = self._form_schema(form)
        else:
            marker = fields[0].marker
            media_type = marker.media_type if isinstance(marker, Body) else "application/json"
            embed = len(fields) > 1 or getattr(marker, "embed", False)
            if embed:
                schema = self.registry.add(self._embedded_model(fields), "validation")
            else:
                schema = self._field_schema(fields[0])
        content: dict[str, Any] = {"schema": schema}
        examples = {
            name: example
            for field in fields
            for name, example in (field.marker.openapi_examples or {}).items()
        }
        if examples:
            content["examples"] = _examples(examples)
        return {"required": any(f.required for f in fields), "content": {media_type: content}}

    def _embedded_model(self, fields: list[Field]) -> type[pydantic.BaseModel]:
        """The model of an embedded body, as :class:`~nightowl._handlers.readers.BodyReader`
        builds it (named after the operation here)."""
        return embedded_body_model(fields, "Body_" + self.operation_id)

    def _form_schema(self, fields: list[Field]) -> Any:
        if len(fields) == 1:
            inner = unwrap_optional(fields[0].annotation)
            if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel):
                return self.registry.add(inner, "validation")
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in fields:
            if is_upload(field.annotation):
                binary = {"type": "string", "format": "binary"}
                schema: Any = {"type": "array", "items": binary} if field.is_list else dict(binary)
                if field.marker.description:
                    schema["description"] = field.marker.description
            else:
                schema = self._field_schema(field)
            properties[field.key] = schema
            if field.required:
                required.append(field.key)
        result: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            result["required"] = required
        return result

    # -- responses ----------------------------------------------------------------------------
    def _responses(self, fields: list[Field], has_body: bool) -> dict[str, Any]:
        route = self.route
        status = route.status_code
        problem = self.registry.error_format.describe
        responses: dict[str, Any] = {str(status): self._success(status)}
        if has_body:
            responses["400"] = problem("The body is not well-formed.")
            responses["415"] = problem("The body is not of a supported media type.")
        if any(f.source is Source.PATH for f in fields):
            responses["404"] = problem("Not Found")
        if self.schemes:
            responses["401"] = problem("Not authenticated.")
        if fields:
            responses["422"] = problem(
                "The request's parameters or body did not validate.", validation=True
            )
        for code, extra in _dependency_responses(self.dependant).items():
            responses[str(code)] = self._extra_response(code, extra)
        for code, extra in route.options.get("responses", {}).items():
            responses[str(code)] = self._extra_response(code, extra)
        return dict(sorted(responses.items(), key=lambda item: item[0]))

    def _success(self, status: int) -> dict[str, Any]:
        description = self.route.options.get("response_description") or status_phrase(status)
        response: dict[str, Any] = {"description": description}
        if status in _NO_BODY_STATUSES or status < 200:
            return response
        model = self.compiled.response_model
        response_class = self.compiled.renderer.response_class
        if self.compiled.renderer.stream is not None:
            return self._stream_success(response, response_class)
        media_type = response_class.media_type
        if media_type is None:
            return response
        if model is None:
            annotation = self.dependant.return_annotation
            if mentions_response(annotation):
                media_types = _response_media_types(annotation)
                if media_types:  # -> HTMLResponse: its media type, a string
                    response["content"] = {m: {"schema": {"type": "string"}} for m in media_types}
                return response
            schema: Any = {} if "json" in media_type else {"type": "string"}
        elif "json" in media_type:
            schema = self.registry.add(model, "serialization")
        else:
            schema = {"type": "string"}
        response["content"] = {media_type: {"schema": schema}}
        return response

    def _stream_success(
        self, response: dict[str, Any], response_class: type[Response]
    ) -> dict[str, Any]:
        """A generator handler's response: JSON Lines of its item type, or the stream
        its response class sends."""
        if response_class is JSONResponse:
            item = stream_item_type(self.dependant.return_annotation)
            schema: Any = {} if item is None else self.registry.add(item, "serialization")
            # One schema per line: OpenAPI 3.1 writes it as the media type's schema
            # (3.2 will call it itemSchema).
            response["content"] = {JSON_LINES: {"schema": schema}}
        elif response_class.media_type:
            response["content"] = {response_class.media_type: {}}
        return response

    def _extra_response(self, code: int | str, extra: Any) -> dict[str, Any]:
        """A ``responses={404: {...}}`` entry: OpenAPI's Response Object, plus ``model``."""
        if not isinstance(extra, Mapping):
            raise ImproperlyConfigured(
                f"{self.route!r}: responses[{code!r}] must be a dict such as "
                '{"description": "...", "model": SomeModel}.'
            )
        response = {k: v for k, v in extra.items() if k != "model"}
        numeric = int(code) if str(code).isdigit() else None
        response.setdefault(
            "description", status_phrase(numeric) if numeric is not None else "Response"
        )
        if "model" in extra:
            schema = self.registry.add(extra["model"], "serialization")
            response.setdefault("content", {"application/json": {"schema": schema}})
        elif numeric is not None and numeric >= 400 and "content" not in response:
            response["content"] = self.registry.error_format.describe("")["content"]
        return response


def _docstring(handler: Callable[..., Any]) -> tuple[str, str]:
    """``(summary, description)``: the docstring's first paragraph, then the rest."""
    doc = inspect.getdoc(handler)
    if not doc or (inspect.isclass(handler) and handler.__doc__ is None):
        return "", ""
    first, _, rest = doc.strip().partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _title(name: str) -> str:
    words = re.split(r"[_.]+", name)
    return " ".join(word.capitalize() for word in words if word)


def _examples(examples: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """OpenAPI Example Objects from ``openapi_examples=``, values made JSON-ready."""
    written: dict[str, Any] = {}
    for name, example in examples.items():
        entry = dict(example)
        if "value" in entry:
            ok, value = jsonable(entry["value"])
            entry["value"] = value if ok else str(entry["value"])
        written[name] = entry
    return written


def _tag_names(tags: Iterable[Any]) -> list[str]:
    """Tags as the document writes them: an ``Enum`` member (``tags=[Tags.items]``) by its value."""
    return [str(tag.value) if isinstance(tag, enum.Enum) else str(tag) for tag in tags]
