"""Django's admin over the admin benchmark's tables (``benchmarks/admin_bench.py``).

The models are ``managed = False`` views of the tables the benchmark fills; Django's own
tables (users, sessions, content types) live in a schema of their own,
``django_side``, first on the connection's ``search_path``.
"""
