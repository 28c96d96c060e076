"""Log lines a request cannot forge, with time, level and request id."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator

import pytest

from nightowl._logging import REQUEST_ID, logging_config, printable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/users/7", "/users/7"),
        ("/x\r\nFORGED", "/x\\r\\nFORGED"),
        ("\x1b[2J\x00\x7f\x85", "\\x1b[2J\\x00\\x7f\\x85"),
        ("a\u2028b\tc\\", "a\\u2028b\\tc\\\\"),
        ("café ☕", "café ☕"),
    ],
)
def test_printable_escapes_what_could_end_a_line(text: str, expected: str) -> None:
    assert printable(text) == expected


@pytest.fixture
def configured(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Whatever the test configures is undone after it."""
    names = ["", *logging_config()["loggers"]]
    saved = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level) for name in names
    }
    yield
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers[:] = handlers
        logger.setLevel(level)


def _configure(log_format: str) -> None:
    config = logging_config("info", log_format)  # type: ignore[arg-type]
    config["handlers"]["default"]["stream"] = "ext://sys.stdout"
    logging.config.dictConfig(config)


def test_text_lines_carry_time_level_logger_and_request_id(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure("text")
    token = REQUEST_ID.set("abc123")
    try:
        logging.getLogger("granian.access").info("%(path)s", {"path": "/a\r\nFORGED"})
    finally:
        REQUEST_ID.reset(token)
    line = capsys.readouterr().out
    assert line.count("\n") == 1
    assert " INFO granian.access [abc123] /a\\r\\nFORGED" in line
    assert line[:4].isdigit()  # the time comes first


def test_json_lines_are_one_object_each(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _configure("json")
    try:
        raise RuntimeError("kaboom")
    except RuntimeError:
        logging.getLogger("nightowl.error").exception("failed on %s", "/x\r\nFORGED")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "nightowl.error"
    assert entry["message"] == "failed on /x\r\nFORGED"  # JSON escapes it, on one line
    assert entry["request_id"] == "-"
    assert entry["time"].endswith("Z")
    assert "RuntimeError: kaboom" in entry["exception"]


def test_unknown_levels_and_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        logging_config("info", "xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log level"):
        logging_config("loud")


def _logged_failure(
    log_format: str, error: BaseException, capsys: pytest.CaptureFixture[str]
) -> str:
    _configure(log_format)
    try:
        raise error
    except BaseException:
        logging.getLogger("nightowl.error").exception("Request failed")
    return capsys.readouterr().out


def test_an_exception_message_cannot_forge_a_text_log_line(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = "\n2001-01-01 09:41:07,123 INFO nightowl.auth [-] admin logged in"
    error = ValueError("invalid literal: 'x" + forged + "\x1b[2J'")
    error.add_note("while reading " + forged)
    try:
        try:
            raise error
        except ValueError as cause:
            raise KeyError("first\r\nFORGED") from cause
    except KeyError as exc:
        chained = exc
    out = _logged_failure("text", chained, capsys)
    lines = out.splitlines()
    assert not any(line.startswith("2001-01-01") for line in lines)
    assert "ValueError: invalid literal: 'x\\n2001-01-01 09:41:07,123 INFO" in out
    assert "\\x1b[2J" in out and "\x1b" not in out
    assert "while reading \\n2001-01-01" in out
    assert "KeyError: 'first\\r\\nFORGED'" in out
    # Still a readable traceback: both exceptions, with their frames.
    assert lines[0].endswith("ERROR nightowl.error [-] Request failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert "The above exception was the direct cause of the following exception:" in lines
    assert any(line.startswith('  File "') and "_logged_failure" in line for line in lines)


def test_exception_groups_and_plain_tracebacks_keep_their_shape(
    configured: None, capsys: pytest.CaptureFixture[str]
) -> None:
    group = ExceptionGroup("two failed", [OSError("disk\nFORGED"), ValueError("fine")])
    out = _logged_failure("text", group, capsys)
    assert "OSError: disk\\nFORGED" in out
    assert not any(line.startswith("FORGED") for line in out.splitlines())
    assert "ValueError: fine" in out and "ExceptionGroup: two failed (2 sub-exceptions)" in out
    plain = _logged_failure("text", RuntimeError("kaboom"), capsys).splitlines()
    assert plain[-1] == "RuntimeError: kaboom" and plain[1] == "Traceback (most recent call last):"
    assert _logged_failure("json", RuntimeError("a\nb"), capsys).count("\n") == 1
