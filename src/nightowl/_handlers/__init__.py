"""The compiled-handler machinery: each handler's signature, compiled once into a plan.

Contract (README.md beside this file says the same, with the map of the modules).

At startup, once per route (the app compiles its routes on the first request, on
``startup()``, or when the OpenAPI document is first asked for):

- :mod:`~nightowl._handlers.analysis` reads the signature into a
  :class:`~nightowl._handlers.dependant.Dependant`: each parameter's source
  (:class:`nightowl.params.Source`), name on the wire, type, default and whether it is
  required; its dependencies and connection values (``Request``...). The annotation
  helpers are :mod:`~nightowl._handlers.annotations`, the only place that takes
  ``Optional`` and ``Annotated`` apart.
- :mod:`~nightowl._handlers.readers` builds one validator per field and one per body.
- :mod:`~nightowl._handlers.plan` makes the tree of plans (the handler's, its
  dependencies').
- :mod:`~nightowl._handlers.render` settles the response model, its validator and
  serializer.
- :mod:`~nightowl._handlers.runners` picks the runner: a direct one when the handler
  needs nothing but the request, else the planned one.
- :mod:`~nightowl._handlers.compiler` ties these together into a
  :class:`~nightowl._handlers.compiler.CompiledRoute`, which the app's route table and the
  OpenAPI generator both read.

Per request, only: lookups (path, query, headers, cookies, body), validation with the
validators built at startup, the dependencies (once each, cached per request), the call,
the ``after_handler`` hooks, rendering through the response model, the
``before_response`` hooks and the send (:mod:`~nightowl._handlers.sending`, the one way a
result is sent); then background tasks and the cleanup of generator dependencies. No
``inspect``, no type hints read, no validator or model built. Errors become responses in
one place, the app's :meth:`nightowl._errors.ExceptionHandlers.send`.

What it may import: the core (``types``, ``exceptions``, ``datastructures``,
``requests``, ``responses``, ``background``, ``_concurrency``) and, from the framework,
``params`` (the markers), ``routing`` (the route types), ``_errors`` (the exception
handlers) and ``websockets`` (the ``WebSocket`` type). Never the app, ``openapi``, a
middleware or a battery: they import it. ``tests/test_layers.py`` holds it to this.

This package imports nothing itself: import from its modules.
"""
