"""``fastapi.datastructures``: nightowl's ``UploadFile``, ``FormData``, ``Headers``..."""

from nightowl.datastructures import URL, FormData, Headers, QueryParams, State, UploadFile

__all__ = ["URL", "FormData", "Headers", "QueryParams", "State", "UploadFile"]
