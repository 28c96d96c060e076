"""``fastapi.background``: nightowl's ``BackgroundTasks``."""

from nightowl.background import BackgroundTasks

__all__ = ["BackgroundTasks"]
