"""``fastapi.param_functions``: nightowl's parameter markers (``Query``, ``Depends``...)."""

from nightowl.params import Body, Cookie, Depends, File, Form, Header, Path, Query, Security

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query", "Security"]
