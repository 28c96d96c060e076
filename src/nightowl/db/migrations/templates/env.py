"""Alembic's environment for this project's migrations.

nightowl runs it (`nightowl makemigrations`, `nightowl migrate`) and does the work in
nightowl.db.migrations, so a newer nightowl keeps it up to date: leave it as it is.
"""

from nightowl.db.migrations import run_env

run_env()
