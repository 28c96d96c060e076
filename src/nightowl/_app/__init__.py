"""The parts of :class:`nightowl.App`, one job each, stacked on :class:`~nightowl.routing.Router`.

- :mod:`.compiling`: turns the registered routes into the route tables served (on first
  use, again after any change) and the OpenAPI document built from them.
- :mod:`.lifespan`: startup and shutdown hooks, the ``lifespan=`` context, and the ASGI
  lifespan protocol.
- :mod:`.serving`: the ASGI entry point: the middleware stack, HTTP dispatch (mounts,
  405, slash redirects, 404) and WebSocket dispatch.
- :mod:`.hooks`: what users and batteries configure: providers, middleware, mounts,
  static files, exception handlers, CLI commands.

``nightowl.app`` joins them into ``App`` and keeps its constructor; the attributes each
part reads are declared at the top of its class and set by ``App.__init__``.
"""
