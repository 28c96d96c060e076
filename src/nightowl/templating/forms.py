"""HTML forms from pydantic models: validate what a browser posts, show the form again
with each field's errors and the values the user typed.

::

    from nightowl.templating.forms import ModelForm

    class Signup(BaseModel):
        email: str = Field(max_length=100)
        age: int | None = Field(default=None, ge=13)
        plan: Plan = Plan.free                        # an Enum: a <select>
        terms: Literal[True]                          # a checkbox that must be ticked

    @app.get("/signup")
    def signup_page(request: Request):
        return render("signup.html", request, form=ModelForm(Signup, request))

    @app.post("/signup")
    async def signup(request: Request):
        form = await ModelForm(Signup).from_request(request)
        if not form.valid:
            return render("signup.html", request, form=form, status_code=form.status_code)
        create_account(form.data)                     # a validated Signup
        flash(request, "Welcome!")
        return redirect(request.url_for("home"), status_code=303)

and in ``signup.html``: ``<form method="post">{{ form.render() }}<button>Sign up</button></form>``
(or ``{{ form["email"] }}``, ``{{ form["age"].input() }}``... for a layout of your own).

Input types follow the annotations: ``bool`` is a checkbox, an ``Enum`` or ``Literal`` a
``<select>``, ``int``/``float`` a number, ``date`` a date picker, a field named ``email``
(or typed ``EmailStr``) an email input, ``SecretStr`` or a name with ``password`` a
password input (never sent back). ``max_length``, ``ge``/``le`` and required-ness become
``maxlength``, ``min``/``max`` and ``required``; ``Field(json_schema_extra={"widget":
"textarea"})`` picks the widget yourself. An API handler keeps using
``Annotated[Signup, Form()]``, which answers invalid input with a JSON 422.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

import pydantic
from markupsafe import Markup, escape

from nightowl.datastructures import UploadFile
from nightowl.exceptions import RequestValidationError
from nightowl.requests import Request
from nightowl.templating._fieldspecs import FieldSpec, display, field_specs
from nightowl.types import MISSING

__all__ = ["BoundField", "FieldSpec", "ModelForm", "field_specs"]

M = TypeVar("M", bound=pydantic.BaseModel)

_UNCHECKED = frozenset({"", "off", "false", "0", "no"})


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "This field is required."
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


class BoundField:
    """One field of a :class:`ModelForm` with its value and errors, ready to render.

    ``{{ form["email"] }}`` renders the whole field (label, input, help, errors);
    ``.label_tag()``, ``.input()`` and ``.errors_html()`` render its parts.
    """

    __slots__ = ("errors", "form", "spec", "value")

    def __init__(self, form: ModelForm[Any], spec: FieldSpec) -> None:
        self.form = form
        self.spec = spec
        #: What the input shows: the typed text, a list for a multiple select, a bool for a checkbox.
        self.value: Any = form.values.get(spec.name)
        #: This field's error messages.
        self.errors: list[str] = form.errors.get(spec.name, [])

    @property
    def id(self) -> str:
        """The input's ``id`` (``id_<name>``), which its label points to."""
        return f"id_{self.form.prefix}{self.spec.name}"

    @property
    def name(self) -> str:
        """The model field's name."""
        return self.spec.name

    def _static(self) -> _Static:
        model: type[pydantic.BaseModel] = self.form.model
        return _statics(model, self.form.prefix)[self.spec.name]

    def label_tag(self) -> Markup:
        """``<label for="id_email">Email</label>``."""
        return self._static().label

    def input(self, **attrs: Any) -> Markup:
        """The ``<input>``, ``<select>`` or ``<textarea>``; ``attrs`` adds attributes
        (``class_="wide"`` for ``class``; ``True`` for a bare attribute)."""
        static = self._static()
        if attrs or not static.fast:
            return self._input_with(static, attrs)
        spec = self.spec
        head = static.head + (static.invalid if self.errors else static.valid)
        if spec.widget == "checkbox":
            checked = " checked" if self.value else ""
            return Markup(f'<input type="checkbox"{head}{checked}>')
        if spec.widget == "select":
            return Markup(f"<select{head}>{self._options()}</select>")
        if spec.widget == "textarea":
            return Markup(f"<textarea{head}>{_esc(display(self.value))}</textarea>")
        if spec.input_type in ("password", "file"):  # a password is never sent back
            return Markup(f"<input{head}>")
        return Markup(f'<input{head} value="{_esc(display(self.value))}">')

    def _input_with(self, static: _Static, attrs: Mapping[str, Any]) -> Markup:
        """:meth:`input` with attributes of the caller's, which may replace the field's own."""
        base = dict(static.base)
        described = [f"{static.id}-help"] if self.spec.help else []
        if self.errors:
            base["aria-invalid"] = "true"
            described.append(f"{static.id}-error")
        if described:
            base["aria-describedby"] = " ".join(described)
        if self.spec.multiple:
            base["multiple"] = True
        for key, value in attrs.items():
            base[key.rstrip("_").replace("_", "-")] = value
        widget = self.spec.widget
        if widget == "checkbox":
            base["checked"] = bool(self.value)
            return Markup(f'<input type="checkbox"{_attributes(base)}>')
        if widget == "select":
            return Markup(f"<select{_attributes(base)}>{self._options()}</select>")
        if widget == "textarea":
            return Markup(f"<textarea{_attributes(base)}>{_esc(display(self.value))}</textarea>")
        if self.spec.input_type not in ("password", "file"):  # a password is never sent back
            base["value"] = display(self.value)
        return Markup(f"<input{_attributes(base)}>")

    def _options(self) -> str:
        spec = self.spec
        if spec.multiple:
            chosen = {display(v) for v in (self.value or ())}
        else:
            chosen = {display(self.value)}
        options = []
        if not spec.multiple and (spec.nullable or not chosen - {""}):
            placeholder = "Choose…" if spec.required else "—"
            options.append(f'<option value="">{placeholder}</option>')
        static = self._static()
        for (value, _), (start, rest) in zip(spec.choices, static.options, strict=True):
            options.append(f"{start} selected{rest}" if value in chosen else f"{start}{rest}")
        return "".join(options)

    def help_html(self) -> Markup:
        """The field's description, if it has one."""
        return self._static().help

    def errors_html(self) -> Markup:
        """The field's error messages (empty without errors)."""
        if not self.errors:
            return Markup("")
        messages = "<br>".join(_esc(e) for e in self.errors)
        return Markup(f'<p class="error" id="{_esc(self.id)}-error">{messages}</p>')

    def render(self) -> Markup:
        """The label, the input, the help text and the errors, in a ``<div class="field">``."""
        static = self._static()
        if self.spec.widget == "checkbox":
            inner = f"{self.input()} {static.label}"
        else:
            inner = f"{static.label}{self.input()}"
        if self.errors:
            return Markup(
                f'<div class="{static.classes} invalid">{inner}{static.help}{self.errors_html()}</div>'
            )
        return Markup(f'<div class="{static.classes}">{inner}{static.help}</div>')

    def __html__(self) -> str:
        return str(self.render())

    def __repr__(self) -> str:
        return f"<BoundField {self.spec.name} value={self.value!r} errors={self.errors!r}>"


