"""``fastapi.encoders``: nightowl's ``jsonable_encoder``."""

from nightowl.encoders import jsonable_encoder

__all__ = ["jsonable_encoder"]
