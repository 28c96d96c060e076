"""``fastapi.openapi``: the helpers FastAPI programs use to serve their own docs pages."""
