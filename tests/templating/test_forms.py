"""HTML forms from pydantic models: validation, errors with typed values kept, rendering."""

from __future__ import annotations

import datetime
import enum
import re
from typing import Annotated, Literal

import jinja2
import pytest
from pydantic import AnyUrl, BaseModel, Field, SecretStr, model_validator

from nightowl import App, Form, Request, Response, UploadFile, redirect, render
from nightowl.templating.forms import ModelForm, field_specs
from nightowl.testing import TestClient


class Color(enum.Enum):
    red = "red"
    blue = "blue"


class Profile(BaseModel):
    name: str = Field(max_length=20, description="As shown to others")
    email: str
    password: SecretStr
    age: int | None = Field(default=None, ge=13, le=120)
    ratio: float = Field(default=1.0, gt=0)
    color: Color = Color.red
    size: Literal["s", "m", "l"] | None = None
    tags: list[Color] = []
    birthday: datetime.date | None = None
    bio: str = Field(default="", json_schema_extra={"widget": "textarea"})
    newsletter: bool = False
    terms: Literal[True] = Field(title="I accept the terms")
    website: str = Field(default="", alias="url")

    @model_validator(mode="after")
    def no_admin(self) -> Profile:
        if self.name == "admin":
            raise ValueError("That name is reserved.")
        return self


VALID = {
    "name": "Ada",
    "email": "ada@example.com",
    "password": "correct horse",
    "terms": "on",
}


