"""``fastapi.concurrency``: nightowl's ``run_in_threadpool`` and ``iterate_in_threadpool``."""

from nightowl._concurrency import iterate_in_threadpool, run_in_threadpool

__all__ = ["iterate_in_threadpool", "run_in_threadpool"]
