"""pydantic-core's extension loaded alone for a hello world, and pydantic working unchanged
when it is imported afterwards (each test runs in a fresh interpreter, since what is
tested is the order of imports)."""

import json
import subprocess
import sys
from typing import Any

#: Serves GET / from a hello world, then (after the caller's code) a pydantic model's
#: POST /items on a second app in the same process, and prints what a user would see.
PROGRAM = """\
import asyncio, sys
{before}
from nightowl import App

hello = App()

@hello.get("/")
def index():
    return {{"message": "hello world"}}

def call(app, method, path, body=b""):
    scope = {{"type": "http", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "",
             "headers": [(b"host", b"test"), (b"content-type", b"application/json")]}}
    sent = []

    async def receive():
        return {{"type": "http.request", "body": body, "more_body": False}}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], sent[-1]["body"].decode()

first = call(hello, "GET", "/")
package_before = "pydantic_core" in sys.modules
schema_before = "pydantic_core.core_schema" in sys.modules

import importlib.util
importlib.util.find_spec("pydantic_core")  # finding without importing changes nothing
import pydantic, pydantic_core
import nightowl._pydantic_ext as ext

class Item(pydantic.BaseModel):
    name: str
    price: float

items = App()

@items.post("/items")
def create(item: Item) -> Item:
    return item

try:
    Item.model_validate({{"name": "x"}})
except ext.ValidationError as exc:
    caught = type(exc).__name__
else:
    caught = None

import json
print(json.dumps({{
    "hello": first,
    "package_before": package_before,
    "schema_before": schema_before,
    "same_module": pydantic_core._pydantic_core is sys.modules["pydantic_core._pydantic_core"],
    "same_error": pydantic_core.ValidationError is ext.ValidationError
        is pydantic.ValidationError,
    "same_to_json": pydantic_core.to_json is ext.to_json,
    "caught": caught,
    "finders_left": [type(f).__name__ for f in sys.meta_path if "Attach" in type(f).__name__],
    "valid": call(items, "POST", "/items", b'{{"name": "pen", "price": 2.5}}'),
    "invalid": call(items, "POST", "/items", b'{{"name": "pen", "price": "cheap"}}'),
}}))
"""


def _run(before: str = "") -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(before=before)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def _assert_pydantic_works(answer: dict[str, Any]) -> None:
    assert answer["hello"] == [200, '{"message":"hello world"}']
    assert answer["same_module"] is True
    assert answer["same_error"] is True
    assert answer["same_to_json"] is True
    assert answer["caught"] == "ValidationError"
    assert answer["finders_left"] == []
    assert answer["valid"] == [200, '{"name":"pen","price":2.5}']
    status, body = answer["invalid"]
    problem = json.loads(body)
    assert status == 422
    assert problem["status"] == 422
    assert [e["loc"] for e in problem["errors"]] == [["body", "price"]]


def test_a_hello_world_loads_the_extension_without_the_package() -> None:
    answer = _run()
    assert answer["package_before"] is False
    assert answer["schema_before"] is False


def test_pydantic_imported_after_a_hello_world_is_the_same_pydantic() -> None:
    # One ValidationError class and one extension module, whichever was imported first:
    # nightowl catches the errors pydantic raises, and pydantic_core._pydantic_core is set.
    _assert_pydantic_works(_run())


def test_pydantic_imported_before_nightowl_is_used_as_it_is() -> None:
    answer = _run(before="import pydantic, pydantic_core")
    assert answer["package_before"] is True
    _assert_pydantic_works(answer)