def _esc(value: Any) -> str:
    """``value`` as ``Markup.format`` puts it in HTML: its own ``__html__``, else escaped."""
    if type(value) is str:
        return escape(value)
    if hasattr(value, "__html_format__"):
        return str(value.__html_format__(""))
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return escape(format(value, ""))


def _attributes(attrs: Mapping[str, Any]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is True:
            parts.append(f" {_esc(key)}")
        elif value is not False and value is not None:
            parts.append(f' {_esc(key)}="{_esc(value)}"')
    return "".join(parts)


#: Attributes the input adds after the field's own; a field setting one of them itself
#: takes the slower path, which keeps the attribute where the field put it.
_LATER = frozenset({"aria-invalid", "aria-describedby", "multiple", "checked", "value"})


@dataclass(frozen=True, slots=True)
class _Static:
    """What one field renders the same way on every request, worked out once per model
    and prefix: its escaped attributes, label, help and options."""

    id: str
    base: dict[str, Any]
    fast: bool
    head: str
    valid: str
    invalid: str
    label: Markup
    help: Markup
    classes: str
    options: tuple[tuple[str, str], ...]


def _field_static(spec: FieldSpec, prefix: str) -> _Static:
    id_ = f"id_{prefix}{spec.name}"
    base: dict[str, Any] = {"id": id_, "name": prefix + spec.key}
    if spec.widget == "input":
        base["type"] = spec.input_type
    if spec.required:
        base["required"] = True
    base.update(spec.attrs)
    multiple = " multiple" if spec.multiple else ""
    help_id = f"{id_}-help"
    valid = f' aria-describedby="{_esc(help_id)}"' if spec.help else ""
    invalid_ids = f"{help_id} {id_}-error" if spec.help else f"{id_}-error"
    help_html = (
        f'<small class="help" id="{_esc(id_)}-help">{_esc(spec.help)}</small>' if spec.help else ""
    )
    return _Static(
        id=id_,
        base=base,
        fast=not _LATER.intersection(base),
        head=_attributes(base),
        valid=valid + multiple,
        invalid=f' aria-invalid="true" aria-describedby="{_esc(invalid_ids)}"{multiple}',
        label=Markup(f'<label for="{_esc(id_)}">{_esc(spec.label)}</label>'),
        help=Markup(help_html),
        classes=_esc(f"field field-{spec.input_type}"),
        options=tuple(
            (f'<option value="{_esc(value)}"', f">{_esc(label)}</option>")
            for value, label in spec.choices
        ),
    )


@functools.lru_cache(maxsize=1024)
def _statics(model: type[pydantic.BaseModel], prefix: str) -> dict[str, _Static]:
    """Each field's :class:`_Static` by field name (cached, like :func:`field_specs`)."""
    return {spec.name: _field_static(spec, prefix) for spec in field_specs(model)}


class ModelForm(Generic[M]):
    """An HTML form for the pydantic model ``model``: blank, or bound to what was posted.

    ::

        form = ModelForm(Signup, request)                       # a blank form for GET
        form = ModelForm(Signup, request, initial={"plan": "pro"})
        form = await ModelForm(Signup).from_request(request)    # the posted form, validated
        if form.valid:
            form.data                                           # a Signup

    Validation is the model's own, so it is the same as for a JSON body, with what HTML
    forms need on top: an empty input counts as not given (the field's default, or
    "This field is required."), an unticked checkbox is ``False``, and a multiple
    select gives a list.

    Args:
        model: the pydantic model the form is made from.
        request: the current request, for the CSRF field in :meth:`render`.
        initial: values a blank form starts with, by field name (else the defaults).
        prefix: put before every input's name and id, to have two forms on one page.

    Attributes:
        submitted: the form was bound to posted data.
        errors: error messages by field name; messages about the whole form are under
            ``"__all__"`` (see :attr:`form_errors`).
        values: what each input shows, by field name: the text the user typed.
    """

    def __init__(
        self,
        model: type[M],
        request: Request | None = None,
        *,
        initial: Mapping[str, Any] | None = None,
        prefix: str = "",
    ) -> None:
        self.model = model
        self.request = request
        self.prefix = prefix
        self.submitted = False
        self.errors: dict[str, list[str]] = {}
        self.error_entries: list[dict[str, Any]] = []
        self._data: M | None = None
        self.values: dict[str, Any] = {}
        initial = initial or {}
        for name, info in model.model_fields.items():
            if name in initial:
                self.values[name] = initial[name]
            elif not info.is_required():
                self.values[name] = info.get_default(call_default_factory=True)

    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        """How each field is rendered (see :func:`field_specs`)."""
        return field_specs(self.model)

    @classmethod
    def posted(cls, model: type[M]) -> Callable[[Request], Awaitable[ModelForm[M]]]:
        """A dependency giving the form bound to the posted body, which the OpenAPI
        document then describes (a form read inside the handler is invisible to it)::

            @app.post("/signup")
            async def signup(form: Annotated[ModelForm[Signup], Depends(ModelForm.posted(Signup))]):
                if not form.valid: ...
        """

        async def posted_form(request: Request) -> ModelForm[M]:
            return await cls(model).from_request(request)

        posted_form.openapi_form_model = model  # type: ignore[attr-defined]
        return posted_form

    async def from_request(self, request: Request) -> Self:
        """Read the request's form body (urlencoded or multipart) and :meth:`bind` it."""
        self.request = request
        return self.bind(await request.form())

    def bind(self, data: Any) -> Self:
        """Validate ``data``, a :class:`~nightowl.datastructures.FormData` or a mapping of
        field keys to strings (or lists of strings), and keep what was typed."""
        self.submitted = True
        self.values, raw = self._read(data)
        self.errors = {}
        self.error_entries = []
        self._data = None
        try:
            self._data = self.model.model_validate(raw)
        except pydantic.ValidationError as exc:
            self._add_validation_errors(exc)
        return self

    def _read(self, data: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(what each input shows again, by field name; what the model validates, by
        field key)``."""
        getlist = getattr(data, "getlist", None)
        values: dict[str, Any] = {}
        raw: dict[str, Any] = {}
        for spec in self.specs:
            key = self.prefix + spec.key
            if spec.multiple:
                items = getlist(key) if getlist else _as_list(data.get(key))
                shown, given = _read_multiple(items)
            elif spec.widget == "checkbox":
                shown, given = _read_checkbox(data.get(key), required=spec.required)
            else:
                shown, given = _read_single(data.get(key))
            if shown is not MISSING:
                values[spec.name] = shown
            if given is not MISSING:
                raw[spec.key] = given
        return values, raw

    def _add_validation_errors(self, exc: pydantic.ValidationError) -> None:
        names = {spec.key: spec.name for spec in self.specs}
        for error in exc.errors(include_url=False, include_context=False, include_input=False):
            loc = error["loc"]
            field_name = names.get(str(loc[0]), "__all__") if loc else "__all__"
            self.errors.setdefault(field_name, []).append(_message(error))
            self.error_entries.append(
                {"loc": ["body", *loc], "msg": error["msg"], "type": error["type"]}
            )

    @property
    def valid(self) -> bool:
        """The form was submitted, its data validated, and no error was added since."""
        return self._data is not None and not self.errors

    def add_error(self, name: str | None, message: str) -> None:
        """Add an error found after validation (an email already taken); the form is then
        not :attr:`valid`. ``name=None`` is an error about the whole form."""
        self.errors.setdefault(name or "__all__", []).append(message)
        spec = next((spec for spec in self.specs if spec.name == name), None)
        loc = ["body", spec.key] if spec is not None else ["body"]
        self.error_entries.append({"loc": loc, "msg": message, "type": "value_error"})

    @property
    def data(self) -> M:
        """The validated model; an error to ask for if the data did not validate."""
        if self._data is None:
            raise ValueError(
                "The form has no valid data: check form.valid first."
                if self.submitted
                else "The form was not submitted: use await form.from_request(request)."
            )
        return self._data

    @property
    def form_errors(self) -> list[str]:
        """Errors about the form as a whole (a model validator's), not about one field."""
        return self.errors.get("__all__", [])

    @property
    def status_code(self) -> int:
        """422 for a submitted form with errors, else 200: pass it to ``render(...)``."""
        return 422 if self.submitted and not self.valid else 200

    def validation_error(self) -> RequestValidationError:
        """The errors as the 422 an ``Annotated[Model, Form()]`` handler answers, for API
        clients: ``raise form.validation_error()``."""
        return RequestValidationError(self.error_entries)

    @property
    def fields(self) -> list[BoundField]:
        """Every field, bound to its value and errors, in the model's order."""
        return [BoundField(self, spec) for spec in self.specs]

    def __iter__(self) -> Iterator[BoundField]:
        return iter(self.fields)

    def __getitem__(self, name: str) -> BoundField:
        for spec in self.specs:
            if spec.name == name:
                return BoundField(self, spec)
        raise KeyError(f"{self.model.__name__} has no field {name!r}.")

    def csrf_input(self) -> Markup:
        """The hidden CSRF field when the app has sessions (else nothing)."""
        request = self.request
        if request is None or "session" not in request.scope:
            return Markup("")
        from nightowl.sessions.csrf import CSRF_FIELD, get_csrf_token

        return Markup('<input type="hidden" name="{}" value="{}">').format(
            CSRF_FIELD, get_csrf_token(request)
        )

    def render(self) -> Markup:
        """Every field, the form-wide errors and the CSRF field: what goes inside ``<form>``."""
        parts = [self.csrf_input()] if self.request is not None else []
        if self.form_errors:
            messages = Markup("").join(
                Markup("<p>{}</p>").format(message) for message in self.form_errors
            )
            parts.append(Markup('<div class="form-errors" role="alert">{}</div>').format(messages))
        parts.extend(bound.render() for bound in self.fields)
        return Markup("\n").join(parts)

    def __html__(self) -> str:
        return str(self.render())

    def __repr__(self) -> str:
        state = "valid" if self.valid else "invalid" if self.submitted else "blank"
        return f"<ModelForm {self.model.__name__} {state}>"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


# What an input sends, read as ``(what the input shows again, what the model validates)``;
# MISSING for "nothing": an empty input counts as not given, so the field's default applies.


def _read_multiple(items: list[Any]) -> tuple[Any, Any]:
    chosen = [item for item in items if item != ""]
    return chosen, chosen or MISSING


def _read_checkbox(value: Any, *, required: bool) -> tuple[Any, Any]:
    checked = value is not None and str(value).lower() not in _UNCHECKED
    # An unticked ``Literal[True]`` box is left out, so that the model says it is required.
    return checked, checked if checked or not required else MISSING


def _read_single(value: Any) -> tuple[Any, Any]:
    if isinstance(value, UploadFile):  # a file input is never filled in again
        return MISSING, value if value.filename else MISSING
    given = MISSING if value is None or value == "" else value
    return ("" if value is None else value), given