def _input(html: str, name: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input {name} in {html}"
    return match.group(0)


def test_input_types_follow_annotations() -> None:
    specs = {spec.name: spec for spec in field_specs(Profile)}
    assert specs["email"].input_type == "email"
    assert specs["password"].input_type == "password"
    assert specs["age"].input_type == "number"
    assert dict(specs["age"].attrs) == {"min": "13", "max": "120"}
    assert specs["ratio"].attrs["step"] == "any"
    assert specs["color"].widget == "select"
    assert specs["color"].choices == (("red", "Red"), ("blue", "Blue"))
    assert specs["size"].choices == (("s", "S"), ("m", "M"), ("l", "L"))
    assert specs["tags"].multiple
    assert specs["birthday"].input_type == "date"
    assert specs["bio"].widget == "textarea"
    assert specs["newsletter"].widget == "checkbox" and not specs["newsletter"].required
    assert specs["terms"].widget == "checkbox" and specs["terms"].required
    assert specs["terms"].label == "I accept the terms"
    assert specs["website"].key == "url"


class Contact(BaseModel):
    guests: int = Field(gt=0, lt=10)
    starts: datetime.datetime
    alarm: datetime.time | None = None
    homepage: AnyUrl | None = None
    phone: str = Field(default="", max_length=20, pattern=r"^[0-9 +]*$")
    work_phone: str = ""
    shade: str = Field(default="", json_schema_extra={"widget": "color"})
    keywords: list[str] = []
    avatar: UploadFile | None = None


def test_more_input_types_follow_annotations() -> None:
    html = ModelForm(Contact).render()
    assert 'type="number" required min="1" max="9"' in _input(html, "guests")  # exclusive bounds
    assert 'type="datetime-local" required' in _input(html, "starts")
    assert 'type="time"' in _input(html, "alarm")
    assert 'type="url"' in _input(html, "homepage")
    assert 'type="tel" maxlength="20"' in _input(html, "phone")
    assert 'type="tel"' in _input(html, "work_phone")
    assert 'type="color"' in _input(html, "shade")  # the widget chosen in json_schema_extra
    keywords = _input(html, "keywords")  # only a <select> sends several values
    assert keywords.startswith("<input") and "multiple" not in keywords
    assert _input(html, "avatar") == '<input id="id_avatar" name="avatar" type="file">'


def test_an_uploaded_file_is_validated_and_never_shown_again() -> None:
    app = App()

    @app.post("/")
    async def upload(request: Request) -> dict[str, str | None]:
        form = await ModelForm(Contact).from_request(request)
        avatar = form.data.avatar
        return {
            "avatar": None if avatar is None else (await avatar.read()).decode(),
            "input": _input(str(form.render()), "avatar"),
        }

    fields = {"guests": "2", "starts": "2026-01-02T10:00"}
    with TestClient(app) as client:
        sent = client.post("/", data=fields, files={"avatar": ("me.png", b"png")}).json()
        empty = client.post("/", data=fields, files={"avatar": ("", b"")}).json()
    assert sent["avatar"] == "png"
    assert sent["input"] == '<input id="id_avatar" name="avatar" type="file">'
    assert empty["avatar"] is None  # an empty file input is a file not given


def test_blank_form_renders_labels_and_constraints() -> None:
    html = ModelForm(Profile).render()
    assert '<label for="id_name">Name</label>' in html
    assert _input(html, "name") == (
        '<input id="id_name" name="name" type="text" required maxlength="20" '
        'aria-describedby="id_name-help" value="">'
    )
    assert '<small class="help" id="id_name-help">As shown to others</small>' in html
    assert 'type="email" required' in _input(html, "email")
    assert "required" not in _input(html, "age")
    assert "csrf_token" not in html  # no request, no session
    select = html[html.index('<select id="id_color"') :]
    select = select[: select.index("</select>")]
    assert '<option value="red" selected>Red</option>' in select
    assert 'value=""' not in select  # a default and no None: no empty choice
    assert '<option value="">—</option>' in html  # size may be None
    assert "<select" in _input(html, "tags") and "multiple" in _input(html, "tags")
    assert html.count('type="checkbox"') == 2


def test_initial_values() -> None:
    html = ModelForm(Profile, initial={"name": "Bo", "color": Color.blue, "newsletter": True})
    rendered = html.render()
    assert 'value="Bo"' in _input(rendered, "name")
    assert '<option value="blue" selected>' in rendered
    assert "checked" in _input(rendered, "newsletter")


def test_valid_data() -> None:
    form = ModelForm(Profile).bind(
        {**VALID, "age": "36", "birthday": "1815-12-10", "tags": ["red", "blue"], "url": "x"}
    )
    assert form.valid and form.errors == {} and form.status_code == 200
    assert form.data.age == 36
    assert form.data.birthday == datetime.date(1815, 12, 10)
    assert form.data.tags == [Color.red, Color.blue]
    assert form.data.newsletter is False  # an unticked checkbox sends nothing
    assert form.data.website == "x"
    assert form.data.password.get_secret_value() == "correct horse"


def test_empty_inputs_count_as_not_given() -> None:
    form = ModelForm(Profile).bind({**VALID, "age": "", "birthday": "", "size": ""})
    assert form.valid
    assert form.data.age is None and form.data.birthday is None and form.data.size is None
    missing = ModelForm(Profile).bind({"name": "", "email": "a@b.c", "password": "x"})
    assert missing.errors["name"] == ["This field is required."]
    assert missing.errors["terms"] == ["This field is required."]


def test_errors_keep_what_was_typed() -> None:
    form = ModelForm(Profile).bind(
        {**VALID, "name": "<b>" * 10, "age": "7", "color": "green", "newsletter": "on"}
    )
    assert not form.valid and form.status_code == 422
    assert set(form.errors) == {"name", "age", "color"}
    assert form.values["age"] == "7"
    with pytest.raises(ValueError, match=r"check form\.valid"):
        form.data  # noqa: B018
    html = form.render()
    age = _input(html, "age")
    assert 'value="7"' in age and 'aria-invalid="true"' in age
    assert 'aria-describedby="id_age-error"' in age
    assert (
        '<p class="error" id="id_age-error">Input should be greater than or equal to 13</p>' in html
    )
    assert 'value="&lt;b&gt;&lt;b&gt;' in _input(html, "name")  # escaped, never markup
    assert "<b><b>" not in html
    assert "checked" in _input(html, "newsletter")
    assert 'value="correct horse"' not in html  # passwords are not sent back
    assert '<option value="">Choose…</option>' not in html
    assert form.validation_error().errors[0]["loc"][0] == "body"


def test_form_wide_errors_and_added_errors() -> None:
    form = ModelForm(Profile).bind({**VALID, "name": "admin"})
    assert form.form_errors == ["That name is reserved."]
    assert '<div class="form-errors" role="alert"><p>That name is reserved.</p></div>' in (
        form.render()
    )
    taken = ModelForm(Profile).bind(VALID)
    assert taken.valid
    taken.add_error("email", "Already registered.")
    assert not taken.valid and taken.errors["email"] == ["Already registered."]
    assert taken.validation_error().errors == [
        {"loc": ["body", "email"], "msg": "Already registered.", "type": "value_error"}
    ]


def test_fields_render_one_by_one() -> None:
    form = ModelForm(Profile).bind({**VALID, "age": "5"})
    age = form["age"]
    assert age.id == "id_age" and age.errors and age.value == "5"
    assert age.label_tag() == '<label for="id_age">Age</label>'
    assert 'class="wide"' in age.input(class_="wide")
    assert [bound.name for bound in form][:2] == ["name", "email"]
    env = jinja2.Environment(autoescape=True)
    html = env.from_string('{{ form["age"] }}|{{ form }}').render(form=form)
    assert html.startswith('<div class="field field-number invalid">')
    with pytest.raises(KeyError):
        form["nope"]
    prefixed = ModelForm(Profile, prefix="p-").bind({f"p-{k}": v for k, v in VALID.items()})
    assert prefixed.valid
    assert 'id="id_p-name" name="p-name"' in prefixed.render()


class Signup(BaseModel):
    name: str = Field(min_length=2)
    plan: Color = Color.red
    terms: Literal[True]


def _app() -> App:
    app = App(
        templates=jinja2.DictLoader(
            {
                "signup.html": '{% for m in get_flashed_messages() %}<p class="flash">{{ m }}</p>'
                '{% endfor %}<form method="post">{{ form.render() }}<button>Go</button></form>',
            }
        ),
        secret_key="a-test-key-that-is-long-enough",
    )

    @app.get("/")
    def page(request: Request) -> Response:
        return render("signup.html", request, form=ModelForm(Signup, request))

    @app.post("/")
    async def submit(request: Request) -> Response:
        form = await ModelForm(Signup).from_request(request)
        if not form.valid:
            return render("signup.html", request, form=form, status_code=form.status_code)
        from nightowl import flash

        flash(request, f"Hello {form.data.name}")
        return redirect("/", status_code=303)

    @app.post("/api")
    def api(data: Annotated[Signup, Form()]) -> Signup:
        return data

    return app


def test_a_page_shows_its_form_again_with_errors() -> None:
    with TestClient(_app()) as client:
        page = client.get("/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, "the form carries the CSRF field"
        data = {"csrf_token": token.group(1), "name": "A", "plan": "blue"}
        again = client.post("/", data=data)
        assert again.status_code == 422
        assert again.headers["content-type"].startswith("text/html")
        assert 'value="A"' in again.text and '<option value="blue" selected>' in again.text
        assert "String should have at least 2 characters" in again.text
        assert 'id="id_terms-error">This field is required.' in again.text
        done = client.post("/", data={**data, "name": "Ada", "terms": "on"}, follow_redirects=True)
        assert '<p class="flash">Hello Ada</p>' in done.text


def test_api_clients_keep_the_json_422() -> None:
    client = TestClient(_app())  # no session cookie: no CSRF check
    response = client.post("/api", data={"name": "A"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    locs = [error["loc"] for error in response.json()["errors"]]
    assert ["body", "name"] in locs and ["body", "terms"] in locs
    wrong = client.post("/api", data={"name": "Ada", "plan": "green", "terms": "yes"})
    assert next(error["loc"] for error in wrong.json()["errors"]) == ["body", "plan"]


class Quoted(BaseModel):
    title: str = Field(max_length=5, title='Say "hi" & <go>', description="<b>bold</b>")
    kind: Literal["a&b", "<c>"] = "a&b"
    tags: list[Color] = [Color.blue]
    done: bool = True


def test_fields_render_the_exact_html_and_escape_everything_they_show() -> None:
    form = ModelForm(Quoted, prefix='q"').bind({'q"title': '<x y="1">', 'q"kind': "<c>"})
    title = form["title"]
    assert title.render() == (
        '<div class="field field-text invalid">'
        '<label for="id_q&#34;title">Say &#34;hi&#34; &amp; &lt;go&gt;</label>'
        '<input id="id_q&#34;title" name="q&#34;title" type="text" required maxlength="5"'
        ' aria-invalid="true" aria-describedby="id_q&#34;title-help id_q&#34;title-error"'
        ' value="&lt;x y=&#34;1&#34;&gt;">'
        '<small class="help" id="id_q&#34;title-help">&lt;b&gt;bold&lt;/b&gt;</small>'
        '<p class="error" id="id_q&#34;title-error">'
        "String should have at most 5 characters</p></div>"
    )
    assert form["kind"].input() == (
        '<select id="id_q&#34;kind" name="q&#34;kind">'
        '<option value="a&amp;b">A&amp;b</option>'
        '<option value="&lt;c&gt;" selected>&lt;c&gt;</option></select>'
    )
    assert form["tags"].input() == (
        '<select id="id_q&#34;tags" name="q&#34;tags" multiple>'
        '<option value="red">Red</option><option value="blue">Blue</option></select>'
    )
    assert ModelForm(Quoted)["done"].render() == (
        '<div class="field field-checkbox"><input type="checkbox" id="id_done" name="done"'
        ' checked> <label for="id_done">Done</label></div>'
    )


def test_attributes_given_to_input_replace_or_follow_the_fields_own() -> None:
    form = ModelForm(Quoted)
    html = form["title"].input(maxlength=3, data_x="<1>", autofocus=True, value="z", type=False)
    assert html == (
        '<input id="id_title" name="title" required maxlength="3"'
        ' aria-describedby="id_title-help" data-x="&lt;1&gt;" autofocus value="">'
    )
