"""Every example in docs/middleware.md runs and does what the text says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nightowl import App
from nightowl.testing import TestClient

DOC = Path(__file__).parents[2] / "docs" / "middleware.md"


def examples() -> list[App]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    apps = []
    for block in blocks:
        namespace: dict[str, Any] = {}
        exec(compile(block, str(DOC), "exec"), namespace)
        apps.append(namespace["app"])
    return apps


def test_the_doc_has_one_example_per_section() -> None:
    assert len(examples()) == 7


def test_examples_behave_as_described() -> None:
    cors, gzip, trusted, security, https, function, stack = examples()

    with TestClient(cors) as client:
        answer = client.options(
            "/items",
            headers={
                "Origin": "https://pr-7.preview.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://pr-7.preview.example"
        assert answer.headers["access-control-allow-credentials"] == "true"

    with TestClient(gzip) as client:
        response = client.get("/report", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert len(response.json()["rows"]) == 1000

    with TestClient(trusted, follow_redirects=False) as client:
        assert client.get("/", headers={"Host": "localhost"}).json() == {"ok": True}
        assert client.get("/", headers={"Host": "v1.api.example.com"}).status_code == 200
        redirect = client.get("/", headers={"Host": "example.com"})
        assert redirect.status_code == 308
        assert redirect.headers["location"] == "http://www.example.com/"
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400

    with TestClient(security, base_url="https://testserver") as client:
        headers = client.get("/").headers
        assert headers["content-security-policy"] == "default-src 'self'; img-src 'self' data:"
        assert headers["strict-transport-security"].startswith("max-age=")
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert "cross-origin-opener-policy" not in headers

    with TestClient(https, follow_redirects=False) as client:
        assert client.get("/items").headers["location"] == "https://testserver/items"

    with TestClient(function) as client:
        assert float(client.get("/").headers["x-process-time"]) >= 0

    with TestClient(stack) as client:
        response = client.get(
            "/", headers={"Origin": "https://app.example", "Accept-Encoding": "gzip"}
        )
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
