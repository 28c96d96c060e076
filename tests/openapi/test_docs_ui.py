"""/docs and /redoc in a real headless Chromium, with every non-local request blocked.

The pages must render the operations from the app's own copy of the UI assets, and
Swagger UI's Authorize dialog must add the API key to a request that then succeeds.
"""

import importlib.util
import os
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit

import pytest

from nightowl import App, Depends, HTTPException
from nightowl.openapi import find_redoc, find_swagger_ui
from nightowl.security import APIKeyHeader

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright is not installed"
    ),
]

KEY = "let-me-in"


def _browser_app() -> App:
    app = App(title="Browser test")
    api_key = APIKeyHeader("X-API-Key")

    def check(key: Annotated[str, Depends(api_key)]) -> str:
        if key != KEY:
            raise HTTPException(403, "Wrong key.")
        return key

    @app.get("/secret")
    def read_secret(key: Annotated[str, Depends(check)]) -> dict[str, bool]:
        """Read the secret."""
        return {"ok": True}

    @app.get("/items/{item_id}")
    def get_item(item_id: int) -> dict[str, int]:
        """Fetch one item."""
        return {"id": item_id}

    return app


@pytest.fixture
def page() -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page that can reach 127.0.0.1 only; also the list of blocked URLs."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context()
            context.route("**/*", only_local)
            yield context.new_page(), blocked
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.skipif(find_swagger_ui() is None, reason="no package ships Swagger UI here")
def test_swagger_ui_renders_offline_and_authorize_works(
    page: tuple[Any, list[str]], serve: Callable[[App], str]
) -> None:
    tab, blocked = page
    base = serve(_browser_app())
    tab.goto(base + "/docs")
    tab.get_by_text("Read the secret.").wait_for(timeout=15_000)
    assert tab.get_by_text("Fetch one item.").is_visible()
    assert blocked == []

    # Authorize with the API key.
    tab.locator(".auth-wrapper .authorize").click()
    dialog = tab.locator(".dialog-ux")
    dialog.locator("input").fill(KEY)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()

    # Try the protected operation: the request carries the key and succeeds.
    operation = tab.locator("#operations-default-read_secret")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    with tab.expect_response(lambda r: r.url.endswith("/secret")) as answer:
        operation.locator("button.execute").click()
    response = answer.value
    assert response.status == 200
    assert response.request.headers.get("x-api-key") == KEY
    assert response.json() == {"ok": True}
    assert blocked == []


@pytest.mark.slow
def test_redoc_renders_offline(page: tuple[Any, list[str]], serve: Callable[[App], str]) -> None:
    tab, blocked = page
    base = serve(_browser_app())
    response = tab.goto(base + "/redoc")
    assert response is not None and response.status == 200
    if find_redoc() is None:
        # No installed package ships ReDoc: the page points at the CDN, which is blocked here.
        assert any("redoc" in url for url in blocked)
        pytest.skip("no package ships ReDoc here; only the page itself was checked")
    tab.get_by_text("Read the secret.").first.wait_for(timeout=15_000)
    assert tab.get_by_text("Fetch one item.").first.is_visible()
    # ReDoc's sidebar tries to load Redocly's logo from its CDN and hides it when that
    # fails; nothing else may leave the machine.
    assert [url for url in blocked if not url.endswith("/logo-mini.svg")] == []


def test_docs_can_be_turned_off(serve: Callable[[App], str]) -> None:
    import httpx

    base = serve(App(docs_url=None, redoc_url=None))
    with httpx.Client(base_url=base) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        assert client.get("/openapi.json").status_code == 200
