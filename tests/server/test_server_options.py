"""``nightowl._server`` refuses option sets that cannot work, before starting anything."""

from __future__ import annotations

import pytest

from nightowl import App
from nightowl._server import find_main_import_string, serve
from nightowl.exceptions import ImproperlyConfigured


@pytest.mark.parametrize(
    "options",
    [{"workers": 2}, {"reload": True}, {"server": "granian"}],
    ids=["workers", "reload", "granian"],
)
def test_an_app_object_cannot_be_served_by_new_processes(options: dict[str, object]) -> None:
    with pytest.raises(ImproperlyConfigured, match="import string"):
        serve(App(), **options)  # type: ignore[arg-type]


def test_granian_cannot_reload() -> None:
    with pytest.raises(ImproperlyConfigured, match="only supported with uvicorn"):
        serve("app:app", server="granian", reload=True)


def test_unknown_server() -> None:
    with pytest.raises(ImproperlyConfigured, match="Unknown server 'hypercorn'"):
        serve("app:app", server="hypercorn")  # type: ignore[arg-type]


def test_an_app_that_is_not_a_global_of_main_has_no_import_string() -> None:
    assert find_main_import_string(App()) is None


@pytest.mark.parametrize("limits", [{"max_header_size": 100}, {"max_headers": 0}])
def test_header_limits_that_would_refuse_every_request(limits: dict[str, int]) -> None:
    with pytest.raises(ImproperlyConfigured, match="max_header_size must be at least 1024"):
        serve("app:app", **limits)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "served"),
    [({}, "nightowl._ws_protocol:BroadcastWebSocketProtocol"), ({"ws": "wsproto"}, "wsproto")],
    ids=["default", "named"],
)
def test_websockets_are_served_by_nightowls_protocol_unless_another_is_named(
    monkeypatch: pytest.MonkeyPatch, given: dict[str, str], served: str
) -> None:
    import uvicorn

    from nightowl._guard import MAX_HEADER_SIZE_ENV, MAX_HEADERS_ENV

    for name in (MAX_HEADER_SIZE_ENV, MAX_HEADERS_ENV):
        monkeypatch.setenv(name, "")  # serve() sets them; undone after the test
    options: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: options.update(kwargs))
    serve(App(), **given)  # type: ignore[arg-type]
    assert options["ws"] == served
