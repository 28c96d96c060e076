"""``fastapi.params``: nightowl's parameter marker classes."""

from nightowl.params import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Param,
    Path,
    Query,
    Security,
)

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Param",
    "Path",
    "Query",
    "Security",
]
