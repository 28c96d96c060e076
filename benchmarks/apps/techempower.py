"""What the TechEmpower-style apps share: the data, the schema name, the template, helpers.

The database apps (``db_nightowl``, ``db_fastapi``, ``db_litestar``) map two tables in a
schema of their own, :data:`SCHEMA` (``nightowl_bench_<pid>`` unless
``$NIGHTOWL_BENCH_SCHEMA`` names one), which ``db_bench.py`` creates, fills and drops:

* ``world(id int primary key, randomnumber int)``: :data:`WORLD_ROWS` rows;
* ``fortune(id int primary key, message text)``: the 12 :data:`FORTUNES`.

Every app answers the same routes, as TechEmpower specifies them:

* ``GET /db`` -> ``{"id": n, "randomNumber": m}`` (one random ``world`` row);
* ``GET /queries?queries=N`` -> a list of N such rows, one query each (N clamped to 1..500);
* ``GET /fortunes.json`` -> every fortune plus :data:`ADDITIONAL_FORTUNE`, sorted by message;
* ``GET /fortunes`` -> the same as HTML through ``templates/fortunes.html`` (nightowl, FastAPI);
* ``GET /updates?queries=N`` -> N random rows read one by one, given new random numbers,
  written back in the request's transaction, answered as a list.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

#: The PostgreSQL schema holding this process's ``world`` and ``fortune`` tables.
SCHEMA = os.environ.get("NIGHTOWL_BENCH_SCHEMA") or f"nightowl_bench_{os.getpid()}"
#: Rows in ``world``.
WORLD_ROWS = 10_000
#: The folder of ``fortunes.html`` (Jinja2 and Django templates both read it).
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: TechEmpower's twelve fortunes, by id.
FORTUNES: list[tuple[int, str]] = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. — Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "フレームワークのベンチマーク"),
]
#: The fortune every request adds before sorting (id 0).
ADDITIONAL_FORTUNE = "Additional fortune added at request time."


class Fortune(NamedTuple):
    """An in-memory fortune (the ``fortunes_bench.py`` rows without a database)."""

    id: int
    message: str


#: The in-memory rows, as a database would return them (by id).
FORTUNE_ROWS: list[Fortune] = [Fortune(i, m) for i, m in FORTUNES]


def expected_fortunes() -> list[tuple[int, str]]:
    """What every fortunes answer must list: the 12 plus the added one, sorted by message."""
    return sorted([*FORTUNES, (0, ADDITIONAL_FORTUNE)], key=lambda row: row[1])


def clamp_queries(queries: int) -> int:
    """TechEmpower's rule for ``?queries=``: at least 1, at most 500."""
    return min(max(queries, 1), 500)


def random_id() -> int:
    """A random ``world`` id."""
    return random.randint(1, WORLD_ROWS)


@dataclass(frozen=True)
class DbConfig:
    """How every database app connects: the same URL and the same pool for all."""

    url: str  # postgresql://user@host:port/db (each app picks its async driver: asyncpg)
    pool_size: int = 16
    max_overflow: int = 0

    def asyncpg_url(self) -> str:
        """The URL with SQLAlchemy's asyncpg driver named."""
        scheme, _, rest = self.url.partition("://")
        return f"{scheme.split('+')[0]}+asyncpg://{rest}"
