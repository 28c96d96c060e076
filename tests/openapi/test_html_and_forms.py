"""HTML routes documented as ``text/html``, and forms a ``ModelForm`` reads documented as
request bodies: the sign-up example's document, served by a real server."""

from __future__ import annotations

import importlib.util
import re
import uuid
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel

from nightowl import App, Depends, HTMLResponse, RedirectResponse
from nightowl.templating.forms import ModelForm
from tests.live import live_client

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "signup" / "app.py"
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _example() -> Any:
    spec = importlib.util.spec_from_file_location(f"signup_{uuid.uuid4().hex}", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def test_the_signup_example_documents_html_pages_and_its_form() -> None:
    with live_client(_example()) as client:
        document = client.get("/openapi.json").json()
        page = client.get("/signup", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        data = {"csrf_token": token.group(1), "name": "Ada", "email": "ada@example.com"}
        data.update({"password": "correct horse battery", "plan": "pro", "terms": "on"})
        posted = client.post("/signup", data=data, follow_redirects=False)
    paths = document["paths"]
    for path in ("/", "/signup"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert content == {"text/html": {"schema": {"type": "string"}}}, path
    signup = paths["/signup"]["post"]
    assert set(signup["requestBody"]["content"]) == FORM_TYPES
    schema = signup["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema == {"$ref": "#/components/schemas/SignupForm"}
    assert "text/html" in signup["responses"]["200"]["content"]
    assert posted.status_code == 303, posted.text  # the form still works


class Note(BaseModel):
    text: str
    pinned: bool = False


def test_a_model_form_dependency_reads_the_posted_form() -> None:
    app = App(secret_key="k" * 40, sessions={"csrf": False})

    @app.post("/notes")
    def add(form: Annotated[ModelForm[Note], Depends(ModelForm.posted(Note))]) -> HTMLResponse:
        if not form.valid:
            return HTMLResponse(f"errors: {sorted(form.errors)}", status_code=422)
        return HTMLResponse(f"saved {form.data.text} {form.data.pinned}")

    @app.get("/away")
    def away() -> RedirectResponse:
        return RedirectResponse("/notes")

    with live_client(app) as client:
        assert client.post("/notes", data={"text": "hi", "pinned": "on"}).text == "saved hi True"
        refused = client.post("/notes", data={"text": ""})
        document = client.get("/openapi.json").json()
    assert refused.status_code == 422
    assert refused.text == "errors: ['text']"
    body = document["paths"]["/notes"]["post"]["requestBody"]
    assert set(body["content"]) == FORM_TYPES
    assert "Note" in document["components"]["schemas"]
    assert "content" not in document["paths"]["/away"]["get"]["responses"]["200"]
