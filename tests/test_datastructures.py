"""Headers, query strings and other request/response data structures."""

import pytest

from nightowl.datastructures import Headers, MutableHeaders, QueryParams, parse_query_dict
from nightowl.exceptions import HTTPException


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    headers = Headers(
        raw=[(b"accept", b"a"), (b"Accept", b"b"), (b"cookie", b"x=1"), (b"cookie", b"y=2")]
    )
    assert headers["ACCEPT"] == "a, b"
    assert headers.getlist("accept") == ["a", "b"]
    assert headers["cookie"] == "x=1; y=2"
    assert "Accept" in headers and "missing" not in headers


def test_mutable_headers_replace_and_delete_mixed_case_raw_names() -> None:
    headers = MutableHeaders(raw=[(b"Content-Length", b"5"), (b"X-A", b"1")])
    headers["content-length"] = "3"
    assert headers.raw.count((b"content-length", b"3")) == 1
    assert [k for k, _ in headers.raw].count(b"Content-Length") == 0
    del headers["x-a"]
    assert "x-a" not in headers


def test_vary_is_added_once() -> None:
    headers = MutableHeaders()
    headers.add_vary_header("Origin")
    headers.add_vary_header("origin")
    headers.add_vary_header("Accept-Encoding")
    assert headers["vary"] == "Origin, Accept-Encoding"


def test_query_parsing_is_strict() -> None:
    assert QueryParams(b"a=1&a=2&b=x+y&c").getlist("a") == ["1", "2"]
    assert QueryParams(b"b=x+y")["b"] == "x y"
    assert parse_query_dict(b"a=1&a=2&e=%C3%A9") == {"a": "2", "e": "é"}
    for bad in (b"a=%zz", b"a=%ff", b"a=%"):
        with pytest.raises(HTTPException) as info:
            parse_query_dict(bad)
        assert info.value.status_code == 400
