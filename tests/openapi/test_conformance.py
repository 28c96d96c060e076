"""schemathesis against the example shop: no 5xx, and every response fits the document.

schemathesis generates valid and invalid requests from /openapi.json for every
operation and checks each answer: status documented, content type documented, body
valid against the schema, invalid input rejected, no server error.
"""

import importlib.util
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("schemathesis") is None:  # pragma: no cover
    pytest.skip("schemathesis is not installed", allow_module_level=True)

import schemathesis
from schemathesis import GenerationMode

from nightowl import App

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop" / "app.py"


def _example_app() -> App:
    namespace: dict[str, Any] = {"__name__": "example_shop"}
    exec(compile(EXAMPLE.read_text(), str(EXAMPLE), "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, App)
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _example_app())
schema.config.generation.update(modes=list(GenerationMode), max_examples=50)


@schema.parametrize()
def test_example_app_conforms(case: Any) -> None:
    case.call_and_validate()
