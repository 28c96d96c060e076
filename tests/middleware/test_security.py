"""SecurityHeadersMiddleware: defaults, options, HSTS on https only, handler headers win."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl import App, Response
from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware import SecurityHeadersMiddleware
from nightowl.middleware.security import DEFAULT_HSTS
from nightowl.testing import TestClient

DEFAULTS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
}


def make_client(base_url: str = "http://testserver", **options: Any) -> TestClient:
    app = App()

    @app.get("/")
    def home() -> dict[str, str]:
        return {"page": "home"}

    @app.get("/embeddable")
    def embeddable() -> Response:
        return Response(
            "<p>widget</p>", media_type="text/html", headers={"X-Frame-Options": "SAMEORIGIN"}
        )

    app.add_middleware(SecurityHeadersMiddleware, **options)
    return TestClient(app, base_url=base_url)


def test_defaults() -> None:
    with make_client() as client:
        response = client.get("/")
    assert response.json() == {"page": "home"}
    for name, value in DEFAULTS.items():
        assert response.headers[name] == value
    for name in ("content-security-policy", "permissions-policy", "strict-transport-security"):
        assert name not in response.headers


def test_error_responses_get_the_headers_too() -> None:
    with make_client() as client:
        response = client.get("/missing")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"


def test_handler_headers_are_never_overwritten() -> None:
    with make_client() as client:
        response = client.get("/embeddable")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_each_default_can_be_changed_or_dropped() -> None:
    with make_client(
        x_content_type_options=None,
        x_frame_options="SAMEORIGIN",
        referrer_policy="no-referrer",
        cross_origin_opener_policy=None,
    ) as client:
        response = client.get("/")
    assert "x-content-type-options" not in response.headers
    assert "cross-origin-opener-policy" not in response.headers
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_content_security_policy_as_text_or_mapping() -> None:
    with make_client(content_security_policy="default-src 'self'") as client:
        assert client.get("/").headers["content-security-policy"] == "default-src 'self'"
    policy = {
        "default-src": "'self'",
        "img-src": ["'self'", "data:"],
        "upgrade-insecure-requests": [],
    }
    with make_client(content_security_policy=policy) as client:
        assert client.get("/").headers["content-security-policy"] == (
            "default-src 'self'; img-src 'self' data:; upgrade-insecure-requests"
        )


def test_permissions_policy() -> None:
    with make_client(permissions_policy="camera=(), geolocation=()") as client:
        assert client.get("/").headers["permissions-policy"] == "camera=(), geolocation=()"


def test_hsts_only_on_https() -> None:
    with make_client(base_url="https://testserver", hsts=True) as client:
        assert client.get("/").headers["strict-transport-security"] == DEFAULT_HSTS
    with make_client(hsts=True) as client:
        assert "strict-transport-security" not in client.get("/").headers


def test_hsts_custom_value_and_off() -> None:
    with make_client(base_url="https://testserver", hsts="max-age=300") as client:
        assert client.get("/").headers["strict-transport-security"] == "max-age=300"
    for off in (None, False):
        with make_client(base_url="https://testserver", hsts=off) as client:
            assert "strict-transport-security" not in client.get("/").headers


def test_everything_off_leaves_responses_alone() -> None:
    with make_client(
        x_content_type_options=None,
        x_frame_options=None,
        referrer_policy=None,
        cross_origin_opener_policy=None,
    ) as client:
        response = client.get("/")
    assert set(response.headers) == {"content-length", "content-type", "x-request-id"}


@pytest.mark.parametrize(
    "options",
    [
        {"content_security_policy": "default-src 'self'\r\nSet-Cookie: a=b"},
        {"x_frame_options": "DENY\n"},
        {"referrer_policy": "politique de référent ✓"},
    ],
)
def test_bad_values_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured):
        SecurityHeadersMiddleware(App(), **options)
