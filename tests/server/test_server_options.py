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
