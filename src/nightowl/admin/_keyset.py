"""Keyset ("seek") pagination of the change list: the boundary key a page link carries,
signed, and the ``WHERE`` that starts a page right after (or before) it.

A next or previous link carries ``k``, the sort key of the row the page follows (or
precedes), in a token signed (with itsdangerous) by the app's secret key, salted with
the list it was made for (the search, the filters, the order and the page number). The
database then seeks to that key on the ordering's index instead of skipping ``OFFSET``
rows. A token that was changed, or that belongs to another list, is a
:class:`BadParameter` (a 400); its values are read back by the columns' types and bound
as parameters, never written into SQL.

Keysets need an ordering of plain columns of the model's own table that cannot be
``NULL`` (the primary key is always the last one); other orderings page by offset.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, and_, false, literal, or_, tuple_
from sqlalchemy.orm import ColumnProperty

from nightowl.admin._filters import BadParameter

__all__ = ["Cursor", "Keyset"]

_SALT = "nightowl.admin.keyset"
_DAMAGED = "The page link (k) is damaged or was made for another list; start again from page 1."


@dataclass(frozen=True, slots=True)
class Cursor:
    """A page boundary: the rows ``after`` (else before) the sort key ``values``."""

    after: bool
    values: tuple[Any, ...]


class Keyset:
    """The keyset of one ordering: how to read a row's key, sign it, and seek past it.

    ``ordering`` is the list's ``(column attribute, descending)`` pairs, the primary key
    last; :attr:`usable` is ``False`` when one of them is not a plain ``NOT NULL`` column
    of ``table`` with a known Python type.
    """

    __slots__ = ("descending", "expressions", "keys", "types", "usable")

    def __init__(self, ordering: list[tuple[Any, bool]], table: Any) -> None:
        self.expressions = [expression for expression, _ in ordering]
        self.descending = [descending for _, descending in ordering]
        self.keys: list[str] = []
        self.types: list[type[Any]] = []
        self.usable = True
        for expression in self.expressions:
            prop = getattr(expression, "property", None)
            if not isinstance(prop, ColumnProperty):
                self.usable = False
                return
            column = prop.columns[0]
            if getattr(column, "table", None) is not table:
                self.usable = False
                return
            if column.nullable and not column.primary_key:
                self.usable = False
                return
            try:
                python_type = column.type.python_type
            except NotImplementedError:
                self.usable = False
                return
            self.keys.append(prop.key)
            self.types.append(python_type)

    def key_of(self, obj: Any) -> tuple[Any, ...]:
        """The sort key of one object."""
        return tuple(getattr(obj, key) for key in self.keys)

    # -- the token ----------------------------------------------------------------------------
    @staticmethod
    def _serializer(secret: str, context: str) -> URLSafeSerializer:
        # The list goes into the salt: a token made for another list fails its signature.
        return URLSafeSerializer(
            secret,
            salt=f"{_SALT}|{context}",
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def encode(self, cursor: Cursor, secret: str, context: str) -> str:
        """The signed token of ``cursor`` for the list described by ``context``."""
        payload = [1 if cursor.after else 0, [_dump(value) for value in cursor.values]]
        return self._serializer(secret, context).dumps(payload)

    def decode(self, token: str, secret: str, context: str) -> Cursor:
        """The cursor in ``token``; :class:`BadParameter` if it is not one this list signed."""
        try:
            after, values = self._serializer(secret, context).loads(token)
            if after not in (0, 1) or len(values) != len(self.types):
                raise ValueError(after)
            loaded = tuple(_load(v, kind) for v, kind in zip(values, self.types, strict=True))
        except (BadSignature, ValueError, TypeError, KeyError, decimal.InvalidOperation):
            raise BadParameter(_DAMAGED) from None
        return Cursor(bool(after), loaded)

    # -- the seek -----------------------------------------------------------------------------
    def seek(
        self, cursor: Cursor, inclusive: bool = False, expressions: list[Any] | None = None
    ) -> ColumnElement[bool]:
        """The rows past ``cursor`` in its direction (the boundary row too if
        ``inclusive``). One row comparison, ``(a, b) < (:a, :b)``, when every column
        sorts the same way (an index range scan); else the expanded ``OR``.
        ``expressions`` stand for the ordering's columns (those of an alias)."""
        # ``greater``: in the direction of reading, the next rows have greater values.
        greater = [descending != cursor.after for descending in self.descending]
        columns = self.expressions if expressions is None else expressions
        # Plain values are bound with their column's type (``published < :v`` for a
        # boolean, an enum's name); the anchors' walk passes columns.
        values = [
            v if isinstance(v, ColumnElement) else literal(v, type_=e.type)
            for v, e in zip(cursor.values, self.expressions, strict=True)
        ]
        if all(greater) or not any(greater):
            left, right = tuple_(*columns), tuple_(*values)
            if greater[0]:
                return left >= right if inclusive else left > right
            return left <= right if inclusive else left < right
        clauses: list[ColumnElement[bool]] = []
        for index, expression in enumerate(columns):
            equal = [columns[i] == values[i] for i in range(index)]
            step = expression > values[index] if greater[index] else expression < values[index]
            clauses.append(and_(*equal, step))
        if inclusive:
            clauses.append(and_(*(e == v for e, v in zip(columns, values, strict=True))))
        return or_(false(), *clauses)


def _dump(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def _load(value: Any, kind: type[Any]) -> Any:
    """A JSON value back as ``kind``; ``ValueError`` or ``TypeError`` if it is not one."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind[value]
    if kind in (datetime.datetime, datetime.date, datetime.time):
        if not isinstance(value, str):
            raise TypeError(value)
        return kind.fromisoformat(value)
    if kind in (decimal.Decimal, uuid.UUID):
        return kind(str(value))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not kind:
        raise TypeError(value)
    return value
